"""`fer-train activity`: participant-grouped folds, the ridge head, and the whole path on generated videos (and on
the real RecruitView sample's layout where it is present). No TensorFlow."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest

from convert.train import activity as train
from convert.train.cli import main
from runtime.analyzer import Analyzer
from runtime.expressiveness.head import HEAD_SCHEMA, load_head
from tests.conftest import REPO

FPS = 10.0


def test_grouped_folds_keep_each_participant_in_one_fold():
    groups = [f"p{i % 7}" for i in range(40)]
    masks = train.grouped_folds(groups, 5, seed=3)
    assert len(masks) == 5 and np.all(np.sum(masks, axis=0) == 1)  # every video in exactly one test fold
    for mask in masks:
        assert not {g for g, m in zip(groups, mask) if m} & {g for g, m in zip(groups, mask) if not m}
    assert len(train.grouped_folds(["a", "a", "b"], 5)) == 2  # no more folds than participants
    with pytest.raises(ValueError, match="2 participants"):
        train.grouped_folds(["a", "a"], 5)
    with pytest.raises(ValueError, match="folds"):
        train.grouped_folds(["a", "b"], 1)


def test_ridge_recovers_a_linear_rule_and_cross_validation_reports_it():
    rng = np.random.default_rng(0)
    features = rng.uniform(-2, 2, (120, len(train.FEATURES)))
    truth = np.zeros(len(train.FEATURES))
    truth[:3] = (0.8, -0.3, 0.5)
    scores = features @ truth + 0.2 + rng.normal(0, 0.1, 120)
    weights, bias = train.fit_ridge(features, scores, alpha=0.1)
    np.testing.assert_allclose(weights, truth, atol=0.05)
    assert bias == pytest.approx(0.2, abs=0.05)
    shrunk, _ = train.fit_ridge(features, scores, alpha=1e4)
    assert np.abs(shrunk).sum() < np.abs(weights).sum() / 2
    data = train.VideoFeatures(tuple(), tuple(f"p{i % 30}" for i in range(120)), features, scores)
    report = train.cross_validate(data, folds=5, alpha=1.0)
    assert report["folds"] == 5 and report["head"]["spearman"] > 0.9 and report["head"]["mae"] < 0.2
    assert set(report["untrained_measure"]) == {"spearman", "mae", "level_accuracy"}


def test_metrics():
    m = train.metrics(np.array([-1.0, 0.0, 1.0]), np.array([-0.5, 0.1, 2.0]))
    assert m["spearman"] == pytest.approx(1.0) and m["level_accuracy"] == 1.0
    assert m["mae"] == pytest.approx((0.5 + 0.1 + 1.0) / 3)
    assert train.metrics(np.array([1.0, 2.0]), np.array([0.0, 0.0]))["spearman"] is None


def _video(path, photo, frames, lively):
    """The sample photo, still, or turned and shifted a little from frame to frame (head movement)."""
    height, width = photo.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (width, height))
    for i in range(frames):
        frame = photo
        if lively:
            turn = cv2.getRotationMatrix2D((width / 2, height / 2), 8 * math.sin(i / 2), 1.0 + 0.03 * math.sin(i))
            turn[:, 2] += (6 * math.sin(i / 3), 0)
            frame = cv2.warpAffine(photo, turn, (width, height), borderMode=cv2.BORDER_REFLECT)
        writer.write(frame)
    writer.release()


def test_trains_on_generated_videos_and_the_runtime_uses_the_head(converted, photo, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    rows = []
    for i in range(4):
        lively = i % 2 == 1
        _video(videos / f"v{i}.avi", photo, 25, lively)
        rows.append({"file_name": f"v{i}.avi", "facial_expression": 0.8 if lively else -0.6, "user_no": str(i // 2)})
    _video(videos / "short.avi", photo, 8, False)  # 0.8 s of face: no components, reported and skipped
    rows.append({"file_name": "short.avi", "facial_expression": 0.0, "user_no": "9"})
    rows.append({"file_name": "missing.avi", "facial_expression": 1.0, "user_no": "9"})  # listed, absent
    metadata = tmp_path / "metadata.jsonl"
    metadata.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "head.json"
    with Analyzer.from_model_path(converted / "tiny_int8.tflite") as analyzer:
        report = train.train_activity_head(metadata, videos, out, folds=2, alpha=1.0, analyzer=analyzer)
    assert report["videos"] == 4 and report["participants"] == 2
    cv = report["cross_validation"]
    assert cv["folds"] == 2 and set(cv["head"]) == {"spearman", "mae", "level_accuracy"}
    head = load_head(out)
    assert json.loads(out.read_text())["schema"] == HEAD_SCHEMA and head.features == train.FEATURES
    with Analyzer.from_model_path(converted / "tiny_int8.tflite", expressiveness_model=out) as analyzer:
        verdict = analyzer.analyze_video(videos / "v1.avi").expressiveness
    assert verdict.method == "model:head.json" and verdict.level in ("Reserved", "Balanced", "Expressive")
    assert math.isfinite(verdict.score) and verdict.components


@pytest.mark.parametrize("text, match", [("{", "not valid JSON"), ("[]", "JSON object"), ('{"schema": "x"}', "schema"),
                                         (json.dumps({"schema": HEAD_SCHEMA, "features": ["loud"], "weights": [1],
                                                      "bias": 0}), "features"),
                                         (json.dumps({"schema": HEAD_SCHEMA, "features": ["smiling"],
                                                      "weights": [1, 2], "bias": 0}), "weights")])
def test_bad_head_files_are_refused(tmp_path, text, match):
    path = tmp_path / "head.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_head(path)
    with pytest.raises(FileNotFoundError):
        load_head(tmp_path / "none.json")


def test_cli_refuses_a_head_that_is_not_json(tmp_path):
    assert main(["activity", "--metadata", str(tmp_path / "m.jsonl"), "--videos", str(tmp_path),
                 "--out", str(tmp_path / "head.keras")]) == 2


@pytest.mark.data
@pytest.mark.slow
def test_the_real_sample_layout_end_to_end(tmp_path):
    """The RecruitView sample: five videos of one participant (no grouped evaluation possible: said, not
    faked), the listed missing video 1695 reported and skipped, a head written."""
    sample = REPO.parent / "shared" / "data" / "recruitview_sample"
    if not (sample / "metadata.jsonl").is_file():
        pytest.skip(f"the RecruitView sample is not at {sample}")
    out = tmp_path / "head.json"
    code = main(["activity", "--metadata", str(sample / "metadata.jsonl"), "--videos", str(sample),
                 "--out", str(out), "--frame-skip", "3"])
    assert code == 0
    training = json.loads(out.read_text())["training"]
    assert training["videos"] == 5 and training["participants"] == 1
    assert training["cross_validation"] is None and "2 participants" in training["cross_validation_skipped"]
