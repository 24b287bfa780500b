"""Drawing results onto frames, and writing annotated videos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from runtime.results import Face

_COLOR = (60, 200, 60)


def draw_faces(frame: np.ndarray, faces: tuple[Face, ...] | list[Face]) -> np.ndarray:
    """A copy of a BGR frame with each face's box and top emotion drawn on it."""
    canvas = frame.copy()
    thickness = max(1, round(min(frame.shape[:2]) / 300))
    scale = max(0.4, min(frame.shape[:2]) / 900)
    for face in faces:
        b = face.box
        p0, p1 = (int(b.x), int(b.y)), (int(b.x + b.width), int(b.y + b.height))
        cv2.rectangle(canvas, p0, p1, _COLOR, thickness)
        text = f"{face.top_emotion} {face.emotion.top_score:.0%}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        y = max(th + base, p0[1])
        cv2.rectangle(canvas, (p0[0], y - th - base), (p0[0] + tw, y), _COLOR, -1)
        cv2.putText(canvas, text, (p0[0], y - base), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness,
                    cv2.LINE_AA)
    return canvas


class VideoWriter:
    """Writes BGR frames to an .mp4 (mp4v) or .avi (MJPG) file, opened on the first frame."""

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path = Path(path)
        self.fps = fps if fps > 0 else 25.0
        self._writer: cv2.VideoWriter | None = None

    def write(self, frame: np.ndarray) -> None:
        if self._writer is None:
            fourcc = cv2.VideoWriter_fourcc(*("MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, (frame.shape[1], frame.shape[0]))
            if not self._writer.isOpened():
                raise OSError(f"cannot write video {self.path}")
        self._writer.write(frame)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
