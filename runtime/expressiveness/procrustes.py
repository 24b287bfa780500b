"""Generalized Procrustes alignment of face-landmark shapes: the similarity that maps one shape onto another
(Umeyama 1991), the alignment of a video's shapes to their median, and the head pose that alignment removed."""

from __future__ import annotations

import numpy as np


def umeyama(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The similarity ``(scale, rotation (3, 3), translation (3,))`` that best maps ``source`` onto ``target``
    (both (N, 3)) in least squares, without reflection (Umeyama 1991)."""
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    s, t = source - mu_s, target - mu_t
    u, sigma, vt = np.linalg.svd(t.T @ s / len(source))
    d = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1.0
    rotation = u @ np.diag(d) @ vt
    var = (s**2).sum() / len(source)
    scale = float((sigma * d).sum() / var) if var > 0 else 1.0
    return scale, rotation, mu_t - scale * rotation @ mu_s


def align(shapes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Generalized Procrustes of shapes (N, P, 3): (aligned shapes, the reference (median) shape, rotations (N, 3, 3)
    that took each frame to the reference)."""
    reference = shapes[0] - shapes[0].mean(axis=0)
    rotations = np.zeros((len(shapes), 3, 3))
    aligned = np.empty_like(shapes)
    for _ in range(2):
        for i, shape in enumerate(shapes):
            scale, rotation, translation = umeyama(shape, reference)
            aligned[i] = scale * shape @ rotation.T + translation
            rotations[i] = rotation
        reference = np.median(aligned, axis=0)
        reference -= reference.mean(axis=0)
    return aligned, reference, rotations


def euler_degrees(rotations: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations -> (N, 3) yaw (about y), pitch (about x), roll (about z), in degrees."""
    yaw = np.arcsin(np.clip(-rotations[:, 2, 0], -1.0, 1.0))
    pitch = np.arctan2(rotations[:, 2, 1], rotations[:, 2, 2])
    roll = np.arctan2(rotations[:, 1, 0], rotations[:, 0, 0])
    return np.degrees(np.stack([yaw, pitch, roll], axis=1))
