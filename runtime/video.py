"""Frame sources: video files and webcams through OpenCV, read one frame at a time, problems recorded."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

# Unreadable frames in a row before a file is taken to have ended. OpenCV goes on past a damaged stretch (each
# failed grab consumes one frame: an MJPG video with frames 100-131 overwritten read 100 good, 32 failed, 118 good
# frames), so a stretch is skipped and reported rather than ending the analysis; a failing grab costs microseconds.
MAX_CONSECUTIVE_FAILURES = 1000
MAX_WEBCAM_INDEX = 99  # OpenCV reads larger numbers as a backend choice plus an index


def check_source(source: object) -> str | Path | int:
    """A video path or a webcam index (0..MAX_WEBCAM_INDEX); OpenCV crashes on some bad indices (-1 segfaults).

    Raises:
        ValueError: anything else (a bool, a negative or too large index, None, bytes, ...).
    """
    if isinstance(source, (bool, np.bool_)):
        raise ValueError(f"source must be a video path or a webcam index, got {source!r}")
    if isinstance(source, (int, np.integer)):
        if not 0 <= int(source) <= MAX_WEBCAM_INDEX:
            raise ValueError(f"webcam index must be 0..{MAX_WEBCAM_INDEX}, got {source}")
        return int(source)
    if isinstance(source, (str, Path)) and str(source):
        return source
    raise ValueError(f"source must be a video path (str or Path) or a webcam index, got {type(source).__name__}")


def check_smoothing(smoothing: object) -> None:
    """An EMA factor must be None or a finite number in (0, 1]."""
    if smoothing is None:
        return
    if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)) or not 0.0 < smoothing <= 1.0:
        raise ValueError(f"smoothing must be a number in (0, 1] or None, got {smoothing!r}")


def check_fps(fps: object) -> None:
    """A frame rate must be None or a finite positive number."""
    if fps is None:
        return
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number or None, got {fps!r}")


def check_count(value: object, name: str, optional: bool = False) -> None:
    """``value`` must be an int >= 1 (bool is not a count); None too when ``optional``."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1{' or None' if optional else ''}, got {value!r}")


class FrameReader:
    """Iterates (index, timestamp in seconds or None, BGR frame) over a video file or webcam, never holding more
    than one frame. Every ``frame_skip``-th frame is decoded; the others are only grabbed. Problems (a file that
    ends before the frame count it announced, unreadable frames) are logged and kept in ``warnings``.

    Raises (on construction):
        FileNotFoundError: a video path that does not exist.
        ValueError: a source OpenCV cannot open as video, or bad frame_skip / max_frames.
    """

    def __init__(self, source: str | Path | int, frame_skip: int = 1, max_frames: int | None = None) -> None:
        source = check_source(source)
        check_count(frame_skip, "frame_skip")
        check_count(max_frames, "max_frames", optional=True)
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
            raise ValueError(f"cannot open {kind} {source}: not a readable video source")
        self.warnings: list[str] = []
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if math.isfinite(fps) and fps > 0 else 0.0
        if self.fps == 0.0 and not self.is_camera:
            self._warn(f"the video gives no usable frame rate ({fps}): frames have no timestamps")
        count = float(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.announced_frames = int(count) if math.isfinite(count) and count > 0 and not self.is_camera else None
        self.frames_read = 0
        self.frames_analyzed = 0
        self.damaged: list[tuple[int, int]] = []  # first and last index of each unreadable stretch that was skipped

    @property
    def complete(self) -> bool:
        return not self.warnings

    @property
    def unreadable_frames(self) -> int:
        """Frames lost in damaged stretches that reading went past."""
        return sum(last - first + 1 for first, last in self.damaged)

    def close(self) -> None:
        """Releases the video or webcam (also one never read); reading it afterwards yields no frame."""
        self._capture.release()

    def stop(self, reason: str) -> None:
        """Ends reading before the end (``reason``: why, e.g. a user's Ctrl-C): the damaged stretches met so far and
        the stop itself are recorded as warnings, so the report is marked incomplete; then closes the source."""
        if self.damaged:
            self._warn_damaged()
        count = self.frames_analyzed
        self._warn(f"{reason} after {count} analyzed frame{'' if count == 1 else 's'}")
        self.close()

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
                    if failures >= MAX_CONSECUTIVE_FAILURES:
                        break  # a run of failures up to the end is the end
                    index += 1
                    continue
                if failures:
                    self.damaged.append((index - failures, index - 1))
                    failures = 0
                self.frames_read = index + 1
                if wanted:
                    analyzed += 1
                    self.frames_analyzed = analyzed
                    yield index, (index / self.fps if self.fps > 0 else None), frame
                index += 1
        finally:
            self._capture.release()
        self._check_end(limit_reached)

    def _span(self, first: int, last: int) -> str:
        frames = f"frames {first}-{last}" if last > first else f"frame {first}"
        return f"{frames} ({first / self.fps:.2f}-{(last + 1) / self.fps:.2f} s)" if self.fps else frames

    def _warn_damaged(self) -> None:
        self._warn(f"{self.unreadable_frames} unreadable frame(s) skipped in {len(self.damaged)} damaged "
                   f"stretch(es): {', '.join(self._span(*stretch) for stretch in self.damaged)}")

    def _check_end(self, limit_reached: bool) -> None:
        if self.damaged:
            self._warn_damaged()
        if self.announced_frames and self.frames_read < self.announced_frames and not limit_reached:
            self._warn(f"the video ended early: {self.frames_read} of {self.announced_frames} announced frames read")


def progress_bar(reader: FrameReader) -> Iterator:
    """The reader's frames with a tqdm progress bar on stderr (plain frames when tqdm is missing)."""
    try:
        from tqdm import tqdm
    except ImportError:
        yield from reader
        return
    total = None
    if reader.announced_frames:
        total = -(-reader.announced_frames // reader.frame_skip)
        if reader.max_frames:
            total = min(total, reader.max_frames)
    yield from tqdm(reader, total=total, unit="frame", desc=Path(str(reader.source)).name, leave=False)
