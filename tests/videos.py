"""Generated videos for tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_video(path: Path, frames: int, size: tuple[int, int] = (64, 48), fps: float = 10.0,
                image: np.ndarray | None = None) -> Path:
    """An MJPG .avi (or mp4v .mp4) whose frame i has brightness 8*i (or shows ``image``)."""
    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if path.suffix == ".avi" else "mp4v"))
    if image is not None:
        size = (image.shape[1], image.shape[0])
    writer = cv2.VideoWriter(str(path), fourcc, fps, size)
    for i in range(frames):
        writer.write(image if image is not None else np.full((size[1], size[0], 3), (8 * i) % 256, np.uint8))
    writer.release()
    return path


def truncate(path: Path, fraction: float = 0.5) -> Path:
    """Cuts a file to a fraction of its bytes: a video that ends early."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    """An MJPG .avi of the given BGR frames (all of one size)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path
