"""The shared data the benchmarks read: FER-2013 PrivateTest with both label sets, and the media videos.

Locations come from ``convert.data.paths``, which honours ``$FER_EDGE_DATA`` and ``$FER2013_CSV``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from convert.data.fer2013 import load_fer2013, load_ferplus_majority
from convert.data.paths import default_fer2013, default_ferplus, media_dir

SPLIT = "PrivateTest"
SAMPLE_PHOTO = Path(__file__).resolve().parents[1] / "samples" / "astronaut.jpg"  # in the repository: one face


@dataclass(frozen=True)
class PrivateTest:
    """FER-2013 PrivateTest: faces (N, 48, 48) uint8 and two label sets (N,), -1 where a set has no label."""

    faces: np.ndarray
    labels: dict[str, np.ndarray]


def load_privatetest() -> PrivateTest | str:
    """The PrivateTest faces with the original and the FER+ majority labels, or why they cannot be loaded."""
    fer_path, ferplus_path = default_fer2013(), default_ferplus()
    if fer_path is None or not fer_path.is_file():
        return f"FER-2013 not found (set $FER2013_CSV or $FER_EDGE_DATA; looked for {fer_path})"
    faces = load_fer2013(fer_path, (SPLIT,))[SPLIT]
    labels = {"fer2013": faces.labels}
    if ferplus_path is not None:
        labels["ferplus"] = load_ferplus_majority(ferplus_path)[faces.rows]
    return PrivateTest(faces.images, labels)


@dataclass(frozen=True)
class Video:
    """A video of the media folder, as videos.csv describes it."""

    path: Path
    frames: int
    fps: float
    width: int
    height: int

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps if self.fps else float("nan")


def list_videos() -> list[Video]:
    """The videos listed in ``media_dir()/videos/videos.csv`` that exist; [] without the media folder."""
    listing = media_dir() / "videos" / "videos.csv"
    if not listing.is_file():
        return []
    with open(listing, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    videos = [Video(listing.parent / row["file"], int(row["frames_decoded"]), float(row["fps"]), int(row["width"]),
                    int(row["height"])) for row in rows]
    return [video for video in videos if video.path.is_file()]


def sample_frames(path: Path, count: int) -> list[np.ndarray]:
    """``count`` frames spread evenly over a video (BGR uint8), decoded in order."""
    capture = cv2.VideoCapture(str(path))
    try:
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        wanted = set(np.linspace(0, max(total - 1, 0), count).round().astype(int).tolist())
        frames = []
        for index in range(total):
            if not capture.grab():
                break
            if index in wanted:
                ok, frame = capture.retrieve()
                if ok:
                    frames.append(frame)
        return frames
    finally:
        capture.release()


def synthetic_crops(input_size: tuple[int, int], color: str, count: int, seed: int = 0) -> np.ndarray:
    """Random uint8 face crops already at a model's input size: gray (N, H, W) or BGR (N, H, W, 3). Latency does
    not depend on pixel values, and these need no shared data."""
    shape = (count, *input_size) if color == "gray" else (count, *input_size, 3)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
