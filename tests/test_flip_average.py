"""Test-time flip averaging: each face read as it is and mirrored, the two probability vectors averaged."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.analyzer import Analyzer, AnalyzerOptions
from runtime.classifier import ExpressionModel
from runtime.paths import DEFAULT_EMOTION_MODEL
from tests.synthetic import synthetic_faces

TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def models():
    plain, flipped = ExpressionModel(DEFAULT_EMOTION_MODEL), ExpressionModel(DEFAULT_EMOTION_MODEL, flip_average=True)
    yield plain, flipped
    plain.close()
    flipped.close()


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


def test_the_analyzer_option_reaches_the_model(photo):
    with Analyzer(AnalyzerOptions(flip_average=True)) as flipped, Analyzer() as plain:
        assert flipped.emotion.flip_average and not plain.emotion.flip_average
        (a,), (b,) = flipped.analyze(photo), plain.analyze(photo)
    assert a.box == b.box and a.top_emotion == b.top_emotion
