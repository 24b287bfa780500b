"""Test-time averaging: each face read as it is and mirrored (flip), whole and as its four corner crops (crops),
the probability vectors averaged."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.analyzer import Analyzer, AnalyzerOptions
from runtime.classifier import ExpressionModel
from runtime.paths import DEFAULT_EMOTION_MODEL
from runtime.views import corner_crops, view_count
from tests.synthetic import synthetic_faces

TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def models():
    plain, flipped = ExpressionModel(DEFAULT_EMOTION_MODEL), ExpressionModel(DEFAULT_EMOTION_MODEL, flip_average=True)
    yield plain, flipped
    plain.close()
    flipped.close()


@pytest.fixture(scope="module")
def cropped():
    crops = ExpressionModel(DEFAULT_EMOTION_MODEL, crop_average=True)
    both = ExpressionModel(DEFAULT_EMOTION_MODEL, crop_average=True, flip_average=True)
    yield crops, both
    crops.close()
    both.close()


def test_flip_average_is_the_mean_of_the_face_and_its_mirror(models):
    plain, flipped = models
    faces, _ = synthetic_faces(5, seed=3)
    expected = (plain.predict(faces) + plain.predict(faces[:, :, ::-1])) / 2
    got = flipped.predict(faces)
    assert got.shape == (5, len(plain.labels))
    np.testing.assert_allclose(got, expected, atol=TOLERANCE)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=0.01)  # int8 outputs come in steps of 1/256
    assert not np.allclose(got, plain.predict(faces), atol=1e-3), "the generated faces are not symmetric"


def test_a_symmetric_face_is_unchanged(models):
    plain, flipped = models
    (face,), _ = synthetic_faces(1, seed=4)
    symmetric = np.concatenate([face[:, :24], face[:, :24][:, ::-1]], axis=1)
    np.testing.assert_allclose(flipped.predict(symmetric), plain.predict(symmetric), atol=TOLERANCE)


def test_one_and_zero_faces_and_colour_crops(models):
    _, flipped = models
    assert flipped.predict(np.zeros((0, 48, 48), np.uint8)).shape == (0, 7)
    colour = np.random.default_rng(0).integers(0, 255, (60, 50, 3), dtype=np.uint8)
    assert flipped.predict(colour).shape == (1, 7)


def test_corner_crops_are_the_four_corners_at_eleven_twelfths():
    image = np.arange(48 * 60, dtype=np.int32).reshape(48, 60)
    corners = corner_crops(image)
    assert [c.shape for c in corners] == [(44, 55)] * 4
    assert [int(c[0, 0]) for c in corners] == [image[0, 0], image[0, 5], image[4, 0], image[4, 5]]
    assert [int(c[-1, -1]) for c in corners] == [image[43, 54], image[43, 59], image[47, 54], image[47, 59]]
    assert [c.shape for c in corner_crops(np.zeros((1, 1, 3)))] == [(1, 1, 3)] * 4  # never empty
    assert (view_count(False, False), view_count(True, False), view_count(False, True), view_count(True, True)) == (
        1, 2, 5, 10)


def test_crop_average_is_the_mean_of_the_face_and_its_corners(models, cropped):
    plain, flipped = models
    crops, both = cropped
    faces, _ = synthetic_faces(3, seed=5)
    views = [list(faces)] + [[corner_crops(face)[index] for face in faces] for index in range(4)]
    expected = np.mean([plain.predict(view) for view in views], axis=0)
    got = crops.predict(faces)
    assert got.shape == (3, len(plain.labels))
    np.testing.assert_allclose(got, expected, atol=TOLERANCE)
    assert not np.allclose(got, plain.predict(faces), atol=1e-3), "the corner crops changed nothing"
    mirrored = np.mean([flipped.predict(view) for view in views], axis=0)
    np.testing.assert_allclose(both.predict(faces), mirrored, atol=TOLERANCE)


def test_crop_average_on_a_tiny_and_a_colour_crop_and_none(cropped):
    crops, both = cropped
    assert both.predict(np.zeros((0, 48, 48), np.uint8)).shape == (0, 7)
    tiny = np.full((2, 3), 128, np.uint8)
    colour = np.random.default_rng(1).integers(0, 255, (70, 64, 3), dtype=np.uint8)
    for model in (crops, both):
        probabilities = model.predict([tiny, colour])
        assert probabilities.shape == (2, 7) and np.isfinite(probabilities).all()


def test_the_analyzer_options_reach_the_model(photo):
    options = AnalyzerOptions(flip_average=True, crop_average=True)
    with Analyzer(options) as averaged, Analyzer() as plain:
        assert averaged.emotion.flip_average and not plain.emotion.flip_average
        assert averaged.emotion.crop_average and not plain.emotion.crop_average
        (a,), (b,) = averaged.analyze(photo), plain.analyze(photo)
    assert a.box == b.box and a.top_emotion == b.top_emotion
