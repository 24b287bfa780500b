"""The model card is generated from the shipped manifests: its numbers are theirs."""

from __future__ import annotations

import pytest

from convert.model_card import write_card
from runtime.manifest import load_manifest
from runtime.paths import default_model_dir, shipped_emotion_models

pytest.importorskip("matplotlib", reason="the card's confusion-matrix pictures need matplotlib")


def test_card_lists_every_shipped_emotion_model_with_its_measured_accuracy(tmp_path):
    models = default_model_dir()
    card = write_card(models, "# Model card", out=tmp_path / "MODEL_CARD.md").read_text()
    deployable = shipped_emotion_models(models)
    assert deployable
    for path in deployable:
        manifest = load_manifest(path)
        accuracy = manifest.verification["privatetest"]["fer2013"]["accuracy"]
        assert f"| {path.name} |" in card and f"{100 * accuracy:.2f}" in card
        assert f"## {manifest.source['name']}" in card
    pictures = list((tmp_path / "card").glob("*_confusion.png"))
    assert pictures and all(f"(card/{p.name})" in card for p in pictures)


def test_a_warm_started_distilled_model_shows_every_stage_and_the_total_time():
    from convert.model_card import _training_lines

    config = {"epochs": 15, "batch_size": 64, "learning_rate": 0.002, "label_smoothing": 0.1, "seed": 1234}
    first = {"config": config, "best_epoch": 14, "best_val_accuracy": 0.5639, "seconds": 1800}
    second = {"config": {**config, "epochs": 40, "init_from": "runs/stage1.keras", "teacher": "models/cnn.keras",
                         "distill_weight": 0.5},
              "best_epoch": 38, "best_val_accuracy": 0.66, "seconds": 6000, "started_from": {"file": "stage1.keras",
                                                                                             **first}}
    lines = _training_lines(second)
    assert lines[0].startswith("- Training stage 1 of 2: 15 epochs (best on PublicTest: epoch 14, 56.39%)")
    assert "40 epochs, starting from stage 1's best model, distilled from cnn.keras" in lines[1]
    assert "with weight 0.5 (best on PublicTest: epoch 38, 66.00%)" in lines[1] and "100 minutes" in lines[1]
    assert lines[2] == ('- Total training time: 130 minutes on a 2-core CPU not recorded in the manifest (see '
                        '"Training machines" above).')
    assert _training_lines(first)[0].startswith("- Training: 15 epochs")
    # a model whose starting point was not recorded (moved away) is one stage
    assert len(_training_lines({**second, "started_from": {"file": "stage1.keras"}})) == 1


def test_the_training_recipe_and_machine_reach_the_card():
    from convert.model_card import _training_lines, architecture_text

    machine = {"model": "AMD EPYC", "arch": "x86_64", "cores": 2,
               "features": ["sse4_2", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni"]}
    config = {"epochs": 80, "batch_size": 64, "learning_rate": 0.002, "label_smoothing": 0.1, "seed": 1234,
              "teachers": ["models/emotion_cnn.keras", "models/emotion_mobilenetv2.keras"], "distill_weight": 0.4,
              "distill_offline": True, "erasing": 0.5, "soft_labels": "fer2013new.csv", "soft_label_weight": 0.5}
    stage = {"config": config, "best_epoch": 77, "best_val_accuracy": 0.69, "seconds": 6600, "machine": machine}
    (line,) = _training_lines(stage)
    assert "FER+ vote distributions mixed in with weight 0.5" in line
    assert ("distilled offline (the teachers asked once, on the un-augmented faces) from emotion_cnn.keras + "
            "emotion_mobilenetv2.keras, each averaged with its mirror image, with weight 0.4") in line
    assert "random erasing with probability 0.5" in line
    assert line.endswith("110 minutes of training on a 2-core AMD EPYC (avx2, avx512f, avx512_vnni).")
    plain = _training_lines({**stage, "config": {**config, "teachers": [], "erasing": 0.0, "soft_labels": None}})[0]
    assert "distilled" not in plain and "erasing" not in plain and "FER+" not in plain
    assert "widths 16/32/64/128" in architecture_text("resnet", None)
    assert "widths 48/96/192/384" in architecture_text("sepnet", 48)
    assert architecture_text("vgg", None) == "vgg"


def test_a_students_teachers_and_their_ensemble_reach_the_card():
    from convert.model_card import _training_lines

    machine = {"model": "AMD EPYC", "cores": 2, "features": ["avx2"]}
    config = {"epochs": 150, "batch_size": 64, "learning_rate": 0.002, "label_smoothing": 0.1, "seed": 1234,
              "erasing": 0.5}
    teacher = {"file": "teacher-resnet.keras", "architecture": "resnet", "width": 32, "config": config,
               "best_epoch": 149, "best_val_accuracy": 0.69, "seconds": 18000, "machine": machine,
               "privatetest": {"fer2013": {"accuracy": 0.7012}, "ferplus": {"accuracy": 0.8123}}}
    student = {"config": {**config, "teachers": ["runs/teacher-resnet.keras", "runs/gone.keras"],
                          "distill_weight": 0.5, "distill_offline": True},
               "best_epoch": 144, "best_val_accuracy": 0.70, "seconds": 6000, "machine": machine,
               "teachers": [teacher, {"file": "gone.keras"}],
               "teacher_ensemble": {"privatetest": {"fer2013": {"n": 3589, "accuracy": 0.7234, "macro_f1": 0.7}}}}
    lines = _training_lines(student)
    assert lines[0].startswith("- Training: 150 epochs") and "from teacher-resnet.keras + gone.keras" in lines[0]
    assert lines[1].startswith("- Teacher teacher-resnet.keras: narrow ResNet") and "widths 32/64/128/256" in lines[1]
    assert ("150 epochs, random erasing with probability 0.5, 300 minutes on a 2-core AMD EPYC (avx2); "
            "PrivateTest 70.12%, FER+ 81.23%.") in lines[1]
    assert lines[2] == "- Teacher gone.keras: its manifest was not at hand when the student was exported."
    assert lines[3] == ("- The teachers' ensemble (each averaged with its mirror image), what the student learnt "
                        "from: PrivateTest 72.34%.")
    assert lines[4] == ("- Total training time: 400 minutes on a 2-core AMD EPYC (avx2), the teachers' own training "
                        "included.")
    assert len(lines) == 5
