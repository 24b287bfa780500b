"""BlazeFace post-processing in numpy, reproducing MediaPipe's face-detection graph.

Each step mirrors one MediaPipe calculator, with the options the face-detection graphs give it
(``mediapipe/modules/face_detection/face_detection{,_short_range,_full_range}.pbtxt`` and the Tasks
``face_detector_graph.cc``):

- ``ssd_anchors``: ``SsdAnchorsCalculator`` (``calculators/tflite/ssd_anchors_calculator.cc``);
- ``decode``: ``TensorsToDetectionsCalculator`` (``calculators/tensor/tensors_to_detections_calculator.cc``),
  with ``reverse_output_order`` (x before y), anchors of fixed size 1 and ``x/y/w/h_scale`` = the input size;
- ``sigmoid_scores``: its score step (clip the logit to +-100, then sigmoid);
- ``weighted_nms``: ``NonMaxSuppressionCalculator`` with ``WEIGHTED`` and ``INTERSECTION_OVER_UNION``
  (``calculators/util/non_max_suppression_calculator.cc``);
- ``letterbox``: ``ImageToTensorCalculator`` with ``keep_aspect_ratio`` and ``BORDER_ZERO``
  (``PadRoi`` in ``calculators/tensor/image_to_tensor_utils.cc``), and ``DetectionProjectionCalculator``
  for the way back.

Boxes are ``(xmin, ymin, xmax, ymax)``; keypoints ``(x, y)``; both normalized to the model input unless
a function says otherwise. No model and no OpenCV are needed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NUM_KEYPOINTS = 6
NUM_COORDS = 4 + 2 * NUM_KEYPOINTS
SCORE_CLIPPING_THRESH = 100.0
MIN_SUPPRESSION_THRESHOLD = 0.3


@dataclass(frozen=True)
class AnchorOptions:
    """The subset of MediaPipe's ``SsdAnchorsCalculatorOptions`` that the BlazeFace graphs set.

    Attributes:
        input_size: (height, width) of the model input.
        strides: one stride per output layer; consecutive equal strides share one grid.
        min_scale / max_scale: anchor scales of the first and last layer.
        anchor_offset: (x, y) offset of an anchor centre inside its cell, in cells.
        aspect_ratios: one anchor per aspect ratio per layer.
        interpolated_scale_aspect_ratio: adds one more anchor per layer with this aspect ratio (0: none).
        fixed_anchor_size: anchors have width and height 1 (BlazeFace regresses sizes in input pixels).
    """

    input_size: tuple[int, int]
    strides: tuple[int, ...]
    min_scale: float = 0.1484375
    max_scale: float = 0.75
    anchor_offset: tuple[float, float] = (0.5, 0.5)
    aspect_ratios: tuple[float, ...] = (1.0,)
    interpolated_scale_aspect_ratio: float = 1.0
    fixed_anchor_size: bool = True


SHORT_RANGE_ANCHORS = AnchorOptions(input_size=(128, 128), strides=(8, 16, 16, 16))
"""``face_detection_short_range.pbtxt``: 16x16 cells x 2 anchors + 8x8 cells x 6 anchors = 896."""

FULL_RANGE_ANCHORS = AnchorOptions(input_size=(192, 192), strides=(4,), interpolated_scale_aspect_ratio=0.0)
"""``face_detection_full_range.pbtxt``: 48x48 cells x 1 anchor = 2304."""


def _layer_scale(options: AnchorOptions, index: int) -> float:
    if len(options.strides) == 1:
        return (options.min_scale + options.max_scale) * 0.5
    return options.min_scale + (options.max_scale - options.min_scale) * index / (len(options.strides) - 1.0)


def ssd_anchors(options: AnchorOptions) -> np.ndarray:
    """SSD anchors in MediaPipe's order, as float32 rows ``(x_center, y_center, width, height)``.

    Layers with the same stride are merged: their anchors share one grid, cell by cell.
    """
    height, width = options.input_size
    rows: list[np.ndarray] = []
    layer = 0
    while layer < len(options.strides):
        sizes: list[tuple[float, float]] = []  # (width, height) of each anchor of one cell
        last = layer
        while last < len(options.strides) and options.strides[last] == options.strides[layer]:
            scale = _layer_scale(options, last)
            for ratio in options.aspect_ratios:
                sizes.append((scale * math.sqrt(ratio), scale / math.sqrt(ratio)))
            if options.interpolated_scale_aspect_ratio > 0.0:
                next_scale = 1.0 if last == len(options.strides) - 1 else _layer_scale(options, last + 1)
                interpolated = math.sqrt(scale * next_scale)
                ratio = options.interpolated_scale_aspect_ratio
                sizes.append((interpolated * math.sqrt(ratio), interpolated / math.sqrt(ratio)))
            last += 1
        stride = options.strides[layer]
        grid_h, grid_w = math.ceil(height / stride), math.ceil(width / stride)
        ys, xs = np.meshgrid(np.arange(grid_h), np.arange(grid_w), indexing="ij")
        cx = (xs.ravel() + options.anchor_offset[0]) / grid_w
        cy = (ys.ravel() + options.anchor_offset[1]) / grid_h
        for_cells = np.repeat(np.stack([cx, cy], axis=1), len(sizes), axis=0)
        wh = np.ones((len(sizes), 2)) if options.fixed_anchor_size else np.array(sizes)
        rows.append(np.concatenate([for_cells, np.tile(wh, (grid_h * grid_w, 1))], axis=1))
        layer = last
    return np.concatenate(rows).astype(np.float32)


def decode(raw: np.ndarray, anchors: np.ndarray, scale: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Raw regressors ``(N, 16)`` -> boxes ``(N, 4)`` and keypoints ``(N, 6, 2)``, normalized to the input.

    Args:
        raw: per anchor ``(dx, dy, w, h, kp0x, kp0y, ..., kp5x, kp5y)`` in input pixels (x first).
        anchors: ``(N, 4)`` rows ``(x_center, y_center, width, height)`` from ``ssd_anchors``.
        scale: ``(x_scale, y_scale)``, MediaPipe's ``x_scale``/``w_scale`` and ``y_scale``/``h_scale``:
            the input width and height for BlazeFace.

    Raises:
        ValueError: the shapes do not match.
    """
    if raw.ndim != 2 or raw.shape[1] != NUM_COORDS or anchors.shape != (raw.shape[0], 4):
        raise ValueError(f"expected raw (N, {NUM_COORDS}) and anchors (N, 4), got {raw.shape} and {anchors.shape}")
    factor = np.array(scale, dtype=np.float32)
    centre, size = anchors[:, :2], anchors[:, 2:]
    box_centre = raw[:, 0:2] / factor * size + centre
    box_size = raw[:, 2:4] / factor * size
    boxes = np.concatenate([box_centre - box_size / 2, box_centre + box_size / 2], axis=1)
    keypoints = raw[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) / factor * size[:, None, :] + centre[:, None, :]
    return boxes.astype(np.float32), keypoints.astype(np.float32)


def sigmoid_scores(logits: np.ndarray, clip: float = SCORE_CLIPPING_THRESH) -> np.ndarray:
    """Face probabilities from logits, clipped to ``[-clip, clip]`` first as MediaPipe does."""
    clipped = np.clip(logits.astype(np.float64), -clip, clip)  # float64: exp(100) overflows float32
    return (1.0 / (1.0 + np.exp(-clipped))).astype(np.float32)


def valid_boxes(boxes: np.ndarray) -> np.ndarray:
    """A mask of the boxes that are neither inverted nor NaN (MediaPipe drops the others before suppression)."""
    return (boxes[:, 2] >= boxes[:, 0]) & (boxes[:, 3] >= boxes[:, 1])


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box ``(4,)`` with each of ``boxes`` ``(M, 4)``; 0 where the union is empty."""
    iw = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    ih = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    inter = np.clip(iw, 0.0, None) * np.clip(ih, 0.0, None)
    area = np.clip(box[2] - box[0], 0.0, None) * np.clip(box[3] - box[1], 0.0, None)
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0.0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0.0, None)
    union = area + areas - inter
    return np.divide(inter, union, out=np.zeros_like(union, dtype=np.float64), where=union > 0)


def weighted_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    keypoints: np.ndarray,
    threshold: float = MIN_SUPPRESSION_THRESHOLD,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's weighted non-max suppression.

    Takes the best remaining detection, gathers every remaining detection whose IoU with it is above
    ``threshold`` (itself included), and replaces them by one detection: box corners and keypoints averaged
    with the scores as weights, the score of the best one. Repeats until none remain.

    Returns:
        boxes ``(K, 4)``, scores ``(K,)`` and keypoints ``(K, 6, 2)``, best score first.
    """
    order = np.argsort(-scores, kind="stable")
    kept_boxes, kept_scores, kept_keypoints = [], [], []
    while order.size:
        best = order[0]
        overlapping = iou(boxes[best], boxes[order]) > threshold
        members, rest = order[overlapping], order[~overlapping]
        box, points = boxes[best], keypoints[best]
        if members.size:
            weights = scores[members].astype(np.float64)
            total = weights.sum()
            box = (boxes[members] * weights[:, None]).sum(axis=0) / total
            points = (keypoints[members] * weights[:, None, None]).sum(axis=0) / total
        kept_boxes.append(box)
        kept_scores.append(scores[best])
        kept_keypoints.append(points)
        if rest.size == order.size:
            break  # a degenerate best box overlaps nothing, not even itself: MediaPipe stops here too
        order = rest
    if not kept_scores:
        return (np.zeros((0, 4), np.float32), np.zeros((0,), np.float32),
                np.zeros((0, keypoints.shape[1], 2), np.float32))
    return (np.asarray(kept_boxes, np.float32), np.asarray(kept_scores, np.float32),
            np.asarray(kept_keypoints, np.float32))


@dataclass(frozen=True)
class Letterbox:
    """Where the model input lies on the frame, after padding the frame to the input's aspect ratio.

    The frame is centred and padded with zeros on two opposite sides (MediaPipe's ``keep_aspect_ratio`` with
    ``BORDER_ZERO``), so the input covers the frame rectangle ``(x, y, width, height)``, in frame pixels,
    which reaches beyond the frame on the padded sides.
    """

    x: float
    y: float
    width: float
    height: float
    input_size: tuple[int, int]

    def affine(self) -> np.ndarray:
        """The 2x3 matrix that maps frame pixels to input pixels (for ``cv2.warpAffine``)."""
        sx = self.input_size[1] / self.width
        sy = self.input_size[0] / self.height
        return np.array([[sx, 0.0, -self.x * sx], [0.0, sy, -self.y * sy]], dtype=np.float64)

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """Normalized input coordinates ``(..., 2)`` -> frame pixels."""
        return points * np.array([self.width, self.height]) + np.array([self.x, self.y])

    def to_input(self, points: np.ndarray) -> np.ndarray:
        """Frame pixels ``(..., 2)`` -> normalized input coordinates (the inverse of ``to_frame``)."""
        return (points - np.array([self.x, self.y])) / np.array([self.width, self.height])


def letterbox(frame_size: tuple[int, int], input_size: tuple[int, int]) -> Letterbox:
    """The letterbox of a ``(height, width)`` frame for a ``(height, width)`` model input.

    Raises:
        ValueError: a size is not positive.
    """
    frame_h, frame_w = frame_size
    input_h, input_w = input_size
    if min(frame_h, frame_w, input_h, input_w) <= 0:
        raise ValueError(f"sizes must be positive, got frame {frame_size} and input {input_size}")
    input_aspect = input_h / input_w
    if input_aspect > frame_h / frame_w:
        width, height = float(frame_w), frame_w * input_aspect
    else:
        width, height = frame_h / input_aspect, float(frame_h)
    return Letterbox(x=(frame_w - width) / 2, y=(frame_h - height) / 2, width=width, height=height,
                     input_size=(input_h, input_w))
