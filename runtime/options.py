"""How an ``Analyzer`` is built: its options, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from runtime.backends import Device, parse_device
from runtime.detection import DetectorOptions
from runtime.expressiveness.head import HEAD_SUFFIX
from runtime.preprocess import DEFAULT_CROP_PADDING
from runtime.report import EMOTION_INTENSITY, FACIAL_ACTIVITY
from runtime.tracking import DEFAULT_REDETECT_EVERY
from runtime.video import check_count

# Measured (scripts/measure_small_inputs.py, the README's "Small inputs"): FER-2013 faces shrunk to a side of 20 px
# are read as their label 37% of the time (62% at 48 px; 32% at 16 px, chance 14%), and most false faces in noise
# images have boxes under 20 px. Smaller faces are not worth an answer.
MIN_FACE_SIZE = 20
EXPRESSIVENESS_METHODS = (FACIAL_ACTIVITY, EMOTION_INTENSITY)


@dataclass(frozen=True)
class AnalyzerOptions:
    """How the Analyzer is built.

    Attributes:
        emotion_model: a .tflite/.onnx file written by fer-convert (default: ``runtime.paths.DEFAULT_EMOTION_MODEL``).
        expressiveness_model: optional 3-class model (.tflite/.onnx), or a head trained on the facial-activity
            components (.json, ``fer-train activity``); when None the level comes from ``expressiveness``.
        detector: face-detector options (model, engine, minimum score).
        device: "cpu", "gpu" or "auto" for the expression models (auto falls back to CPU with a warning).
        threads: inference threads per model (None: the engine's default).
        gpu_delegate: TFLite GPU delegate library, for device gpu/auto with .tflite models.
        max_faces: keep at most this many faces per frame, largest first (None: all).
        crop_padding: the square crop grows the detector's box by this fraction of its side.
        min_face_size: faces whose box is smaller than this many pixels (shorter side) are ignored (MIN_FACE_SIZE).
        verify_model_hash: check each model file against the size and sha256 in its manifest when it is opened
            (False for a model edited on purpose).
        landmarks: run the face-mesh landmark model on every face (``Face.landmarks``): True always, False never,
            None (default) only in ``analyze_video`` when the expressiveness method needs them (and then the
            report's faces carry neither them nor their score: only the verdict and the per-frame activity use them).
        expressiveness: "facial-activity" (from landmarks; ``runtime.expressiveness.activity``) or
            "emotion-intensity" (from the emotion model); ``expressiveness_model`` replaces both when given.
        tracking: with landmarks in videos and streams, take the next frame's crop from this frame's landmarks and
            run the detector only when a face is lost, every ``redetect_every`` frames, or on a scene cut
            (False: detect on every frame).
        redetect_every: the detector's interval while tracking, in the video's frames (``analyze_video`` with
            ``frame_skip`` N runs it every ``redetect_every // N`` analyzed frames, at least every one; a stream
            counts the frames it is given).
        level_faces: turn a face whose eyes are rolled by more than ``LEVEL_BEYOND_DEGREES`` (10) upright before the
            emotion crop, as FER-2013's faces are (measured in ``runtime.preprocess``; False: axis-aligned crops).
        flip_average: read each face as it is and mirrored, and average the emotion probabilities (twice the
            emotion model's work; its gain is measured in the benchmarks).
        crop_average: read each face whole and as its four corner crops (11/12 of the side), and average: five
            times the emotion model's work, ten with ``flip_average`` (``runtime.views``; measured in the benchmarks).
    """

    emotion_model: Path | None = None
    expressiveness_model: Path | None = None
    detector: DetectorOptions = field(default_factory=DetectorOptions)
    device: Device | str = Device.CPU
    threads: int | None = None
    gpu_delegate: str | None = None
    max_faces: int | None = None
    crop_padding: float = DEFAULT_CROP_PADDING
    min_face_size: int = MIN_FACE_SIZE
    verify_model_hash: bool = True
    landmarks: bool | None = None
    expressiveness: str = FACIAL_ACTIVITY
    tracking: bool = True
    redetect_every: int = DEFAULT_REDETECT_EVERY
    level_faces: bool = True
    flip_average: bool = False
    crop_average: bool = False

    def __post_init__(self) -> None:
        parse_device(self.device)
        if self.expressiveness not in EXPRESSIVENESS_METHODS:
            raise ValueError(f"expressiveness must be one of {EXPRESSIVENESS_METHODS}, got {self.expressiveness!r}")
        if self.landmarks is False and self.verdict_needs_landmarks:
            raise ValueError("facial-activity expressiveness needs landmarks: leave landmarks None or True, or choose "
                             f"expressiveness={EMOTION_INTENSITY!r}")
        check_count(self.redetect_every, "redetect_every")
        check_count(self.threads, "threads", optional=True)
        if self.max_faces is not None and self.max_faces < 1:
            raise ValueError(f"max_faces must be >= 1 or None, got {self.max_faces}")
        if isinstance(self.min_face_size, bool) or not isinstance(self.min_face_size, int) or self.min_face_size < 1:
            raise ValueError(f"min_face_size must be a whole number of pixels >= 1, got {self.min_face_size!r}")
        if not 0.0 <= self.crop_padding <= 2.0:
            raise ValueError(f"crop_padding must lie in [0, 2], got {self.crop_padding}")

    @property
    def verdict_needs_landmarks(self) -> bool:
        """Whether a video's verdict comes from facial activity (the measure, or a head trained on it)."""
        model = self.expressiveness_model
        return Path(model).suffix == HEAD_SUFFIX if model is not None else self.expressiveness == FACIAL_ACTIVITY

    @property
    def landmarks_in_videos(self) -> bool:
        """Whether ``analyze_video`` runs the landmark model: as ``landmarks`` says, else when the verdict needs it."""
        return self.verdict_needs_landmarks if self.landmarks is None else self.landmarks
