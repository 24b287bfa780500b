"""The public face detector: options, a factory, and one verb, ``detect``."""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from runtime.backends import Device, parse_device
from runtime.backends.tflite import interpreter_module
from runtime.detection.blazeface import MODELS
from runtime.paths import default_model_dir
from runtime.preprocess import to_bgr
from runtime.results import Box, Detection

log = logging.getLogger(__name__)

AUTO_MODEL = "auto"
AUTO_ORDER = ("short", "full")


class Engine(str, enum.Enum):
    """What runs the model. AUTO: LiteRT, else MediaPipe when LiteRT is not installed."""

    LITERT = "litert"
    MEDIAPIPE = "mediapipe"
    AUTO = "auto"


# MediaPipe's default is 0.5. Measured (scripts/measure_small_inputs.py, runtime/detection/README.md): at 0.6 the
# default "auto" finds more faces on the shared photos (24 of 28 against 20) with no false face (1 at 0.5, a dog),
# no false second face on the interview-like videos (4 of 94 frames at 0.5), and 10x fewer faces in noise images.
DEFAULT_MIN_SCORE = 0.6


@dataclass(frozen=True)
class DetectorOptions:
    """How to build a ``FaceDetector``.

    Attributes:
        model: "auto" (short-range, then full-range on frames where short-range finds no face), "short"
            (BlazeFace short-range, faces within about 2 m: webcams), "full" (full-range, up to about 5 m:
            group photos, room cameras), or the path of a BlazeFace ``.tflite`` file (its input size says
            which variant it is). See ``runtime/detection/README.md`` for the measurements behind "auto".
        engine: "litert" (our backend and numpy decoding), "mediapipe" (MediaPipe Tasks) or "auto".
        min_score: the lowest face probability kept, in [0, 1] (default DEFAULT_MIN_SCORE, 0.6).
        threads: CPU threads for inference (None: the engine's default). Ignored by MediaPipe Tasks.
        device: "cpu", "gpu" (an error if it cannot be had) or "auto" (GPU if possible, with a warning if not).
    """

    model: str | Path = AUTO_MODEL
    engine: Engine | str = Engine.AUTO
    min_score: float = DEFAULT_MIN_SCORE
    threads: int | None = 1
    device: Device | str = Device.CPU

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "engine", Engine(self.engine))
        except ValueError:
            raise ValueError(f"engine must be one of {[e.value for e in Engine]}, got {self.engine!r}") from None
        object.__setattr__(self, "device", parse_device(self.device))
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {self.min_score}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be None or at least 1, got {self.threads}")
        names = (*MODELS, AUTO_MODEL)
        is_path = isinstance(self.model, Path) or (isinstance(self.model, str) and self.model.endswith(".tflite"))
        if not is_path and self.model not in names:
            raise ValueError(f"model must be one of {sorted(names)} or a .tflite path, got {self.model!r}")

    @property
    def model_paths(self) -> tuple[Path, ...]:
        """The model files, tried in this order on each frame until one finds a face.

        Named models are in ``default_model_dir() / "blazeface"``.
        """
        if self.model == AUTO_MODEL:
            names = AUTO_ORDER
        elif isinstance(self.model, str) and self.model in MODELS:
            names = (self.model,)
        else:
            return (Path(self.model).expanduser(),)
        return tuple(default_model_dir() / "blazeface" / MODELS[name].file_name for name in names)


class _Engine(Protocol):
    provider: str

    def detect(self, bgr: np.ndarray) -> list[Detection]: ...

    def close(self) -> None: ...


def _open_engine(options: DetectorOptions, path: Path) -> _Engine:
    engine = options.engine
    if engine is Engine.AUTO:
        try:
            interpreter_module()
            engine = Engine.LITERT
        except ImportError:
            engine = Engine.MEDIAPIPE
    args = (path, options.min_score, options.threads, options.device)
    if engine is Engine.LITERT:
        from runtime.detection.blazeface import LiteRTBlazeFace

        return LiteRTBlazeFace(*args)
    from runtime.detection.mediapipe_engine import MediaPipeBlazeFace

    return MediaPipeBlazeFace(*args)


class FaceDetector:
    """Finds faces in video frames. Safe to share between threads (inference is serialized).

    Use ``create_detector`` to build one, and ``close()`` it (or use it as a context manager) when done.
    """

    def __init__(self, engines: Sequence[_Engine], options: DetectorOptions) -> None:
        self._engines = tuple(engines)
        self._closed = False
        self._lock = threading.Lock()
        self.options = options
        self.provider = engines[0].provider

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """Faces in one frame.

        Args:
            frame: uint8 image as OpenCV gives it: (H, W, 3) BGR, (H, W, 4) BGRA, or gray (H, W) / (H, W, 1).

        Returns:
            The faces, largest box first; boxes in frame pixels, clipped to the frame; keypoints in frame
            pixels (not clipped). An empty list when there is no face.

        Raises:
            ValueError: the frame is not a valid image (the message says why).
            RuntimeError: the detector is closed, or inference failed.
        """
        bgr = to_bgr(frame)  # to_bgr validates the frame
        found: list[Detection] = []
        with self._lock:
            if self._closed:
                raise RuntimeError("the face detector is closed")
            for engine in self._engines:
                found = engine.detect(bgr)
                if found:
                    break
        height, width = bgr.shape[:2]
        clipped = [d for d in (_clip(d, width, height) for d in found) if d.box.area > 0]
        return sorted(clipped, key=lambda d: d.box.area, reverse=True)

    def close(self) -> None:
        """Releases the model; ``detect`` raises afterwards. Closing twice is harmless."""
        with self._lock:
            if not self._closed:
                for engine in self._engines:
                    engine.close()
                self._closed = True

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _clip(detection: Detection, width: int, height: int) -> Detection:
    box = detection.box
    x0, y0 = min(max(box.x, 0.0), width), min(max(box.y, 0.0), height)
    x1, y1 = min(max(box.x + box.width, 0.0), width), min(max(box.y + box.height, 0.0), height)
    return Detection(Box(x0, y0, x1 - x0, y1 - y0), detection.score, detection.keypoints)


def create_detector(options: DetectorOptions | None = None) -> FaceDetector:
    """Opens a face detector.

    Raises:
        FileNotFoundError: the model file does not exist.
        ValueError: the file is not a BlazeFace model.
        ImportError: the engine's library is not installed (the message names the extra).
        RuntimeError: the model cannot be loaded, or a GPU was asked for and cannot be had.
    """
    options = options or DetectorOptions()
    engines: list[_Engine] = []
    try:
        for path in options.model_paths:
            engines.append(_open_engine(options, path))
            log.debug("face detector %s on %s", path.name, engines[-1].provider)
    except BaseException:
        for engine in engines:
            engine.close()
        raise
    return FaceDetector(engines, options)
