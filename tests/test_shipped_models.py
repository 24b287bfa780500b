"""The shipped models: every file matches its manifest, loads without TensorFlow, and gives its golden output."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from runtime.analyzer import DEFAULT_EMOTION_MODEL, Analyzer
from runtime.classifier import ExpressionModel
from runtime.manifest import load_manifest, manifest_path, sha256_of
from runtime.paths import default_model_dir, shipped_emotion_models

REPO = Path(__file__).resolve().parents[1]
MODELS = default_model_dir()
GOLDEN = json.loads((REPO / "tests" / "golden" / "shipped_models.json").read_text())
SAMPLE = REPO / "samples" / GOLDEN["sample"]
DEPLOYABLE = shipped_emotion_models(MODELS)
KERAS = sorted(MODELS.glob("*.keras"))

GOLDEN_PROB_TOLERANCE = 1e-3  # same file, same input; engines may differ in the last bits across CPUs
GOLDEN_BOX_TOLERANCE = 1.0  # pixels


def test_the_default_model_is_shipped():
    assert (MODELS / DEFAULT_EMOTION_MODEL).is_file()
    assert DEFAULT_EMOTION_MODEL in GOLDEN["models"]


@pytest.mark.parametrize("path", DEPLOYABLE + KERAS, ids=lambda p: p.name)
def test_file_matches_its_manifest(path):
    manifest = load_manifest(path)
    assert manifest.file["name"] == path.name
    assert manifest.file["bytes"] == path.stat().st_size
    assert manifest.file["sha256"] == sha256_of(path)


@pytest.mark.parametrize("path", DEPLOYABLE, ids=lambda p: p.name)
def test_deployable_model_loads_and_names_its_source(path):
    manifest = load_manifest(path)
    source = MODELS / manifest.source["name"]
    assert source.is_file() and manifest.source["sha256"] == sha256_of(source)
    model = ExpressionModel(path)
    assert model.predict(np.zeros((2, 48, 48), np.uint8)).shape == (2, len(manifest.labels))
    assert manifest.verification["privatetest"]["fer2013"]["n"] == 3589


@pytest.mark.parametrize("path", DEPLOYABLE, ids=lambda p: p.name)
def test_golden_output_on_the_sample_photo(path):
    assert path.name in GOLDEN["models"], f"no golden output for {path.name}: run scripts/make_golden.py"
    with Analyzer.from_model_path(path) as analyzer:
        faces = analyzer.analyze(cv2.imread(str(SAMPLE)))
    expected = GOLDEN["models"][path.name]
    assert len(faces) == len(expected)
    for face, want in zip(faces, expected):
        np.testing.assert_allclose([face.box.x, face.box.y, face.box.width, face.box.height], want["box"],
                                   atol=GOLDEN_BOX_TOLERANCE)
        got = face.emotion.as_dict()
        assert face.top_emotion == want["top_emotion"]
        np.testing.assert_allclose([got[k] for k in want["probabilities"]], list(want["probabilities"].values()),
                                   atol=GOLDEN_PROB_TOLERANCE)


def test_every_manifest_has_its_model():
    for manifest in MODELS.glob("*.json"):
        model = manifest.with_name(manifest.name[: -len(".json")])
        assert model.is_file(), f"{manifest.name} has no model file"
        assert manifest_path(model) == manifest
