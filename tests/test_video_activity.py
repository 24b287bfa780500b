"""Video reports with landmarks, tracking and the facial-activity verdict, on generated videos."""

from __future__ import annotations

import json

import numpy as np
import pytest

from runtime.analyzer import Analyzer
from runtime.report import EMOTION_INTENSITY, FACIAL_ACTIVITY
from tests.videos import write_video

pytestmark = pytest.mark.slow
FPS = 10.0


@pytest.fixture(scope="module")
def model(converted):
    return converted / "tiny_int8.tflite"


def _photo_then_blank(photo: np.ndarray, path, face_frames: int, blank_frames: int):
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (photo.shape[1], photo.shape[0]))
    for i in range(face_frames + blank_frames):
        writer.write(photo if i < face_frames else np.zeros_like(photo))
    writer.release()
    return path


def test_still_face_video_gives_a_facial_activity_verdict(model, photo, tmp_path):
    video = write_video(tmp_path / "still.avi", 30, fps=FPS, image=photo)
    with Analyzer.from_model_path(model) as analyzer:
        report = analyzer.analyze_video(video)
    e = report.expressiveness
    assert e.method == FACIAL_ACTIVITY and e.level == "Reserved" and e.reason is None
    assert set(e.components) >= {"smiling", "brow_activity", "mouth_activity", "head_motion", "deformation"}
    assert all(f.activity is not None and f.activity < 0.5 for f in report.timeline)
    assert all(f.primary.landmarks is None and f.primary.landmark_score is None for f in report.timeline)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["expressiveness"]["method"] == FACIAL_ACTIVITY and "components" in data["expressiveness"]
    assert "activity" in data["timeline"][0] and "landmarks" not in data["timeline"][0]["faces"][0]
    with Analyzer.from_model_path(model, landmarks=True) as analyzer:  # asked for: in the results and the JSON
        marked = analyzer.analyze_video(video)
    assert marked.expressiveness == report.expressiveness
    assert len(marked.to_dict()["timeline"][0]["faces"][0]["landmarks"]) == 468


def test_too_little_face_and_face_lost_midway(model, photo, tmp_path):
    short = _photo_then_blank(photo, tmp_path / "short.avi", 15, 15)  # 1.5 s of face
    longer = _photo_then_blank(photo, tmp_path / "lost.avi", 25, 10)  # 2.5 s, then gone
    with Analyzer.from_model_path(model) as analyzer:
        too_little = analyzer.analyze_video(short)
        lost = analyzer.analyze_video(longer)
    assert too_little.expressiveness.level is None and "1.5 s" in too_little.expressiveness.reason
    assert lost.expressiveness.level is not None and lost.frames_without_face == 10
    assert [f.activity is None for f in lost.timeline] == [False] * 25 + [True] * 10


def test_no_face_at_all(model, tmp_path):
    video = write_video(tmp_path / "blank.avi", 25, fps=FPS)
    with Analyzer.from_model_path(model) as analyzer:
        e = analyzer.analyze_video(video).expressiveness
    assert e.level is None and e.reason == "no face with landmarks was found"


def test_methods_stay_selectable_and_tracking_agrees(model, photo, tmp_path):
    video = write_video(tmp_path / "still.avi", 30, fps=FPS, image=photo)
    with Analyzer.from_model_path(model, expressiveness=EMOTION_INTENSITY, landmarks=False) as plain:
        report = plain.analyze_video(video)
    assert report.expressiveness.method == EMOTION_INTENSITY
    assert report.timeline[0].primary.landmarks is None and report.timeline[0].activity is None
    with Analyzer.from_model_path(model, tracking=False) as every, Analyzer.from_model_path(model) as tracked:
        a, b = every.analyze_video(video), tracked.analyze_video(video)
    ious = [fa.primary.box.iou(fb.primary.box) for fa, fb in zip(a.timeline, b.timeline)]
    assert min(ious) > 0.8
    assert a.expressiveness.level == b.expressiveness.level


def test_stream_with_landmarks_tracks_and_smooths(model, photo):
    with Analyzer.from_model_path(model, landmarks=True) as analyzer:
        results = list(analyzer.analyze_stream([photo] * 5, fps=FPS, smoothing=0.5))
    assert all(r.primary.landmarks is not None for r in results)
    assert all(r.activity is None for r in results)
