"""Test-time averaging: the views of each face that the emotion model reads, and the mean of their probabilities.

Two independent options, as in the FER-2013 literature's "ten-crop" evaluation:

- ``flip``: the face and its mirror image (the training's horizontal flip);
- ``crops``: the whole face and its four corner crops, each ``CROP_FRACTION`` of the side (44 of 48 px), every
  one resized to the model's input like the whole face: shifts and a zoom within the training's augmentation
  (shift 8%, zoom 10%).

Both together give 10 views per face. The views are cut from the crops as they come (any size) before the resize,
so a large face loses no detail.
"""

from __future__ import annotations

import numpy as np

CROP_FRACTION = 11 / 12
CORNERS = 4  # views that crop averaging adds to the whole face


def corner_crops(crop: np.ndarray, fraction: float = CROP_FRACTION) -> list[np.ndarray]:
    """The four corner crops of one image (H, W[, C]), each ``fraction`` of its height and width (at least 1 px)."""
    height, width = crop.shape[:2]
    h, w = max(1, round(height * fraction)), max(1, round(width * fraction))
    return [crop[:h, :w], crop[:h, width - w:], crop[height - h:, :w], crop[height - h:, width - w:]]


def crop_views(crops: list[np.ndarray], with_corners: bool) -> list[np.ndarray]:
    """View-major list: all the whole crops, then (with corners) each corner's crops in turn; len = views * N."""
    if not with_corners:
        return list(crops)
    corners = [corner_crops(crop) for crop in crops]
    return list(crops) + [corner[index] for index in range(CORNERS) for corner in corners]


def mirrored(batch: np.ndarray) -> np.ndarray:
    """A prepared batch (V*N, H, W, C) followed by its mirror images (axis 2 is the width)."""
    return np.concatenate([batch, batch[:, :, ::-1]])


def mean_over_views(probabilities: np.ndarray, faces: int) -> np.ndarray:
    """(V*N, K) view-major probabilities -> (N, K), the mean over the V views of each face."""
    return probabilities.reshape(-1, faces, probabilities.shape[-1]).mean(axis=0)


def view_count(flip: bool, crops: bool) -> int:
    """How many times the model reads each face."""
    return (2 if flip else 1) * (1 + CORNERS if crops else 1)
