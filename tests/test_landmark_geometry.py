"""Face-mesh geometry (runtime.landmarks.geometry) on generated inputs: no model needed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runtime.landmarks import geometry as geo

PIXEL = 1e-6
SIZE = 192


def _rotate(points: np.ndarray, centre: tuple[float, float], angle: float) -> np.ndarray:
    cos, sin = math.cos(angle), math.sin(angle)
    rel = points - np.asarray(centre)
    return np.stack([cos * rel[:, 0] - sin * rel[:, 1], sin * rel[:, 0] + cos * rel[:, 1]], axis=1) + centre


def test_level_eyes_give_no_rotation_and_a_square_1_5x_roi():
    roi = geo.roi_from_detection((100, 50, 80, 60), ((120, 70), (160, 70)))
    assert (roi.cx, roi.cy, roi.side) == (140, 80, 120)
    assert roi.angle == 0


@pytest.mark.parametrize("degrees", [-60, -30, -5, 5, 30, 60])
def test_rotation_levels_the_eyes(degrees):
    """Eyes turned by an angle in the frame give the ROI that angle, and in the crop they are level again."""
    angle = math.radians(degrees)
    eyes = _rotate(np.array([[80.0, 100.0], [120.0, 100.0]]), (100, 100), angle)
    roi = geo.roi_from_detection((60, 60, 80, 80), tuple(map(tuple, eyes)))
    assert roi.angle == pytest.approx(angle)
    matrix = geo.crop_matrix(roi, SIZE)
    in_crop = eyes @ matrix[:, :2].T + matrix[:, 2]
    assert in_crop[0, 1] == pytest.approx(in_crop[1, 1], abs=PIXEL)
    assert in_crop[0, 0] < in_crop[1, 0]


@pytest.mark.parametrize("angle", [0.0, 0.4, -1.2, 3.0])
def test_to_frame_inverts_the_crop_matrix(angle):
    roi = geo.Roi(210.5, 130.25, 151.0, angle)
    matrix = geo.crop_matrix(roi, SIZE)
    frame_points = np.random.default_rng(0).uniform(100, 300, (50, 2))
    crop_points = frame_points @ matrix[:, :2].T + matrix[:, 2]
    back = geo.to_frame(np.column_stack([crop_points, np.full(50, 19.2)]), roi, SIZE)
    np.testing.assert_allclose(back[:, :2], frame_points, atol=PIXEL)
    np.testing.assert_allclose(back[:, 2], 19.2 / SIZE * roi.side)


def test_crop_corners_are_the_roi_corners():
    roi = geo.Roi(100, 100, 50, 0.0)
    corners = geo.to_frame(np.array([[0, 0, 0], [SIZE, SIZE, 0]], float), roi, SIZE)
    np.testing.assert_allclose(corners[:, :2], [[75, 75], [125, 125]])


def test_roi_from_landmarks_uses_the_eye_corners_and_the_bounding_box():
    points = np.zeros((468, 3))
    points[:, :2] = np.random.default_rng(1).uniform([100, 80], [160, 160], (468, 2))
    points[geo.RIGHT_EYE_OUTER, :2] = (110, 100)
    points[geo.LEFT_EYE_OUTER, :2] = (150, 110)
    roi = geo.roi_from_landmarks(points)
    x, y, w, h = geo.bounding_box(points)
    assert (roi.cx, roi.cy) == pytest.approx((x + w / 2, y + h / 2))
    assert roi.side == pytest.approx(1.5 * max(w, h))
    assert roi.angle == pytest.approx(math.atan2(10, 40))


def test_normalize_radians_and_sigmoid():
    assert geo.normalize_radians(3 * math.pi) == pytest.approx(-math.pi)
    assert geo.normalize_radians(0.5) == pytest.approx(0.5)
    assert geo.sigmoid(0.0) == 0.5 and geo.sigmoid(1e6) == pytest.approx(1.0) and geo.sigmoid(-1e6) >= 0.0


@pytest.mark.parametrize("box, keypoints", [((0, 0, 10, 10), ((1, 1),)), ((0, 0, 0, 10), ((1, 1), (5, 1))),
                                            ((0, 0, math.nan, 10), ((1, 1), (5, 1)))])
def test_bad_detections_raise_value_error(box, keypoints):
    with pytest.raises(ValueError):
        geo.roi_from_detection(box, keypoints)


@pytest.mark.parametrize("side", [0.0, -5.0, math.nan, math.inf])
def test_a_degenerate_roi_is_a_value_error_not_a_division_by_zero(side):
    with pytest.raises(ValueError, match="positive, finite side"):
        geo.crop_matrix(geo.Roi(100, 100, side), SIZE)
    with pytest.raises(ValueError, match="positive, finite side"):  # landmarks all at one point: a ROI of side 0
        geo.crop_matrix(geo.roi_from_landmarks(np.full((468, 3), 100.0)), SIZE)
