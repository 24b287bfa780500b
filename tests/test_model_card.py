"""The model card is generated from the shipped manifests: its numbers are theirs."""

from __future__ import annotations

import pytest

from convert.model_card import write_card
from runtime.manifest import load_manifest
from runtime.paths import default_model_dir

pytest.importorskip("matplotlib", reason="the card's confusion-matrix pictures need matplotlib")


def test_card_lists_every_shipped_emotion_model_with_its_measured_accuracy(tmp_path):
    models = default_model_dir()
    card = write_card(models, "# Model card", out=tmp_path / "MODEL_CARD.md").read_text()
    deployable = [p for p in models.glob("emotion_*") if p.suffix in (".tflite", ".onnx")]
    assert deployable
    for path in deployable:
        manifest = load_manifest(path)
        accuracy = manifest.verification["privatetest"]["fer2013"]["accuracy"]
        assert f"| {path.name} |" in card and f"{100 * accuracy:.2f}" in card
        assert f"## {manifest.source['name']}" in card
    pictures = list((tmp_path / "card").glob("*_confusion.png"))
    assert pictures and all(f"(card/{p.name})" in card for p in pictures)
