"""Videos and reports the report-page tests share: a generated interview clip (a face, then none, then the face
again) analysed by the shipped default model, and a real interview video from the shared data when it is there."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from runtime.paths import DEFAULT_EMOTION_MODEL
from tests.videos import write_clip

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "astronaut.jpg"
DEFAULT_MODEL = REPO / "models" / DEFAULT_EMOTION_MODEL
FACE_FRAMES, NO_FACE_FRAMES, FPS = 12, 6, 10.0


def face_clip(path: Path) -> Path:
    """FACE_FRAMES of the sample photo, NO_FACE_FRAMES of grey, FACE_FRAMES of the photo again, at FPS."""
    photo = cv2.imread(str(SAMPLE))
    grey = np.full_like(photo, 128)
    return write_clip(path, [photo] * FACE_FRAMES + [grey] * NO_FACE_FRAMES + [photo] * FACE_FRAMES, FPS)


def real_interview() -> Path | None:
    """One of the shared RecruitView sample videos (None without the shared data)."""
    from convert.data.paths import data_root

    videos = sorted((data_root() / "recruitview_sample" / "videos").glob("*.mp4"))
    return videos[-1] if videos else None
