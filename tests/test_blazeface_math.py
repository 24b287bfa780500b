"""The pure BlazeFace post-processing: anchors, decoding, scores, weighted NMS, letterbox. No model needed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runtime.detection import blazeface_math as bm

ATOL = 1e-6


def test_short_range_anchors_match_mediapipe_layout():
    anchors = bm.ssd_anchors(bm.SHORT_RANGE_ANCHORS)
    assert anchors.shape == (896, 4)
    assert anchors.dtype == np.float32
    np.testing.assert_array_equal(anchors[:, 2:], 1.0)  # fixed anchor size
    # stride 8: a 16x16 grid, 2 anchors per cell, row by row
    np.testing.assert_allclose(anchors[0, :2], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[1, :2], anchors[0, :2])
    np.testing.assert_allclose(anchors[2, :2], [1.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[511, :2], [15.5 / 16, 15.5 / 16])
    # the three stride-16 layers share one 8x8 grid, 6 anchors per cell
    np.testing.assert_allclose(anchors[512:518, :2], np.tile([0.5 / 8, 0.5 / 8], (6, 1)))
    np.testing.assert_allclose(anchors[518, :2], [1.5 / 8, 0.5 / 8])
    np.testing.assert_allclose(anchors[-1, :2], [7.5 / 8, 7.5 / 8])


def test_full_range_anchors_match_mediapipe_layout():
    anchors = bm.ssd_anchors(bm.FULL_RANGE_ANCHORS)
    assert anchors.shape == (2304, 4)
    np.testing.assert_array_equal(anchors[:, 2:], 1.0)
    np.testing.assert_allclose(anchors[0, :2], [0.5 / 48, 0.5 / 48])
    np.testing.assert_allclose(anchors[1, :2], [1.5 / 48, 0.5 / 48])
    np.testing.assert_allclose(anchors[48, :2], [0.5 / 48, 1.5 / 48])
    np.testing.assert_allclose(anchors[-1, :2], [47.5 / 48, 47.5 / 48])


def test_anchor_sizes_follow_mediapipe_scales_when_not_fixed():
    options = bm.AnchorOptions(input_size=(128, 128), strides=(8, 16, 16, 16), fixed_anchor_size=False)
    anchors = bm.ssd_anchors(options)
    first = 0.1484375
    second = 0.1484375 + (0.75 - 0.1484375) / 3
    np.testing.assert_allclose(anchors[0, 2:], [first, first], atol=ATOL)
    np.testing.assert_allclose(anchors[1, 2:], [math.sqrt(first * second)] * 2, atol=ATOL)
    np.testing.assert_allclose(anchors[517, 2:], [math.sqrt(0.75 * 1.0)] * 2, atol=ATOL)  # last layer: next is 1.0


def test_decode_hand_made_regressor():
    anchors = np.array([[0.5, 0.5, 1.0, 1.0]], dtype=np.float32)
    raw = np.zeros((1, bm.NUM_COORDS), dtype=np.float32)
    raw[0, :4] = [12.8, -6.4, 64.0, 32.0]  # dx, dy, w, h in input pixels (128 wide)
    raw[0, 4:6] = [0.0, 0.0]  # keypoint 0 on the anchor centre
    raw[0, 6:8] = [-64.0, 128.0]  # keypoint 1
    boxes, keypoints = bm.decode(raw, anchors, scale=(128.0, 128.0))
    np.testing.assert_allclose(boxes[0], [0.35, 0.325, 0.85, 0.575], atol=ATOL)
    np.testing.assert_allclose(keypoints[0, 0], [0.5, 0.5], atol=ATOL)
    np.testing.assert_allclose(keypoints[0, 1], [0.0, 1.5], atol=ATOL)
    assert keypoints.shape == (1, bm.NUM_KEYPOINTS, 2)


def test_decode_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="expected raw"):
        bm.decode(np.zeros((3, 16), np.float32), np.zeros((2, 4), np.float32), (128, 128))
    with pytest.raises(ValueError, match="expected raw"):
        bm.decode(np.zeros((2, 12), np.float32), np.zeros((2, 4), np.float32), (128, 128))


def test_sigmoid_scores_clip_logits_like_mediapipe():
    logits = np.array([0.0, 1000.0, -1000.0, 100.0, 2.0], dtype=np.float32)
    with np.errstate(over="raise"):
        scores = bm.sigmoid_scores(logits)
    assert scores[0] == pytest.approx(0.5)
    assert scores[1] == scores[3]  # clipped to +100 before the sigmoid
    assert 0.0 <= scores[2] < 1e-40
    assert scores[4] == pytest.approx(1 / (1 + math.exp(-2.0)))


def test_valid_boxes_drops_inverted_and_nan():
    boxes = np.array([[0, 0, 1, 1], [0.5, 0, 0.4, 1], [np.nan, 0, 1, 1], [0, 0, 0, 0]], dtype=np.float32)
    assert bm.valid_boxes(boxes).tolist() == [True, False, False, True]


def _points(n: int, value: float) -> np.ndarray:
    return np.full((n, bm.NUM_KEYPOINTS, 2), value, dtype=np.float32)


def test_weighted_nms_blends_overlapping_and_keeps_separate():
    boxes = np.array([
        [0.10, 0.10, 0.30, 0.30],  # best of the first face
        [0.12, 0.12, 0.32, 0.32],  # the same face, shifted (IoU 0.68)
        [0.60, 0.60, 0.80, 0.80],  # another face
    ], dtype=np.float32)
    scores = np.array([0.9, 0.6, 0.7], dtype=np.float32)
    keypoints = np.concatenate([_points(1, 0.2), _points(1, 0.3), _points(1, 0.7)])
    out_boxes, out_scores, out_points = bm.weighted_nms(boxes, scores, keypoints)
    assert out_scores.tolist() == pytest.approx([0.9, 0.7])  # the best score of each group, best first
    expected = (boxes[0] * 0.9 + boxes[1] * 0.6) / 1.5
    np.testing.assert_allclose(out_boxes[0], expected, atol=ATOL)
    np.testing.assert_allclose(out_points[0], (0.2 * 0.9 + 0.3 * 0.6) / 1.5, atol=ATOL)
    np.testing.assert_allclose(out_boxes[1], boxes[2], atol=ATOL)
    np.testing.assert_allclose(out_points[1], 0.7, atol=ATOL)


def test_weighted_nms_threshold_is_strict():
    # IoU exactly 1/3 merges at 0.3, not at 1/3 (MediaPipe suppresses only above the threshold)
    boxes = np.array([[0.0, 0.0, 0.2, 0.1], [0.1, 0.0, 0.3, 0.1]], dtype=np.float32)
    scores = np.array([0.9, 0.8], dtype=np.float32)
    assert bm.iou(boxes[0], boxes[1:])[0] == pytest.approx(1 / 3)
    assert len(bm.weighted_nms(boxes, scores, _points(2, 0.0), threshold=0.3)[1]) == 1
    assert len(bm.weighted_nms(boxes, scores, _points(2, 0.0), threshold=0.34)[1]) == 2


def test_weighted_nms_of_nothing_is_empty():
    boxes, scores, points = bm.weighted_nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), _points(0, 0))
    assert boxes.shape == (0, 4) and scores.shape == (0,) and points.shape == (0, bm.NUM_KEYPOINTS, 2)


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ((480, 640), bm.Letterbox(x=0.0, y=-80.0, width=640.0, height=640.0, input_size=(128, 128))),
        ((640, 480), bm.Letterbox(x=-80.0, y=0.0, width=640.0, height=640.0, input_size=(128, 128))),
        ((300, 300), bm.Letterbox(x=0.0, y=0.0, width=300.0, height=300.0, input_size=(128, 128))),
    ],
)
def test_letterbox_centres_the_frame(frame, expected):
    assert bm.letterbox(frame, (128, 128)) == expected


@pytest.mark.parametrize("frame", [(480, 640), (1137, 491), (375, 500), (192, 192)])
@pytest.mark.parametrize("size", [(128, 128), (192, 192)])
def test_letterbox_round_trips(frame, size):
    box = bm.letterbox(frame, size)
    points = np.array([[0.0, 0.0], [frame[1], frame[0]], [12.5, 300.25]])
    np.testing.assert_allclose(box.to_frame(box.to_input(points)), points, atol=1e-9)
    corners = box.to_input(np.array([[0.0, 0.0], [frame[1], frame[0]]]))
    assert corners.min() >= 0.0 and corners.max() <= 1.0  # the whole frame is inside the input
    matrix = box.affine()
    assert matrix @ [box.x, box.y, 1.0] == pytest.approx([0.0, 0.0])
    assert matrix @ [box.x + box.width, box.y + box.height, 1.0] == pytest.approx([size[1], size[0]])


def test_letterbox_rejects_empty_sizes():
    with pytest.raises(ValueError, match="positive"):
        bm.letterbox((0, 640), (128, 128))
