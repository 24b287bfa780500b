"""Frame sources: video files and webcams through OpenCV, read one frame at a time, problems recorded."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

MAX_CONSECUTIVE_FAILURES = 8  # unreadable frames in a row before a file is taken to have ended


class FrameReader:
    """Iterates (index, timestamp in seconds or None, BGR frame) over a video file or webcam, never holding more
    than one frame. Every ``frame_skip``-th frame is decoded; the others are only grabbed. Problems (a file that
    ends before the frame count it announced, unreadable frames) are logged and kept in ``warnings``.

    Raises (on construction):
        FileNotFoundError: a video path that does not exist.
        ValueError: a source OpenCV cannot open as video, or bad frame_skip / max_frames.
    """

    def __init__(self, source: str | Path | int, frame_skip: int = 1, max_frames: int | None = None) -> None:
        if frame_skip < 1:
            raise ValueError(f"frame_skip must be >= 1, got {frame_skip}")
        if max_frames is not None and max_frames < 1:
            raise ValueError(f"max_frames must be >= 1 or None, got {max_frames}")
        self.source = source
        self.frame_skip = frame_skip
        self.max_frames = max_frames
        self.is_camera = isinstance(source, int)
        if not self.is_camera and not Path(source).is_file():
            raise FileNotFoundError(f"video not found: {source}")
        self._capture = cv2.VideoCapture(source if self.is_camera else str(source))
        if not self._capture.isOpened():
            self._capture.release()
            kind = "webcam" if self.is_camera else "video"
            raise ValueError(f"cannot open {kind} {source!r}: not a readable video source")
        self.fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.announced_frames = count if count > 0 and not self.is_camera else None
        self.frames_read = 0
        self.unreadable_frames = 0
        self.warnings: list[str] = []

    @property
    def complete(self) -> bool:
        return not self.warnings

    def _warn(self, message: str) -> None:
        log.warning("%s: %s", self.source, message)
        self.warnings.append(message)

    def __iter__(self) -> Iterator[tuple[int, float | None, np.ndarray]]:
        analyzed = 0
        failures = 0
        index = 0
        limit_reached = False
        try:
            while True:
                if self.max_frames is not None and analyzed >= self.max_frames:
                    limit_reached = True
                    break
                wanted = index % self.frame_skip == 0
                ok = self._capture.grab()
                frame = self._capture.retrieve()[1] if ok and wanted else None
                if not ok or (wanted and frame is None):
                    if self.is_camera or self.announced_frames is None or index >= self.announced_frames:
                        break
                    failures += 1
                    self.unreadable_frames += 1
                    if failures >= MAX_CONSECUTIVE_FAILURES:
                        self.unreadable_frames -= failures  # a run of failures up to the end is the end
                        break
                    index += 1
                    continue
                failures = 0
                self.frames_read = index + 1
                if wanted:
                    analyzed += 1
                    yield index, (index / self.fps if self.fps > 0 else None), frame
                index += 1
        finally:
            self._capture.release()
        self._check_end(limit_reached)

    def _check_end(self, limit_reached: bool) -> None:
        if self.unreadable_frames:
            self._warn(f"{self.unreadable_frames} unreadable frame(s) skipped")
        if self.announced_frames and self.frames_read < self.announced_frames and not limit_reached:
            self._warn(f"the video ended early: {self.frames_read} of {self.announced_frames} announced frames read")
