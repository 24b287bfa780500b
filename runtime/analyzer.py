"""`Analyzer`: face detection chained with an expression model, for frames, batches, videos and streams.

Thread safety: one Analyzer may be shared by several threads. It keeps no per-call state; each model's
inference is serialized by a lock inside its backend (TFLite interpreters and the detector are not re-entrant),
so threads overlap decoding, detection of one frame and classification of another, and results are identical
to single-threaded use. For full parallel throughput, give each thread its own Analyzer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from runtime import seed
from runtime.backends import Device, parse_device
from runtime.classifier import ExpressionModel
from runtime.detection import DetectorOptions, FaceDetector
from runtime.faces import FaceFinder, FinderOptions, Found
from runtime.paths import default_model_dir
from runtime.preprocess import DEFAULT_CROP_PADDING
from runtime.report import (
    EMOTION_INTENSITY,
    FACIAL_ACTIVITY,
    FrameResult,
    VideoReport,
    summarize,
)
from runtime.results import Classification, Face
from runtime.session import StreamSession
from runtime.tracking import DEFAULT_REDETECT_EVERY, FaceTracker
from runtime.video import FrameReader, check_count, check_fps, progress_bar

log = logging.getLogger(__name__)

DEFAULT_EMOTION_MODEL = "emotion_cnn_int8.tflite"


# Measured (scripts/measure_small_inputs.py, the README's "Small inputs"): FER-2013 faces shrunk to a side of 20 px
# are read as their label 37% of the time (62% at 48 px; 32% at 16 px, chance 14%), and most false faces in noise
# images have boxes under 20 px. Smaller faces are not worth an answer.
MIN_FACE_SIZE = 20
EXPRESSIVENESS_METHODS = (FACIAL_ACTIVITY, EMOTION_INTENSITY)
ASSUMED_FPS = 30.0  # for the facial-activity minimum of face seconds when a video gives no frame rate


@dataclass(frozen=True)
class AnalyzerOptions:
    """How the Analyzer is built.

    Attributes:
        emotion_model: a .tflite/.onnx file written by fer-convert (default: the shipped small CNN, int8).
        expressiveness_model: optional 3-class model; when None the level is derived from the emotions.
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
        redetect_every: the detector's interval while tracking, in analyzed frames.
        level_faces: turn a face whose eyes are rolled by more than ``LEVEL_BEYOND_DEGREES`` (10) upright before the
            emotion crop, as FER-2013's faces are (measured in ``runtime.preprocess``; False: axis-aligned crops).
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

    def __post_init__(self) -> None:
        parse_device(self.device)
        if self.expressiveness not in EXPRESSIVENESS_METHODS:
            raise ValueError(f"expressiveness must be one of {EXPRESSIVENESS_METHODS}, got {self.expressiveness!r}")
        if self.landmarks is False and self.expressiveness == FACIAL_ACTIVITY and self.expressiveness_model is None:
            raise ValueError("facial-activity expressiveness needs landmarks: leave landmarks None or True, or choose "
                             f"expressiveness={EMOTION_INTENSITY!r}")
        check_count(self.redetect_every, "redetect_every")
        if self.max_faces is not None and self.max_faces < 1:
            raise ValueError(f"max_faces must be >= 1 or None, got {self.max_faces}")
        if isinstance(self.min_face_size, bool) or not isinstance(self.min_face_size, int) or self.min_face_size < 1:
            raise ValueError(f"min_face_size must be a whole number of pixels >= 1, got {self.min_face_size!r}")
        if not 0.0 <= self.crop_padding <= 2.0:
            raise ValueError(f"crop_padding must lie in [0, 2], got {self.crop_padding}")


class Analyzer:
    """Finds faces and reads their expressions. A context manager; `close()` releases the models.

    Raises (on construction): FileNotFoundError, ValueError, RuntimeError, ImportError as the model loaders do.
    """

    def __init__(self, options: AnalyzerOptions | None = None) -> None:
        self.options = options or AnalyzerOptions()
        model = self.options.emotion_model or default_model_dir() / DEFAULT_EMOTION_MODEL
        device, threads = self.options.device, self.options.threads
        verify = self.options.verify_model_hash
        self.emotion = ExpressionModel(model, device, threads, self.options.gpu_delegate, verify_hash=verify)
        self.expressiveness: ExpressionModel | None = None
        self.faces: FaceFinder | None = None
        try:
            _check_task(self.emotion, "emotion")
            if self.options.expressiveness_model is not None:
                self.expressiveness = ExpressionModel(self.options.expressiveness_model, device, threads,
                                                      self.options.gpu_delegate, verify_hash=verify)
                _check_task(self.expressiveness, "expressiveness")
            o = self.options
            finder = FinderOptions(o.detector, o.min_face_size, o.crop_padding, o.max_faces, o.level_faces)
            self.faces = FaceFinder(finder, open_landmarks=bool(o.landmarks))
        except Exception:
            self.close()
            raise

    @classmethod
    def from_model_path(cls, emotion_model: str | Path, **options: object) -> Analyzer:
        """An Analyzer for any emotion model file fer-convert wrote; other options as in AnalyzerOptions."""
        return cls(AnalyzerOptions(emotion_model=Path(emotion_model), **options))  # type: ignore[arg-type]

    @property
    def labels(self) -> tuple[str, ...]:
        return self.emotion.labels

    @property
    def detector(self) -> FaceDetector | None:
        return self.faces.detector if self.faces is not None else None

    # ---- frames ----

    def _detect(self, frame: np.ndarray) -> list[Found]:
        """Detections of one frame with their crops (largest first, filtered; no landmarks)."""
        return self.faces.detect(frame)

    def analyze(self, frame: np.ndarray) -> list[Face]:
        """All faces of one frame (uint8 BGR, gray or BGRA), largest first; [] when there is none.

        Raises:
            ValueError: the frame is not a uint8 image of a supported shape.
        """
        return self.analyze_batch([frame])[0]

    def too_small(self, frame: np.ndarray) -> str | None:
        """Why no face can be found in a frame smaller than ``min_face_size``; None for a frame large enough."""
        height, width = np.shape(frame)[:2]
        if min(height, width) >= self.options.min_face_size:
            return None
        return (f"{width}x{height} px is smaller than the smallest face analysed ({self.options.min_face_size} px): "
                "no face can be found in it")

    def analyze_batch(self, frames: Sequence[np.ndarray]) -> list[list[Face]]:
        """Faces of many frames; the crops of all frames are classified in one batched call."""
        return [faces for faces, _ in self._analyze_batch(frames)]

    def _analyze_batch(self, frames: Sequence[np.ndarray], landmarks: bool | None = None,
                       tracker: FaceTracker | None = None) -> list[tuple[list[Face], list[np.ndarray]]]:
        with_landmarks = bool(self.options.landmarks) if landmarks is None else landmarks
        detected = [self.faces.locate(frame, with_landmarks, tracker) for frame in frames]
        crops = [face_crop for found in detected for _, face_crop in found]
        emotions = iter(self.emotion.classify(crops))
        return [([replace(face, emotion=next(emotions)) for face, _ in found], [c for _, c in found])
                for found in detected]

    def _frame_faces(self, frame: np.ndarray, landmarks: bool,
                     tracker: FaceTracker | None) -> tuple[list[Face], list[np.ndarray]]:
        """One stream frame's faces (classified) and their crops, for ``StreamSession``."""
        return self._analyze_batch([frame], landmarks, tracker)[0]

    def classify(self, face_crops: Sequence[np.ndarray] | np.ndarray) -> list[Classification]:
        """Emotions of faces that are already cropped (e.g. FER-2013's 48x48 faces), one per crop, in order.

        Raises:
            ValueError: a crop is not a uint8 image.
        """
        return self.emotion.classify(face_crops)

    # ---- streams and videos ----

    def analyze_stream(
        self, frames: Iterable[np.ndarray], fps: float | None = None, smoothing: float | None = None
    ) -> Iterator[FrameResult]:
        """FrameResults for an iterable of frames (a live stream), one at a time.

        Args:
            frames: uint8 frames.
            fps: frames per second, for timestamps (None: no timestamps).
            smoothing: EMA factor in (0, 1] applied to the primary face's probabilities over time
                (1 keeps only the newest frame, smaller values smooth more); None: no smoothing.

        With ``AnalyzerOptions(landmarks=True)`` faces carry landmarks and are tracked; the per-frame ``activity``
        needs the whole video's neutral face, so only ``analyze_video`` fills it.
        """
        check_fps(fps)
        session = StreamSession(self, smoothing, landmarks=bool(self.options.landmarks))
        for index, frame in enumerate(frames):
            yield session.frame(index, index / fps if fps else None, frame)[0]

    def analyze_video(
        self,
        source: str | Path | int,
        frame_skip: int = 1,
        max_frames: int | None = None,
        progress: bool = False,
        smoothing: float | None = None,
        on_frame: Callable[[FrameResult, np.ndarray], None] | None = None,
    ) -> VideoReport:
        """Streams a video file (or webcam index) and reports the timeline and the whole-video summary.

        A video that ends early or has unreadable frames gives a logged warning and the report of what was read
        (``report.complete`` is False and ``report.warnings`` says why).

        Args:
            source: a video file or a webcam index.
            frame_skip: analyze every N-th frame.
            max_frames: stop after analyzing this many frames.
            progress: show a progress bar (tqdm) on stderr.
            smoothing: EMA factor for the primary face's probabilities (see `analyze_stream`).
            on_frame: called with each FrameResult and its frame (e.g. to draw and write an annotated video).

        Raises:
            FileNotFoundError: the video does not exist. ValueError: it cannot be opened as video, or bad args.
        """
        session = StreamSession(self, smoothing, landmarks=self._video_landmarks(), verdict=True,
                                keep_landmarks=bool(self.options.landmarks))
        reader = FrameReader(source, frame_skip, max_frames)
        frames: Iterable = progress_bar(reader) if progress else reader
        timeline: list[FrameResult] = []
        notes: list[str] = []
        for index, timestamp, frame in frames:
            if not timeline and (note := self.too_small(frame)):
                log.warning("%s: frames of %s", source, note)
                notes.append(f"frames of {note}")
            result, _ = session.frame(index, timestamp, frame)
            timeline.append(result)
            if on_frame is not None:
                on_frame(result, frame)
        timeline, expressiveness = session.verdict(timeline, frame_skip / (reader.fps or ASSUMED_FPS))
        return summarize(
            timeline, self.labels, expressiveness, source=str(source), fps=reader.fps,
            frames_read=reader.frames_read, smoothing=smoothing, complete=reader.complete,
            warnings=(*notes, *reader.warnings),
        )

    def _video_landmarks(self) -> bool:
        """Landmarks for a video report: as the options say, else when the verdict comes from facial activity."""
        if self.options.landmarks is not None:
            return self.options.landmarks
        return self.expressiveness is None and self.options.expressiveness == FACIAL_ACTIVITY

    # ---- the seed's API, kept for existing callers ----

    def predict_facial_expression_batch(self, image_batch: Sequence[np.ndarray]) -> tuple[list[str], int]:
        """Top emotion of the largest face of each frame that has one, and the count of frames without a face."""
        return seed.predict_facial_expression_batch(self, image_batch)

    def crop_face(self, frame: np.ndarray) -> np.ndarray | None:
        """The crop (BGR) of the largest face as the expression model sees it before resizing, or None."""
        return seed.crop_face(self, frame)

    write_frame_to_disk = staticmethod(seed.write_frame_to_disk)

    def close(self) -> None:
        for part in (self.emotion, self.expressiveness, self.faces):
            if part is not None:
                part.close()

    def __enter__(self) -> Analyzer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_task(model: ExpressionModel, task: str) -> None:
    if model.manifest.task != task:
        raise ValueError(f"{model.path.name} is a {model.manifest.task!r} model, not an {task!r} model")
