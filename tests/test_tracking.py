"""Face tracking's state and box-following (runtime.tracking), on generated frames and points: no model."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.results import Box
from runtime.tracking import DETECT, FOLLOW, FOLLOW_AND_DETECT, FaceTracker, Track, scene_cut, thumbnail


def _points(centre=(100.0, 120.0), scale=1.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    points = np.zeros((468, 3))
    points[:, :2] = np.asarray(centre) + scale * rng.uniform(-40, 40, (468, 2))
    points[33, :2] = (centre[0] - 30 * scale, centre[1] - 10 * scale)
    points[263, :2] = (centre[0] + 30 * scale, centre[1] - 10 * scale)
    return points


def test_a_track_moves_and_scales_its_box_with_the_landmarks():
    start = Track.start(Box(70, 85, 60, 60), 0.9, _points())
    box, following = start.follow(_points(centre=(150.0, 140.0), scale=2.0))
    # the box centre sat 5 px above the landmarks' centroid: twice that above the new one
    assert (box.x + box.width / 2, box.y + box.height / 2) == pytest.approx((150, 130), abs=1e-6)
    assert (box.width, box.height) == pytest.approx((120, 120))
    assert following.detection_score == 0.9 and following.roi.cx == pytest.approx(150, abs=3)


def test_the_plan_detects_first_then_follows_and_redetects_every_n_frames():
    frame = np.full((120, 160, 3), 90, np.uint8)
    tracker = FaceTracker(redetect_every=3)
    assert tracker.plan(frame) == DETECT
    tracker.detected([Track.start(Box(70, 85, 60, 60), 0.9, _points())])
    plans = []
    for _ in range(4):
        plans.append(tracker.plan(frame))
        tracker.followed(tracker.tracks, detected=plans[-1] == FOLLOW_AND_DETECT)
    assert plans == [FOLLOW, FOLLOW, FOLLOW_AND_DETECT, FOLLOW]
    assert tracker.detections == 2 and tracker.frames == 5


def test_a_scene_cut_or_no_track_means_detection():
    dark, bright = np.full((120, 160, 3), 20, np.uint8), np.full((120, 160, 3), 200, np.uint8)
    assert scene_cut(thumbnail(dark), thumbnail(bright)) and not scene_cut(thumbnail(dark), thumbnail(dark + 5))
    assert not scene_cut(None, thumbnail(dark))
    tracker = FaceTracker()
    tracker.plan(dark)
    tracker.detected([Track.start(Box(70, 85, 60, 60), 0.9, _points())])
    assert tracker.plan(dark) == FOLLOW
    assert tracker.plan(bright) == DETECT
    tracker.detected([])
    assert tracker.plan(bright) == DETECT  # nothing to follow


def test_tracking_off_detects_every_frame():
    tracker = FaceTracker(enabled=False)
    tracker.detected([Track.start(Box(70, 85, 60, 60), 0.9, _points())])
    assert tracker.plan(np.zeros((50, 50, 3), np.uint8)) == DETECT


@pytest.mark.parametrize(("frame_skip", "interval"), [(1, 30), (3, 10), (7, 4), (60, 1)])
def test_the_detector_interval_counts_the_videos_frames_not_the_analyzed_ones(analyzer, frame_skip, interval):
    """With --frame-skip 3, 30 analyzed frames were 3 s of video: a face entering went unseen that long."""
    from runtime.session import StreamSession

    session = StreamSession(analyzer, landmarks=True, frame_skip=frame_skip)
    assert session.tracker.redetect_every == interval
