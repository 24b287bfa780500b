"""fer-analyze's inputs: what kind the input is (an image, a folder of images, a video, a webcam), and an image file
read as ``cv2.imread`` gives it to users of the API."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from runtime.outputs import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from runtime.video import check_source


def input_kind(text: str) -> tuple[str, Path | int]:
    """("camera", index), ("folder", path), ("image", path) or ("video", path) for the command line's input.

    Raises:
        FileNotFoundError: no such path. ValueError: an unsupported file or webcam index.
    """
    if re.fullmatch(r"[+-]?[0-9]+", text):
        return "camera", check_source(int(text))
    path = Path(text)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    if path.is_dir():
        return "folder", path
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image", path
    if suffix in VIDEO_SUFFIXES:
        return "video", path
    raise ValueError(f"unsupported input {path.name!r}: expected an image ({', '.join(IMAGE_SUFFIXES)}), "
                     f"a video ({', '.join(VIDEO_SUFFIXES)}), a folder or a webcam index")


def read_image(path: Path) -> np.ndarray:
    """The image as ``cv2.imread`` gives it to API users: turned upright by its EXIF orientation (a phone's photo),
    gray or BGR; 16 bits per channel scaled to 8 (value / 257, never stretched per image), float ones from 0..1."""
    image = cv2.imread(str(path), cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH)
    if image is None:
        raise ValueError(f"cannot read image {path}: not a readable image file")
    if image.dtype == "uint16":
        image = cv2.convertScaleAbs(image, alpha=1.0 / 257.0)
    elif image.dtype.kind == "f":
        image = cv2.convertScaleAbs(np.nan_to_num(image), alpha=255.0)
    elif image.dtype != "uint8":
        image = cv2.convertScaleAbs(image)
    return image


def folder_images(folder: Path) -> list[Path]:
    """The folder's image files by name.

    Raises:
        ValueError: it holds none.
    """
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {folder}")
    return paths
