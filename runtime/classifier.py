"""An expression model file (TFLite or ONNX) with its manifest: preprocess, forward, postprocess."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from runtime.backends import Backend, Device, open_backend
from runtime.integrity import check_model_file
from runtime.manifest import Manifest, load_manifest
from runtime.paths import resolve_model
from runtime.preprocess import crop_list, prepare_faces, softmax
from runtime.results import Classification
from runtime.views import crop_views, mean_over_views, mirrored, view_count


class ExpressionModel:
    """Classifies face crops with one model file that `fer-convert` wrote (any format, any precision).

    ``path`` is a file, or the bare name of one in the model folder (``runtime.paths.resolve_model``). Labels,
    input size, colour mode and normalization come from the manifest beside the file, and the file must have the
    size and sha256 the manifest records (``verify_hash=False`` skips that check for a file edited on purpose; see
    ``runtime.integrity``). ``flip_average`` and ``crop_average`` read each face several times (mirrored; whole and
    four corner crops) and average the probabilities (``runtime.views``).

    Raises (on construction):
        FileNotFoundError: the model or its manifest is missing.
        ValueError: the manifest is malformed, the file's hash differs from the manifest's, or the manifest does not
            match the model's input tensor.
        RuntimeError: the backend cannot load the file or cannot honour the device.
    """

    def __init__(
        self,
        path: str | Path,
        device: Device | str = Device.CPU,
        threads: int | None = None,
        gpu_delegate: str | None = None,
        verify_hash: bool = True,
        flip_average: bool = False,
        crop_average: bool = False,
    ) -> None:
        self.flip_average = flip_average
        self.crop_average = crop_average
        self.path = resolve_model(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"model file not found: {self.path}")
        self.manifest: Manifest = load_manifest(self.path)
        check_model_file(self.path, self.manifest, enabled=verify_hash)
        self.backend: Backend = open_backend(self.path, device, threads=threads, gpu_delegate=gpu_delegate)
        expected = (*self.manifest.input_size, self.manifest.channels)
        if tuple(self.backend.input_shape[1:]) != expected or self.backend.num_outputs != len(self.manifest.labels):
            shape, outputs = self.backend.input_shape, self.backend.num_outputs
            self.backend.close()
            raise ValueError(
                f"{self.path.name} does not match its manifest: the file takes {shape} and gives {outputs} "
                f"scores, the manifest says (N, {', '.join(map(str, expected))}) and {len(self.manifest.labels)} labels"
            )

    @property
    def labels(self) -> tuple[str, ...]:
        return self.manifest.labels

    @property
    def views(self) -> int:
        """How many views of each face ``predict`` averages (1; 2 with flips, 5 with crops, 10 with both)."""
        return view_count(self.flip_average, self.crop_average)

    def predict(self, crops: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        """Probabilities (N, K) for N face crops (uint8 gray, BGR or BGRA, any size), in one batched call.

        Crops: a list of images, one image (H, W) or (H, W, C) with C in 1, 3, 4, or a batch array (N, H, W) or
        (N, H, W, C) (``runtime.preprocess.crop_list``).

        Raises:
            ValueError: the crops are not images of an accepted type and shape.
            RuntimeError: the model is closed, or it produced NaN or infinite scores (a broken model file).
        """
        self.backend.check_open()
        crops = crop_list(crops)
        if len(crops) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        views = crop_views(crops, self.crop_average)
        batch = prepare_faces(views, self.manifest.input_size, self.manifest.color, self.manifest.normalization)
        if self.flip_average:
            batch = mirrored(batch)
        scores = self.backend.run(batch)
        if not np.isfinite(scores).all():
            raise RuntimeError(f"{self.path} produced NaN or infinite scores for {len(crops)} face(s): the model "
                               "file (or its manifest's normalization) is broken")
        probabilities = scores if self.manifest.outputs_probabilities else softmax(scores)
        return mean_over_views(probabilities, len(crops))

    def classify(self, crops: Sequence[np.ndarray] | np.ndarray) -> list[Classification]:
        """One Classification per crop, in order."""
        return [Classification(self.labels, tuple(float(p) for p in row)) for row in self.predict(crops)]

    def close(self) -> None:
        self.backend.close()
