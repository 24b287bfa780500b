"""Generated faces for tests: seven classes of 48x48 patterns that a tiny model learns in seconds."""

from __future__ import annotations

import numpy as np

NUM_CLASSES = 7
SIDE = 48


def synthetic_faces(count: int, seed: int = 0, side: int = SIDE) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, side, side) uint8, labels (N,)): class k is a bright blob at one of seven positions
    on a noisy background, so the classes differ and the task is learnable."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % NUM_CLASSES
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    angles = 2 * np.pi * np.arange(NUM_CLASSES) / NUM_CLASSES
    images = np.empty((count, side, side), dtype=np.uint8)
    for i, label in enumerate(labels):
        cx = side / 2 + side * 0.28 * np.cos(angles[label]) + rng.normal(0, 1.5)
        cy = side / 2 + side * 0.28 * np.sin(angles[label]) + rng.normal(0, 1.5)
        blob = 170 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (side * 0.09) ** 2))
        noise = rng.normal(50, 15, (side, side))
        images[i] = np.clip(blob + noise, 0, 255).astype(np.uint8)
    return images, labels
