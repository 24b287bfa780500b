"""`Analyzer`: face detection chained with an expression model, for frames, batches, videos and streams.

Thread safety: one Analyzer may be shared by several threads. It keeps no per-call state; each model's
inference is serialized by a lock inside its backend (TFLite interpreters and the detector are not re-entrant),
so threads overlap decoding, detection of one frame and classification of another, and results are identical
to single-threaded use. For full parallel throughput, give each thread its own Analyzer.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from runtime import seed
from runtime.classifier import ExpressionModel
from runtime.detection import FaceDetector
from runtime.environment import check_opencv
from runtime.expressiveness.head import HEAD_SUFFIX, ActivityHead, load_head
from runtime.faces import FaceFinder, FinderOptions, Found
from runtime.manifest import EXPRESSIVENESS_LABELS
from runtime.options import EXPRESSIVENESS_METHODS, MIN_FACE_SIZE, AnalyzerOptions
from runtime.paths import DEFAULT_EMOTION_MODEL, default_model_dir
from runtime.preprocess import check_frame, frame_batch
from runtime.report import FrameResult, VideoReport, summarize
from runtime.results import Classification, Face
from runtime.session import StreamSession
from runtime.tracking import FaceTracker
from runtime.video import FrameReader, check_count, check_fps, progress_bar

log = logging.getLogger(__name__)

ASSUMED_FPS = 30.0  # for the facial-activity minimum of face seconds when a video gives no frame rate
__all__ = ["EXPRESSIVENESS_METHODS", "MIN_FACE_SIZE", "Analyzer", "AnalyzerOptions"]  # options live in runtime.options


@contextlib.contextmanager
def unloadable_model_as_bad_input() -> Iterator[None]:
    """Around opening an Analyzer: a model file that an engine cannot load (corrupt, or of another kind) is the
    caller's bad input, so its RuntimeError becomes ValueError, as a missing file is FileNotFoundError (the command
    lines' exit 2, not 1, a failure of the work)."""
    try:
        yield
    except RuntimeError as exc:
        raise ValueError(str(exc)) from exc


class Analyzer:
    """Finds faces and reads their expressions. A context manager; `close()` releases the models.

    Raises (on construction): FileNotFoundError, ValueError, RuntimeError, ImportError as the model loaders do.
    """

    def __init__(self, options: AnalyzerOptions | None = None) -> None:
        self.options = options or AnalyzerOptions()
        check_opencv()
        model = self.options.emotion_model or default_model_dir() / DEFAULT_EMOTION_MODEL
        device, threads = self.options.device, self.options.threads
        verify = self.options.verify_model_hash
        self.emotion = ExpressionModel(model, device, threads, self.options.gpu_delegate, verify_hash=verify,
                                       flip_average=self.options.flip_average,
                                       crop_average=self.options.crop_average)
        self.expressiveness: ExpressionModel | ActivityHead | None = None  # a 3-class model or a trained head
        self.faces: FaceFinder | None = None
        try:
            _check_task(self.emotion, "emotion")
            if (path := self.options.expressiveness_model) is not None and Path(path).suffix == HEAD_SUFFIX:
                self.expressiveness = load_head(path)
            elif path is not None:
                self.expressiveness = ExpressionModel(path, device, threads, self.options.gpu_delegate,
                                                      verify_hash=verify)
                _check_task(self.expressiveness, "expressiveness")
            self.faces = FaceFinder(FinderOptions.of(self.options), open_landmarks=bool(self.options.landmarks))
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
        """Why no face can be found in a frame smaller than ``min_face_size``; None for a frame large enough.

        Raises:
            ValueError: ``frame`` is not an image (``runtime.preprocess.check_frame``)."""
        height, width = check_frame(frame).shape[:2]
        if min(height, width) >= self.options.min_face_size:
            return None
        return (f"{width}x{height} px is smaller than the smallest face analysed ({self.options.min_face_size} px): "
                "no face can be found in it")

    def analyze_batch(self, frames: Iterable[np.ndarray] | np.ndarray) -> list[list[Face]]:
        """Faces of many frames (an iterable of frames, or an array (N, H, W[, C]); one frame alone is refused:
        ``analyze`` takes it); the crops of all frames are classified in one batched call."""
        return [faces for faces, _ in self._analyze_batch(list(frame_batch(frames)))]

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
        check_fps(fps)  # checked at the call, not at the first frame: this is not itself a generator
        frames = frame_batch(frames)
        session = StreamSession(self, smoothing, landmarks=bool(self.options.landmarks))
        return (session.frame(index, index / fps if fps else None, frame)[0] for index, frame in enumerate(frames))

    def analyze_video(
        self,
        source: str | Path | int,
        frame_skip: int = 1,
        max_frames: int | None = None,
        progress: bool = False,
        smoothing: float | None = None,
        on_frame: Callable[[FrameResult, np.ndarray], None] | None = None,
        stop: Callable[[], str | None] | None = None,
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
            stop: asked after each frame; a reason (e.g. ``runtime.stop_signal.StopOnSignal.reason``, a Ctrl-C)
                ends the video there, and the report of the frames so far says it (``complete`` False).

        Raises:
            FileNotFoundError: the video does not exist. ValueError: it cannot be opened as video, or bad args.
        """
        check_count(frame_skip, "frame_skip")
        session = StreamSession(self, smoothing, landmarks=self.options.landmarks_in_videos, verdict=True,
                                keep_landmarks=bool(self.options.landmarks), frame_skip=frame_skip)
        reader = FrameReader(source, frame_skip, max_frames)
        frames: Iterable = progress_bar(reader) if progress else reader
        timeline: list[FrameResult] = []
        notes: list[str] = []
        try:
            for index, timestamp, frame in frames:
                if not timeline and (note := self.too_small(frame)):
                    log.warning("%s: frames of %s", source, note)
                    notes.append(f"frames of {note}")
                result, _ = session.frame(index, timestamp, frame)
                timeline.append(result)
                if on_frame is not None:
                    on_frame(result, frame)
                if stop is not None and (reason := stop()):
                    reader.stop(reason)
                    break
        finally:
            reader.close()
        timeline, expressiveness = session.verdict(timeline, frame_skip / (reader.fps or ASSUMED_FPS))
        return summarize(
            timeline, self.labels, expressiveness, source=str(source), fps=reader.fps,
            frames_read=reader.frames_read, smoothing=smoothing, complete=reader.complete,
            warnings=(*notes, *reader.warnings),
        )

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
            if part is not None and not isinstance(part, ActivityHead):
                part.close()

    def __enter__(self) -> Analyzer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_task(model: ExpressionModel, task: str) -> None:
    if model.manifest.task != task:
        raise ValueError(f"{model.path.name} is a {model.manifest.task!r} model, not an {task!r} model")
    if task == "expressiveness" and sorted(model.labels) != sorted(EXPRESSIVENESS_LABELS):
        raise ValueError(f"{model.path.name}: an expressiveness model's labels are {', '.join(EXPRESSIVENESS_LABELS)} "
                         f"in any order, not {', '.join(model.labels)}")
