"""Pure pre- and post-processing: colour conversion, face crops, model input, (de)quantization, softmax.

No model is needed for anything here; the training side uses the same functions so that training,
conversion and the runtime see identical pixels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from runtime.manifest import Normalization, TensorQuantization

# Side padding of the square crop around BlazeFace's box, chosen by measuring accuracy on FER-2013 faces
# re-detected in a larger canvas (scripts/measure_crop_padding.py, 1,483 PublicTest faces, shipped small CNN
# int8): padding 0 / 0.1 / 0.15 / 0.2 / 0.3 / 0.5 gave 60.6 / 61.6 / 62.2 / 61.4 / 61.2 / 59.5% against 63.7% on
# the original 48x48 crops.
DEFAULT_CROP_PADDING = 0.15
# FER-2013 faces are registered upright. Measured (scripts/measure_aligned_crops.py, 1,483 PublicTest faces turned by a
# roll, re-detected, shipped small CNN int8; benchmarks/results/aligned_crops.md): axis-aligned crops 62.2 / 59.2-59.5 /
# 49.7-49.8% at 0 / +-15 / +-30 degrees; crops turned so that BlazeFace's eye keypoints are level 61.4 / 62.2-62.3 /
# 60.8% (the keypoints' roll estimate scatters by about 5 degrees (MAD) on upright faces, and resampling costs them);
# levelled only beyond 10 degrees of estimated roll 61.9 / 61.8-62.0 / 60.6-60.8%. So faces are levelled beyond 10.
LEVEL_BEYOND_DEGREES = 10.0
MAX_FRAME_SIDE = 32767  # OpenCV's remap/warpAffine need sides below SHRT_MAX


def check_frame(frame: object, name: str = "frame") -> np.ndarray:
    """Validates an image: uint8, (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA, not empty.

    Raises:
        ValueError: naming what is wrong with the array.
    """
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise ValueError(f"{name} must have dtype uint8, got {frame.dtype}")
    if frame.ndim not in (2, 3):
        raise ValueError(f"{name} must have shape (H, W) or (H, W, C), got {frame.shape}")
    if frame.ndim == 3 and frame.shape[2] not in (1, 3, 4):
        raise ValueError(f"{name} must have 1, 3 or 4 channels, got {frame.shape[2]}")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {frame.shape}")
    if max(frame.shape[:2]) >= MAX_FRAME_SIDE:
        raise ValueError(f"{name} is {frame.shape[1]}x{frame.shape[0]} pixels: each side must be under "
                         f"{MAX_FRAME_SIDE} (OpenCV's limit for warps)")
    return frame


def crop_list(crops: object) -> list[np.ndarray]:
    """Face crops as a list of single images, by an explicit rule.

    Accepted: a list or tuple of images; one 2-D array (H, W) = one gray crop; one 3-D array whose last axis is
    1, 3 or 4 (H, W, C) = one crop; any other 3-D array (N, H, W) = N gray crops; a 4-D array (N, H, W, C) = N
    crops. Each crop must then pass ``check_frame``.

    Raises:
        ValueError: anything else (None, bytes, a path, a 5-D array, ...), naming what was given.
    """
    if isinstance(crops, np.ndarray):
        if crops.ndim == 2 or (crops.ndim == 3 and crops.shape[-1] in (1, 3, 4)):
            return [crops]
        if crops.ndim in (3, 4):
            return list(crops)
        raise ValueError(f"face crops must be one image (H, W[, C]) or a batch (N, H, W[, C]), got shape "
                         f"{crops.shape}")
    if isinstance(crops, (list, tuple)):
        return list(crops)
    raise ValueError(f"face crops must be a numpy image, a batch array or a list of images, got "
                     f"{type(crops).__name__}")


def frame_batch(frames: object, name: str = "frames") -> Iterable[np.ndarray]:
    """Frames for a batch or a stream: any iterable of frames (a list, a generator), or an array of N frames
    (N, H, W) or (N, H, W, C). One frame alone (2-D, or 3-D whose last axis is 1, 3 or 4) is refused: iterated, it
    would read as N rows of pixels, each a frame with no face.

    Raises:
        ValueError: one frame, a string or bytes, something that is not iterable, an array of other rank.
    """
    if isinstance(frames, np.ndarray):
        if frames.ndim == 2 or (frames.ndim == 3 and frames.shape[-1] in (1, 3, 4)):
            raise ValueError(f"{name} must be several frames, got one frame of shape {frames.shape}: pass [frame], "
                             "or analyze(frame)")
        if frames.ndim not in (3, 4):
            raise ValueError(f"{name} must be frames (N, H, W[, C]), got an array of shape {frames.shape}")
        return list(frames)
    if isinstance(frames, (str, bytes, bytearray)) or not isinstance(frames, Iterable):
        raise ValueError(f"{name} must be an iterable of frames (a list, a generator) or an array (N, H, W[, C]), "
                         f"got {type(frames).__name__}")
    return frames


def to_bgr(frame: np.ndarray) -> np.ndarray:
    """Any valid frame (gray, BGR, BGRA) as 3-channel BGR."""
    frame = check_frame(frame)
    if frame.ndim == 2 or frame.shape[2] == 1:
        return cv2.cvtColor(frame.reshape(frame.shape[:2]), cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return frame


def to_color(image: np.ndarray, color: str) -> np.ndarray:
    """A valid image in the model's colour mode: (H, W) for "gray", (H, W, 3) RGB for "rgb"."""
    image = check_frame(image, "face crop")
    if color == "gray":
        if image.ndim == 2:
            return image
        if image.shape[2] == 1:
            return image[:, :, 0]
        code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        return cv2.cvtColor(image, code)
    if color == "rgb":
        if image.ndim == 2 or image.shape[2] == 1:
            return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2RGB)
        code = cv2.COLOR_BGRA2RGB if image.shape[2] == 4 else cv2.COLOR_BGR2RGB
        return cv2.cvtColor(image, code)
    raise ValueError(f"color must be 'gray' or 'rgb', got {color!r}")


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resizes to (height, width): area averaging when shrinking, bilinear when growing."""
    height, width = size
    if image.shape[:2] == (height, width):
        return image
    shrinking = image.shape[0] > height or image.shape[1] > width
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


def prepare_faces(
    crops: Sequence[np.ndarray] | np.ndarray,
    input_size: tuple[int, int],
    color: str,
    normalization: Normalization,
) -> np.ndarray:
    """Face crops (uint8, any size, gray/BGR/BGRA; see ``crop_list`` for the accepted shapes) -> float32 batch
    (N, H, W, C) ready for the model."""
    crops = crop_list(crops)
    channels = 1 if color == "gray" else 3
    batch = np.empty((len(crops), *input_size, channels), dtype=np.float32)
    for i, crop in enumerate(crops):
        face = resize(to_color(crop, color), input_size)
        batch[i] = face.reshape(*input_size, channels)
    if normalization.scale != 1.0 or normalization.offset != 0.0:
        batch = batch * np.float32(normalization.scale) + np.float32(normalization.offset)
    return batch


def quantize(values: np.ndarray, params: TensorQuantization) -> np.ndarray:
    """Real values -> integer tensor values, rounded and clipped to the dtype's range."""
    dtype = np.dtype(params.dtype)
    info = np.iinfo(dtype)
    scaled = np.round(values / params.scale) + params.zero_point
    return np.clip(scaled, info.min, info.max).astype(dtype)


def dequantize(values: np.ndarray, params: TensorQuantization) -> np.ndarray:
    """Integer tensor values -> float32 real values."""
    return (values.astype(np.float32) - np.float32(params.zero_point)) * np.float32(params.scale)


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = logits - logits.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def expand_box(
    box: tuple[float, float, float, float], padding: float, frame_shape: tuple[int, ...]
) -> tuple[int, int, int, int]:
    """A detector box (x, y, w, h) made square around its centre, grown by ``padding`` of its side, clamped.

    Returns integer pixel bounds (x0, y0, x1, y1) inside the frame; a box entirely outside gives an empty range.
    """
    x, y, w, h = box
    side = max(w, h) * (1.0 + padding)
    cx, cy = x + w / 2.0, y + h / 2.0
    height, width = frame_shape[:2]
    size = round(side)  # whole pixels, the same on both axes, so an unclamped crop is exactly square
    left, top = round(cx - side / 2.0), round(cy - side / 2.0)
    x0, y0 = max(0, left), max(0, top)
    x1, y1 = min(width, left + size), min(height, top + size)
    return x0, y0, max(x0, x1), max(y0, y1)


def level_crop(frame: np.ndarray, box: tuple[float, float, float, float], padding: float, angle: float) -> np.ndarray:
    """The square crop of ``expand_box`` (not clamped: edges replicated), turned by ``angle`` radians about the
    box centre so that a face rolled by that angle (eyes sloping down to the image's right for a positive angle)
    is upright."""
    x, y, w, h = box
    size = max(1, round(max(w, h) * (1.0 + padding)))
    centre = (x + w / 2.0, y + h / 2.0)
    matrix = cv2.getRotationMatrix2D(centre, float(np.degrees(angle)), 1.0)
    matrix[:, 2] += (size / 2.0 - centre[0], size / 2.0 - centre[1])
    return cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def crop(frame: np.ndarray, bounds: tuple[int, int, int, int]) -> np.ndarray:
    """The pixels inside (x0, y0, x1, y1); a copy, so the caller may keep it after the frame changes."""
    x0, y0, x1, y1 = bounds
    return frame[y0:y1, x0:x1].copy()
