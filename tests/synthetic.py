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


def synthetic_report(seconds: float = 600.0, fps: float = 30.0, frame_skip: int = 2, seed: int = 0,
                     no_face: tuple[tuple[float, float], ...] = ((95.0, 130.0), (400.0, 402.0)),
                     second_face_every: int = 0, source: str = "synthetic_interview.mp4"):
    """A VideoReport as an interview of ``seconds`` at ``fps`` analysed every ``frame_skip``-th frame would give:
    a mostly Neutral face with bursts of other emotions, no face in the ``no_face`` spans (seconds), and a second,
    smaller face in every ``second_face_every``-th frame (0: never). No video and no model needed."""
    from runtime.manifest import FER2013_LABELS
    from runtime.report import FrameResult, expressiveness_from_emotions, summarize
    from runtime.results import Box, Classification, Face

    rng = np.random.default_rng(seed)
    indices = np.arange(0, int(seconds * fps), frame_skip)
    logits = np.zeros((len(indices), len(FER2013_LABELS)))
    steps = rng.normal(0, 0.35, logits.shape)
    for i in range(1, len(indices)):  # slowly wandering expressions (an AR(1) process per emotion)
        logits[i] = 0.97 * logits[i - 1] + steps[i]
    logits[:, FER2013_LABELS.index("Neutral")] += 2.5
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    timeline, kept = [], []
    for i, (index, p) in enumerate(zip(indices, probs)):
        time = index / fps
        if any(start <= time < end for start, end in no_face):
            timeline.append(FrameResult(int(index), time, ()))
            continue
        emotion = Classification(FER2013_LABELS, tuple(float(v) for v in p))
        faces = [Face(Box(200.0, 120.0, 160.0, 160.0), 0.93, emotion)]
        if second_face_every and i % second_face_every == 0:
            faces.append(Face(Box(20.0, 30.0, 40.0, 40.0), 0.7, emotion))
        timeline.append(FrameResult(int(index), time, tuple(faces)))
        kept.append(p)
    expressiveness = expressiveness_from_emotions(np.array(kept).reshape(-1, len(FER2013_LABELS)), FER2013_LABELS)
    return summarize(timeline, FER2013_LABELS, expressiveness, source=source, fps=fps,
                     frames_read=int(seconds * fps))
