"""Facial-activity expressiveness: how much a face moves over a video, from its landmarks, relative to itself.

Interview faces are talking faces: the emotion model calls 87-100% of their frames Neutral, so its
``1 - P(Neutral)`` hardly separates candidates (Spearman -0.10 against the experts on the RecruitView sample).
What raters see as expressive is movement: smiles, raised brows, an animated mouth, nods. Landmark-displacement
measures of expressivity (the face's deformation from its own neutral shape after removing head pose, as in the
facial-expressivity literature that scores displacement of tracked landmarks or action-unit intensities over
time) capture that, and need no training data.

Per frame (``frame_features``), from the 468 face-mesh points:

1. Pose removed: each frame is aligned to the person's own median shape over the video by a 3-D similarity
   Procrustes fit (Umeyama), two rounds (first to one frame, then to the median of the aligned frames). Sizes are
   in units of the reference's outer-eye-corner distance (landmarks 33-263, about 9 cm on an adult: 0.01 unit is
   about 1 mm), so faces near and far from the camera compare.
2. Measured on the aligned shape, along the face's own axes (eye line; chin-to-forehead): smile (mouth-corner
   spread 61-291 plus corner lift above the upper inner lip 13), mouth opening (13-14), brow height (mid-brow
   105/334 above the upper eyelid 159/386), eye opening (159-145, 386-374), and the deformation: the RMS distance
   of all points from the neutral (median aligned) shape.
3. Head pose: yaw, pitch, roll of each frame's Procrustes rotation.

Per video (``video_activity``), components a candidate can act on:

- ``smiling``: the share of face frames whose smile exceeds the person's neutral (their 10th percentile, the face
  at rest) by ``SMILE_THRESHOLD`` (0.08, about 7 mm of corner spread and lift: a visible smile, more than speech
  sounds move the corners);
- ``brow_activity``, ``mouth_activity``, ``eye_activity``: the robust spread (IQR / 1.349, so blinks and single
  glitches do not dominate) of brow height, mouth opening and eye opening;
- ``deformation``: the mean deformation from the neutral shape;
- ``head_motion``: the robust spread of head orientation, in degrees (root of the summed variances of yaw, pitch
  and roll);
- ``non_neutral``: the emotion model's mean ``1 - P(Neutral)``.

The combination. Perceived intensity grows with the logarithm of physical magnitude (Weber-Fechner), and raters
judge a face against what faces usually do, so each component enters as ``log2(value / typical)``, clipped to
+-3: 0 at the typical level of a talking face in an interview, +1 at twice it. ``TYPICAL`` holds these levels,
set a priori from facial anatomy and conversational behaviour (speech moves the inner lips by about 3-4 mm s.d.,
brows by about 1 mm, conversational head movement spans a few degrees; a candidate smiles in a minority of
frames), not fitted to any rated video. The score is the weighted sum with ``WEIGHTS``: smiling carries the
most (0.25; smiling is the facial cue most consistently tied to perceived warmth and engagement in interview
studies), overall deformation, brows, head motion (nods and head movement belong to nonverbal immediacy) and the
emotion model's reading 0.15 each, mouth 0.10 (everybody's mouth moves when they talk), eyes 0.05. One doubling of
every component over the typical face is one unit, the standard deviation of the interview scores (z-scores), so
the level follows the seed's thresholds on that scale (Reserved < -0.3 <= Balanced <= 0.3 < Expressive).

Too little face (under ``MIN_FACE_SECONDS`` of frames with landmarks, or fewer than ``MIN_FACE_FRAMES`` analyzed
frames) gives no level, with the reason.
Everything here is plain numpy; nothing needs a model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from runtime.expressiveness.procrustes import align, euler_degrees, umeyama

MIN_FACE_SECONDS = 2.0
MIN_FACE_FRAMES = 10  # spreads and percentiles of fewer frames say little, however far apart they were sampled
SMILE_THRESHOLD = 0.08  # eye-corner-distance units above the person's resting smile (about 7 mm)
NEUTRAL_PERCENTILE = 10  # the face at rest: this percentile of a feature over the video
LOG_CLIP = 3.0
SCORE_PER_DOUBLING = 1.0
ROBUST_SD = 1.349  # IQR of a normal distribution in standard deviations
REFERENCE_FRAMES = 1000  # longer videos: the reference and neutral shapes from this many evenly spaced frames
CHUNK_FRAMES = 1000  # and the frames aligned this many at a time (bounded memory; see frame_features)

# The typical level of each component for a talking face in an interview (see the module docstring).
TYPICAL: dict[str, float] = {"smiling": 0.15, "brow_activity": 0.012, "mouth_activity": 0.04,
                             "eye_activity": 0.006, "deformation": 0.025, "head_motion": 4.0, "non_neutral": 0.15}
WEIGHTS: dict[str, float] = {"smiling": 0.25, "deformation": 0.15, "brow_activity": 0.15, "head_motion": 0.15,
                             "non_neutral": 0.15, "mouth_activity": 0.10, "eye_activity": 0.05}
SHARE_FLOOR = 0.05  # added to a share before its log, so that 0% smiling is finite

# MediaPipe canonical face-mesh indices
EYE_OUTER = (33, 263)
MOUTH_CORNERS = (61, 291)
UPPER_LIP, LOWER_LIP = 13, 14
BROWS = (105, 334)
UPPER_LIDS, LOWER_LIDS = (159, 386), (145, 374)
FOREHEAD, CHIN = 10, 152
NUM_POINTS = 468


@dataclass(frozen=True)
class FrameFeatures:
    """Per-frame measurements of one face over a video (arrays of the frames with landmarks, in order)."""

    smile: np.ndarray
    mouth_opening: np.ndarray
    brow_height: np.ndarray
    eye_opening: np.ndarray
    deformation: np.ndarray
    pose_degrees: np.ndarray  # (N, 3) yaw, pitch, roll relative to the reference


@dataclass(frozen=True)
class Activity:
    """The per-video result: ``score`` on the interview scale (None with ``reason`` when there is too little face),
    ``components`` (see the module docstring) and ``per_frame`` (one value per input frame, None without a face):
    the frame's deformation from the neutral face in units of its typical level (1 = a typical talking face)."""

    score: float | None
    components: dict[str, float] = field(default_factory=dict)
    per_frame: tuple[float | None, ...] = ()
    reason: str | None = None


def frame_features(shapes: Sequence[np.ndarray] | np.ndarray) -> FrameFeatures:
    """Features of N frames of one face's landmarks (N, 468, 3) in pixels (see the module docstring).

    Memory stays bounded for long videos: with more than ``REFERENCE_FRAMES`` frames, the person's reference
    (median) shape and neutral face come from that many evenly spaced frames, and the frames are aligned to it
    ``CHUNK_FRAMES`` at a time (a 10-minute video read at 30 fps took 680 MB at once; the features of a frame
    depend on the whole video only through those two shapes, which a sample of 1,000 frames pins down).

    Raises:
        ValueError: the shapes are not (N >= 1, 468, 3) finite values.
    """
    count = len(shapes)
    if count <= REFERENCE_FRAMES:
        everything = _checked(shapes)
        aligned, reference, rotations = align(everything)
        return _features(aligned, rotations, reference, np.median(aligned, axis=0))
    picked = np.unique(np.linspace(0, count - 1, REFERENCE_FRAMES).round().astype(int))
    sample_aligned, reference, _ = align(_checked([shapes[i] for i in picked]))
    neutral = np.median(sample_aligned, axis=0)
    parts = []
    for first in range(0, count, CHUNK_FRAMES):
        chunk = _checked(shapes[first : first + CHUNK_FRAMES])
        aligned, rotations = np.empty_like(chunk), np.zeros((len(chunk), 3, 3))
        for i, shape in enumerate(chunk):
            scale, rotations[i], translation = umeyama(shape, reference)
            aligned[i] = scale * shape @ rotations[i].T + translation
        parts.append(_features(aligned, rotations, reference, neutral))
    return FrameFeatures(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(FrameFeatures)))


def _checked(shapes: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    stacked = np.asarray(shapes, dtype=np.float64)
    if stacked.ndim != 3 or stacked.shape[1:] != (NUM_POINTS, 3) or len(stacked) == 0:
        raise ValueError(f"landmarks must be (N >= 1, {NUM_POINTS}, 3), got {stacked.shape}")
    if not np.isfinite(stacked).all():
        raise ValueError("landmarks must be finite")
    return stacked


def _features(aligned: np.ndarray, rotations: np.ndarray, reference: np.ndarray, neutral: np.ndarray) -> FrameFeatures:
    """The features of frames already aligned to ``reference``; ``neutral``: the person's median aligned face."""
    unit = float(np.linalg.norm(reference[EYE_OUTER[1]] - reference[EYE_OUTER[0]]))
    if unit <= 0:
        raise ValueError("the reference shape has coincident eye corners")
    aligned, reference, neutral = aligned / unit, reference / unit, neutral / unit
    across = reference[EYE_OUTER[1]] - reference[EYE_OUTER[0]]
    across /= np.linalg.norm(across)
    down = reference[CHIN] - reference[FOREHEAD]
    down -= across * (down @ across)
    down /= np.linalg.norm(down)

    def dist(a: int, b: int) -> np.ndarray:
        return np.linalg.norm(aligned[:, a] - aligned[:, b], axis=1)

    def height(index: int) -> np.ndarray:  # position along the face's downward axis
        return aligned[:, index] @ down

    corners = (height(MOUTH_CORNERS[0]) + height(MOUTH_CORNERS[1])) / 2
    smile = dist(*MOUTH_CORNERS) + (height(UPPER_LIP) - corners)
    brow = np.mean([height(lid) - height(brow) for lid, brow in zip(UPPER_LIDS, BROWS)], axis=0)
    eyes = np.mean([dist(u, lo) for u, lo in zip(UPPER_LIDS, LOWER_LIDS)], axis=0)
    deformation = np.sqrt(((aligned - neutral) ** 2).sum(axis=2).mean(axis=1))
    return FrameFeatures(smile, dist(UPPER_LIP, LOWER_LIP), brow, eyes, deformation, euler_degrees(rotations))


def robust_spread(values: np.ndarray) -> float:
    """IQR / 1.349: a standard deviation that blinks and single glitches barely move."""
    q1, q3 = np.percentile(values, [25, 75])
    return float((q3 - q1) / ROBUST_SD)


def components(features: FrameFeatures, non_neutral: np.ndarray | None) -> dict[str, float]:
    """The per-video components (see the module docstring) of one face's features."""
    resting_smile = np.percentile(features.smile, NEUTRAL_PERCENTILE)
    result = {
        "smiling": float(np.mean(features.smile - resting_smile > SMILE_THRESHOLD)),
        "brow_activity": robust_spread(features.brow_height),
        "mouth_activity": robust_spread(features.mouth_opening),
        "eye_activity": robust_spread(features.eye_opening),
        "deformation": float(np.mean(features.deformation)),
        "head_motion": float(math.sqrt(sum(robust_spread(features.pose_degrees[:, k]) ** 2 for k in range(3)))),
    }
    if non_neutral is not None and len(non_neutral):
        result["non_neutral"] = float(np.mean(non_neutral))
    return result


def log_ratios(parts: dict[str, float]) -> dict[str, float]:
    """Each component present as ``log2(value / typical)``, clipped to +-``LOG_CLIP`` (the measure's scale; a share
    gets ``SHARE_FLOOR`` added first, so that 0% is finite)."""
    ratios = {}
    for name, typical in TYPICAL.items():
        if name not in parts:
            continue
        measured = parts[name]
        if name == "smiling":
            typical, measured = typical + SHARE_FLOOR, measured + SHARE_FLOOR
        ratios[name] = max(-LOG_CLIP, min(LOG_CLIP, math.log2(max(measured, 1e-9) / typical)))
    return ratios


def score(parts: dict[str, float]) -> float:
    """The documented combination on the interview scale: weighted ``log_ratios``, over the components present
    (weights renormalized when the emotion model's reading is absent)."""
    ratios = log_ratios(parts)
    total = sum(WEIGHTS[name] for name in ratios)
    return SCORE_PER_DOUBLING * sum(WEIGHTS[name] * value for name, value in ratios.items()) / total


def video_activity(
    landmarks: Sequence[np.ndarray | None],
    seconds_per_frame: float,
    non_neutral: Sequence[float | None] | None = None,
) -> Activity:
    """Facial activity of one person over a video.

    Args:
        landmarks: per analyzed frame, the person's (468, 3) landmarks in pixels, or None (no face in that frame).
        seconds_per_frame: the time one analyzed frame stands for (frame_skip / fps).
        non_neutral: per analyzed frame, the emotion model's 1 - P(Neutral) for the same face (None: not known).

    Raises:
        ValueError: seconds_per_frame is not positive, or the lists differ in length.
    """
    if not seconds_per_frame > 0 or not math.isfinite(seconds_per_frame):
        raise ValueError(f"seconds_per_frame must be a positive number, got {seconds_per_frame}")
    if non_neutral is not None and len(non_neutral) != len(landmarks):
        raise ValueError(f"{len(non_neutral)} non-neutral values for {len(landmarks)} frames")
    present = [i for i, points in enumerate(landmarks) if points is not None]
    face_seconds = len(present) * seconds_per_frame
    reason = None
    if not present:
        reason = "no face with landmarks was found"
    elif face_seconds < MIN_FACE_SECONDS:
        reason = f"only {face_seconds:.1f} s of face with landmarks (at least {MIN_FACE_SECONDS:.0f} s are needed)"
    elif len(present) < MIN_FACE_FRAMES:
        reason = f"only {len(present)} analyzed frames with a face (at least {MIN_FACE_FRAMES} are needed)"
    if reason is not None:
        return Activity(None, per_frame=(None,) * len(landmarks), reason=reason)
    features = frame_features([landmarks[i] for i in present])
    emotion = None
    if non_neutral is not None:
        known = [non_neutral[i] for i in present if non_neutral[i] is not None]
        emotion = np.asarray(known, dtype=np.float64) if known else None
    parts = components(features, emotion)
    per_frame: list[float | None] = [None] * len(landmarks)
    for i, value in zip(present, features.deformation / TYPICAL["deformation"]):
        per_frame[i] = float(value)
    return Activity(score(parts), parts, tuple(per_frame))
