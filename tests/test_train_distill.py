"""fer-train's warm start (--init-from) and knowledge distillation (--teacher): the targets, the checks, a run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="training needs TensorFlow (extra 'convert')")

from convert.train.cli import main
from convert.train.distill import load_teacher, soft_targets
from convert.train.loop import start_from
from convert.train.models import build_cnn
from runtime.manifest import load_manifest
from tests.fer_csv import write_fer_csv


def _constant_teacher(side: int, probabilities: list[float]):
    """A model whose output is ``probabilities`` for every image (zero kernel, bias = log p)."""
    import keras

    inputs = keras.Input((side, side, 1))
    x = keras.layers.Flatten()(inputs)
    dense = keras.layers.Dense(len(probabilities), activation="softmax")
    model = keras.Model(inputs, dense(x))
    dense.set_weights([np.zeros((side * side, len(probabilities)), np.float32),
                       np.log(np.asarray(probabilities, np.float32))])
    return model


@pytest.mark.parametrize("image_side", [48, 32])
def test_soft_targets_mix_labels_with_the_teachers_probabilities(image_side):
    teacher_p = [0.1, 0.2, 0.7]
    teacher = _constant_teacher(48, teacher_p)
    images = np.random.default_rng(0).uniform(0, 255, (4, image_side, image_side, 1)).astype(np.float32)
    labels = np.eye(3, dtype=np.float32)[[0, 1, 2, 2]]
    targets = np.asarray(soft_targets(teacher, images, labels, 0.25))
    np.testing.assert_allclose(targets, 0.75 * labels + 0.25 * np.asarray(teacher_p), atol=1e-6)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-6)


def test_teacher_that_does_not_fit_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="teacher model file not found"):
        load_teacher(tmp_path / "none.keras", 7)
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"not a zip archive")
    with pytest.raises(ValueError, match="cannot be loaded as a Keras model"):
        load_teacher(corrupt, 7)
    three = tmp_path / "three.keras"
    _constant_teacher(48, [0.2, 0.3, 0.5]).save(three)
    with pytest.raises(ValueError, match="predicts 3 classes, the student 7"):
        load_teacher(three, 7)
    assert load_teacher(three, 3).trainable is False


def test_start_from_copies_weights_and_refuses_another_architecture(tmp_path):
    source = build_cnn(7)
    path = tmp_path / "source.keras"
    source.save(path)
    target = build_cnn(7)
    start_from(target, path)
    for a, b in zip(source.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="does not have the architecture being trained"):
        start_from(build_cnn(7, input_side=32), path)
    with pytest.raises(FileNotFoundError, match="starting model file not found"):
        start_from(target, tmp_path / "none.keras")


@pytest.mark.slow
def test_distilled_warm_started_run_records_both_and_bad_options_fail(tmp_path, caplog):
    data = write_fer_csv(tmp_path / "fer.csv", {"Training": 48, "PublicTest": 16, "PrivateTest": 16})
    teacher = tmp_path / "teacher.keras"
    build_cnn(7).save(teacher)
    init = tmp_path / "init.keras"
    build_cnn(7).save(init)
    base = ["emotion", "--data", str(data), "--epochs", "1", "--batch-size", "16", "--no-ferplus"]
    out = tmp_path / "student.keras"
    args = [*base, "--run-dir", str(tmp_path / "run"), "--out", str(out), "--init-from", str(init),
            "--teacher", str(teacher), "--teacher", str(teacher), "--distill-weight", "0.4"]
    with caplog.at_level("INFO"):
        assert main(args) == 0
    assert "starting from the weights of" in caplog.text
    config = load_manifest(out).extra["training"]["config"]
    assert config["teachers"] == [str(teacher), str(teacher)] and config["init_from"] == str(init)
    assert config["distill_weight"] == 0.4
    assert json.loads((tmp_path / "run" / "state.json").read_text())["epoch"] == 1

    caplog.clear()
    with caplog.at_level("ERROR"):
        assert main([*base, "--run-dir", str(tmp_path / "r2"), "--distill-weight", "1.5", "--teacher",
                     str(teacher)]) == 2
        assert main([*base, "--run-dir", str(tmp_path / "r3"), "--teacher", str(tmp_path / "none.keras")]) == 2
        assert main([*base, "--run-dir", str(tmp_path / "r4"), "--arch", "mobilenetv2", "--input-side", "32",
                     "--init-from", str(init)]) == 2
    assert "within 0..1" in caplog.text and "teacher model file not found" in caplog.text
    assert "does not have the architecture being trained" in caplog.text


def test_training_record_keeps_the_stage_it_started_from(tmp_path):
    from convert.train.export import export_keras_model, training_record

    config = {"epochs": 1, "init_from": None}
    first = tmp_path / "first.keras"
    build_cnn(7).save(tmp_path / "run_best.keras")
    state = {"config": config, "best_epoch": 1, "best_val_accuracy": 0.5, "seconds": 60.0}
    export_keras_model(tmp_path / "run_best.keras", first, "emotion", tuple("abcdefg"), 48, state, {})
    record = training_record({**state, "config": {**config, "init_from": str(first)}, "seconds": 120.0})
    earlier = record["started_from"]
    assert earlier["file"] == "first.keras" and earlier["seconds"] == 60.0 and earlier["config"] == config
    assert earlier["sha256"] == load_manifest(first).file["sha256"]
    moved = training_record({**state, "config": {**config, "init_from": str(tmp_path / "gone.keras")}})
    assert moved["started_from"] == {"file": "gone.keras"}


def test_a_distilled_runs_record_keeps_its_teachers_and_their_ensembles_accuracy(tmp_path):
    from convert.train.export import export_keras_model, training_record

    build_cnn(7).save(tmp_path / "run_best.keras")
    machine = {"model": "AMD EPYC", "cores": 2, "features": ["avx2"]}
    teacher_state = {"config": {"epochs": 150, "init_from": None}, "best_epoch": 149, "best_val_accuracy": 0.69,
                     "seconds": 36000.0, "machine": machine}
    figures = {"privatetest": {"fer2013": {"n": 16, "accuracy": 0.70, "macro_f1": 0.6},
                               "ferplus": {"n": 14, "accuracy": 0.81, "macro_f1": 0.7}}}
    teacher = export_keras_model(tmp_path / "run_best.keras", tmp_path / "teacher.keras", "emotion", tuple("abcdefg"),
                                 48, teacher_state, figures, extra={"architecture": "resnet", "width": 32})
    config = {"epochs": 150, "init_from": None, "teachers": [str(teacher), str(tmp_path / "gone.keras")],
              "distill_weight": 0.5}
    student = {"config": config, "best_epoch": 140, "best_val_accuracy": 0.7, "seconds": 9000.0, "machine": machine}
    record = training_record(student, teacher_ensemble=figures)
    first, gone = record["teachers"]
    assert first["file"] == "teacher.keras" and first["sha256"] == load_manifest(teacher).file["sha256"]
    assert first["architecture"] == "resnet" and first["width"] == 32 and first["seconds"] == 36000.0
    assert first["privatetest"] == {"fer2013": {"accuracy": 0.70}, "ferplus": {"accuracy": 0.81}}
    assert first["machine"] == machine and gone == {"file": "gone.keras"}
    assert record["teacher_ensemble"] == figures
    # a teacher's share of 0 is no distillation: nothing about teachers is kept
    undistilled = training_record({**student, "config": {**config, "distill_weight": 0.0}}, figures)
    assert "teachers" not in undistilled and "teacher_ensemble" not in undistilled


def test_an_ensemble_of_teachers_averages_them_and_their_mirror_images():
    """Two constant teachers average; a teacher that reads one side of the face is averaged with its mirror image."""
    import keras

    first, second = _constant_teacher(48, [0.1, 0.2, 0.7]), _constant_teacher(32, [0.5, 0.3, 0.2])
    images = np.zeros((2, 48, 48, 1), np.float32)
    labels = np.eye(3, dtype=np.float32)[[0, 1]]
    targets = np.asarray(soft_targets([first, second], images, labels, 1.0))
    np.testing.assert_allclose(targets, [[0.3, 0.25, 0.45]] * 2, atol=1e-6)

    inputs = keras.Input((4, 4, 1))
    left = keras.layers.Lambda(lambda x: x[:, :, :2, 0])(inputs)  # the left half decides
    logits = keras.layers.Dense(2)(keras.layers.Flatten()(left))
    one_sided = keras.Model(inputs, keras.layers.Softmax()(logits))
    one_sided.layers[-2].set_weights([np.array([[1.0, -1.0]] * 8, np.float32), np.zeros(2, np.float32)])
    face = np.zeros((1, 4, 4, 1), np.float32)
    face[0, :, :2] = 1.0  # bright on the left
    seen = np.asarray(soft_targets(one_sided, face, np.zeros((1, 2), np.float32), 1.0, flip=False))
    mirrored = np.asarray(soft_targets(one_sided, face, np.zeros((1, 2), np.float32), 1.0))
    assert seen[0, 0] > 0.99 and mirrored[0, 0] == pytest.approx((seen[0, 0] + 0.5) / 2, abs=1e-5)


def test_offline_targets_are_the_soft_targets_of_the_faces_as_they_are():
    from convert.train.distill import offline_targets

    first, second = _constant_teacher(48, [0.1, 0.2, 0.7]), _constant_teacher(32, [0.5, 0.3, 0.2])
    images = np.random.default_rng(1).uniform(0, 255, (5, 48, 48, 1)).astype(np.float32)
    indices = np.array([0, 1, 2, 2, 0])
    targets = offline_targets([first, second], images, indices, 0.5, batch_size=2)  # batches of 2, 2 and 1
    expected = 0.5 * np.eye(3)[indices] + 0.5 * np.array([0.3, 0.25, 0.45])
    assert targets.dtype == np.float32 and targets.shape == (5, 3)
    np.testing.assert_allclose(targets, expected, atol=1e-6)
    soft = np.full((5, 3), 1 / 3, np.float32)
    np.testing.assert_allclose(offline_targets([first], images, soft, 0.0), soft, atol=1e-7)
    online = np.asarray(soft_targets([first, second], images, np.eye(3, dtype=np.float32)[indices], 0.5))
    np.testing.assert_allclose(targets, online, atol=1e-6)


@pytest.mark.slow
def test_offline_distillation_and_width_are_recorded_and_a_wrong_width_is_refused(tmp_path, caplog):
    data = write_fer_csv(tmp_path / "fer.csv", {"Training": 48, "PublicTest": 16, "PrivateTest": 16})
    teacher = tmp_path / "teacher.keras"
    _constant_teacher(48, [0.4, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]).save(teacher)
    base = ["emotion", "--data", str(data), "--epochs", "1", "--batch-size", "16", "--no-ferplus"]
    out = tmp_path / "student.keras"
    with caplog.at_level("INFO"):
        assert main([*base, "--arch", "resnet", "--width", "8", "--run-dir", str(tmp_path / "run"), "--out",
                     str(out), "--teacher", str(teacher), "--distill-offline"]) == 0
    assert "distilled offline from 1 teacher(s)" in caplog.text
    caplog.clear()
    with caplog.at_level("INFO"):  # a finished run exports again without asking the teachers
        assert main([*base, "--arch", "resnet", "--width", "8", "--run-dir", str(tmp_path / "run"), "--out",
                     str(tmp_path / "again.keras"), "--teacher", str(teacher), "--distill-offline"]) == 0
    assert "already finished" in caplog.text and "distilled offline" not in caplog.text
    assert (tmp_path / "again.keras").is_file()
    manifest = load_manifest(out)
    config = manifest.extra["training"]["config"]
    assert config["distill_offline"] is True and config["teachers"] == [str(teacher)]
    # the constant teacher always says Angry (class 0): its accuracy is the share of Angry faces in PrivateTest
    test_labels = np.array([int(line.split(",")[0]) for line in data.read_text().splitlines()[1:]
                            if line.endswith("PrivateTest")])
    ensemble = manifest.extra["training"]["teacher_ensemble"]["privatetest"]["fer2013"]
    assert ensemble["n"] == 16 and ensemble["accuracy"] == pytest.approx(np.mean(test_labels == 0))
    assert manifest.extra["training"]["teachers"][0]["file"] == "teacher.keras"
    assert manifest.extra["width"] == 8
    import keras

    widths = [layer.filters for layer in keras.models.load_model(out).layers if hasattr(layer, "filters")]
    assert widths[0] == 16 and max(widths) == 64  # the stem (at least 16), then 8, 16, 32, 64

    caplog.clear()
    with caplog.at_level("ERROR"):
        assert main([*base, "--run-dir", str(tmp_path / "r2"), "--width", "16"]) == 2  # the cnn has no width
        assert main([*base, "--arch", "sepnet", "--run-dir", str(tmp_path / "r3"), "--width", "2"]) == 2
    assert caplog.text.count("--width applies to resnet and sepnet only") == 2


def test_a_run_started_before_a_config_field_existed_resumes(tmp_path):
    """state.json written by an older fer-train lacks the newer FitConfig fields; their defaults are assumed."""
    from dataclasses import asdict

    from convert.train.loop import FitConfig, fit

    config = FitConfig(epochs=1, batch_size=8, learning_rate=1e-3)
    run = tmp_path / "run"
    images = np.random.default_rng(2).uniform(0, 255, (16, 48, 48, 1)).astype(np.float32)
    labels = np.arange(16) % 7
    fit(lambda: build_cnn(7), (images, labels), (images, labels), 7, config, run)
    state = json.loads((run / "state.json").read_text())
    assert state["machine"]["cores"] >= 1 and "features" in state["machine"]  # where the run started
    del state["config"]["distill_offline"]
    (run / "state.json").write_text(json.dumps(state))
    assert fit(lambda: build_cnn(7), (images, labels), (images, labels), 7, config, run)["epoch"] == 1
    state["config"]["distill_offline"] = True
    (run / "state.json").write_text(json.dumps(state))
    with pytest.raises(ValueError, match="another configuration"):
        fit(lambda: build_cnn(7), (images, labels), (images, labels), 7, config, run)
    assert asdict(config)["distill_offline"] is False


def test_a_run_killed_while_saving_keeps_its_last_whole_checkpoint_and_resumes(tmp_path, monkeypatch):
    """A session's end can stop a background run at any moment, also in the middle of writing a checkpoint."""
    import keras

    from convert.train.loop import FitConfig, fit

    config = FitConfig(epochs=2, batch_size=8, learning_rate=1e-3)
    run = tmp_path / "run"
    images = np.random.default_rng(3).uniform(0, 255, (16, 48, 48, 1)).astype(np.float32)
    labels = np.arange(16) % 7
    real_save, saves = keras.Model.save, []

    def killed_in_the_second_epoch(model, path, *args, **kwargs):
        saves.append(path)
        if len(saves) <= 2:  # epoch 1: the last and the best model
            return real_save(model, path, *args, **kwargs)
        Path(path).write_bytes(b"half a zip")
        raise KeyboardInterrupt("killed while saving")

    monkeypatch.setattr(keras.Model, "save", killed_in_the_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        fit(lambda: build_cnn(7), (images, labels), (images, labels), 7, config, run)
    monkeypatch.setattr(keras.Model, "save", real_save)
    assert Path(saves[-1]).name.endswith(".partial.keras")  # the half-written file was never the checkpoint
    assert json.loads((run / "state.json").read_text())["epoch"] == 1
    keras.models.load_model(run / "last.keras")
    assert fit(lambda: build_cnn(7), (images, labels), (images, labels), 7, config, run)["epoch"] == 2
    assert not [p.name for p in run.iterdir() if "partial" in p.name]


def test_a_second_process_on_the_same_run_folder_is_refused(tmp_path):
    import subprocess
    import sys

    from convert.train.loop import run_lock

    run = tmp_path / "run"
    holder = ("import sys, time; from pathlib import Path; from convert.train.loop import run_lock\n"
              "with run_lock(Path(sys.argv[1])):\n    print('holding', flush=True); time.sleep(60)")
    other = subprocess.Popen([sys.executable, "-c", holder, str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "holding"
        with pytest.raises(ValueError, match="another fer-train is training in"), run_lock(run):
            pass
    finally:
        other.kill()
        other.wait()
    with run_lock(run):  # free again once that process has gone
        pass
