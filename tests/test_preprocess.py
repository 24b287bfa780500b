"""Pure pre/post-processing, no model needed."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.manifest import Normalization, TensorQuantization
from runtime.preprocess import (
    check_frame,
    crop,
    dequantize,
    expand_box,
    prepare_faces,
    quantize,
    softmax,
    to_bgr,
    to_color,
)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (np.zeros((4, 4, 3), np.float32), "dtype uint8"),
        (np.zeros((4,), np.uint8), "shape"),
        (np.zeros((2, 4, 4, 3), np.uint8), "shape"),
        (np.zeros((4, 4, 5), np.uint8), "channels"),
        (np.zeros((0, 4, 3), np.uint8), "empty"),
        ([[1, 2], [3, 4]], "numpy array"),
    ],
)
def test_bad_frames_are_rejected_with_the_reason(frame, message):
    with pytest.raises(ValueError, match=message):
        check_frame(frame)


def test_colour_conversions():
    bgr = np.zeros((2, 2, 3), np.uint8)
    bgr[..., 2] = 200  # red in BGR
    assert to_color(bgr, "rgb")[0, 0].tolist() == [200, 0, 0]
    assert to_color(bgr, "gray")[0, 0] == round(0.299 * 200)
    bgra = np.dstack([bgr, np.full((2, 2), 255, np.uint8)])
    assert to_bgr(bgra).shape == (2, 2, 3)
    gray = np.full((2, 2), 7, np.uint8)
    assert to_bgr(gray)[0, 0].tolist() == [7, 7, 7]
    assert to_color(gray[..., None], "gray").shape == (2, 2)
    with pytest.raises(ValueError, match="color"):
        to_color(gray, "hsv")


def test_prepare_faces_resizes_normalizes_and_keeps_order():
    faces = [np.full((10, 12), v, np.uint8) for v in (0, 100, 255)]
    batch = prepare_faces(faces, (48, 48), "gray", Normalization(1 / 255.0, 0.0))
    assert batch.shape == (3, 48, 48, 1) and batch.dtype == np.float32
    np.testing.assert_allclose(batch[:, 0, 0, 0], [0.0, 100 / 255, 1.0], rtol=1e-6)
    rgb = prepare_faces(np.zeros((2, 48, 48), np.uint8), (64, 64), "rgb", Normalization(1 / 127.5, -1.0))
    assert rgb.shape == (2, 64, 64, 3) and rgb.min() == -1.0


def test_quantize_round_trip_and_clipping():
    params = TensorQuantization("int8", 0.5, -3)
    values = np.array([-100.0, -1.0, 0.0, 0.26, 10.0, 100.0], np.float32)
    q = quantize(values, params)
    assert q.dtype == np.int8 and q[0] == -128 and q[-1] == 127
    np.testing.assert_allclose(dequantize(q, params)[1:5], [-1.0, 0.0, 0.5, 10.0])
    assert quantize(np.array([255.0]), TensorQuantization("uint8", 1.0, 0))[0] == 255


def test_softmax_rows_sum_to_one():
    p = softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, 0.0]]))
    np.testing.assert_allclose(p.sum(1), 1.0)
    assert p[1, 0] == pytest.approx(1.0)


def test_expand_box_is_square_padded_and_clamped():
    assert expand_box((10, 20, 40, 20), 0.0, (100, 100)) == (10, 10, 50, 50)
    assert expand_box((10, 10, 20, 20), 0.5, (100, 100)) == (5, 5, 35, 35)
    x0, y0, x1, y1 = expand_box((-10, -10, 30, 30), 0.0, (50, 50))
    assert (x0, y0) == (0, 0) and (x1, y1) == (20, 20)
    outside = expand_box((200, 200, 10, 10), 0.0, (50, 50))
    assert crop(np.zeros((50, 50, 3), np.uint8), outside).size == 0


def test_crop_is_a_copy():
    frame = np.zeros((10, 10, 3), np.uint8)
    face = crop(frame, (2, 2, 6, 6))
    frame[:] = 9
    assert face.shape == (4, 4, 3) and face.max() == 0


@pytest.mark.parametrize("degrees", [-30.0, 15.0, 40.0])
def test_level_crop_turns_a_rolled_face_upright(degrees):
    """Two 'eyes' on a line rolled by an angle come out on one row, left before right, in the padded square."""
    import math

    import cv2

    from runtime.preprocess import level_crop

    frame = np.zeros((200, 240, 3), np.uint8)
    angle = math.radians(degrees)
    centre = np.array([120.0, 100.0])
    eyes = [centre + 30 * np.array([math.cos(angle), math.sin(angle)]) * side for side in (-1, 1)]
    for eye in eyes:
        cv2.circle(frame, tuple(round(v) for v in eye), 4, (255, 255, 255), -1)
    out = level_crop(frame, (80.0, 60.0, 80.0, 80.0), 0.25, angle)
    assert out.shape == (100, 100, 3)
    ys, xs = np.nonzero(out[:, :, 0] > 128)
    left, right = xs < 50, xs >= 50
    assert abs(ys[left].mean() - ys[right].mean()) < 1.5
    assert abs(xs[left].mean() - 20) < 1.5 and abs(xs[right].mean() - 80) < 1.5
