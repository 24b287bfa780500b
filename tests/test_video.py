"""Reading videos frame by frame, and the per-video report, without any model."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.report import FrameResult, expressiveness_from_emotions, level_for_score, summarize
from runtime.results import Box, Classification, Face
from runtime.summary import timeline_csv, video_summary
from runtime.video import FrameReader
from tests.videos import truncate, write_video

LABELS = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")


def test_reads_every_nth_frame_up_to_max(tmp_path):
    video = write_video(tmp_path / "v.avi", 30)
    reader = FrameReader(video, frame_skip=3, max_frames=4)
    got = [(index, round(ts, 3)) for index, ts, _ in reader]
    assert got == [(0, 0.0), (3, 0.3), (6, 0.6), (9, 0.9)]
    assert reader.complete and reader.fps == pytest.approx(10.0)


def test_frames_are_the_right_ones(tmp_path):
    video = write_video(tmp_path / "v.avi", 12)
    means = [frame.mean() for _, _, frame in FrameReader(video, frame_skip=5)]
    assert len(means) == 3
    assert means == sorted(means) and abs(means[1] - 40) < 6  # frame 5 has brightness 40


def test_video_that_ends_early_warns_and_keeps_what_was_read(tmp_path, caplog):
    video = truncate(write_video(tmp_path / "v.avi", 30))
    reader = FrameReader(video)
    with caplog.at_level("WARNING"):
        frames = list(reader)
    assert 0 < len(frames) < 30
    assert not reader.complete
    assert "ended early" in caplog.text and "ended early" in reader.warnings[-1]


def test_missing_and_unreadable_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match="video not found"):
        FrameReader(tmp_path / "nope.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(ValueError, match="cannot open video"):
        FrameReader(text)
    with pytest.raises(ValueError, match="frame_skip"):
        FrameReader(write_video(tmp_path / "v.avi", 3), frame_skip=0)
    with pytest.raises(ValueError, match="max_frames"):
        FrameReader(tmp_path / "v.avi", max_frames=0)


def _face(probs: list[float], x: float = 0.0) -> Face:
    return Face(Box(x, 0, 10, 10), 0.9, Classification(LABELS, tuple(probs)))


HAPPY = [0.0, 0.0, 0.0, 0.9, 0.0, 0.0, 0.1]
NEUTRAL = [0.0, 0.0, 0.0, 0.1, 0.0, 0.0, 0.9]


def test_report_counts_distribution_dominant_and_no_face_frames():
    timeline = [FrameResult(0, 0.0, (_face(HAPPY),)), FrameResult(1, 0.1, ()),
                FrameResult(2, 0.2, (_face(HAPPY), _face(NEUTRAL, 20))), FrameResult(3, 0.3, (_face(NEUTRAL),))]
    probs = np.array([HAPPY, HAPPY, NEUTRAL])
    report = summarize(timeline, LABELS, expressiveness_from_emotions(probs, LABELS), source="s", fps=10.0,
                       frames_read=4)
    assert report.frames_analyzed == 4 and report.frames_without_face == 1
    assert report.emotion_distribution["Happy"] == pytest.approx(2 / 3)
    assert report.emotion_distribution["Neutral"] == pytest.approx(1 / 3)
    assert report.dominant_emotion == "Happy"
    assert report.mean_probabilities["Happy"] == pytest.approx((0.9 + 0.9 + 0.1) / 3)
    assert report.to_dict()["frames_analyzed"] == 4
    text = video_summary(report)
    assert "dominant emotion: Happy" in text and "none in 1" in text


def test_report_without_any_face():
    report = summarize([FrameResult(0, 0.0, ())], LABELS, expressiveness_from_emotions(np.zeros((0, 7)), LABELS),
                       source="s", fps=0.0, frames_read=1)
    assert report.dominant_emotion is None and report.expressiveness.level is None
    assert "unknown" in video_summary(report)


@pytest.mark.parametrize(("neutral", "level"), [(0.9, "Reserved"), (0.5, "Balanced"), (0.1, "Expressive")])
def test_expressiveness_from_emotion_intensity(neutral, level):
    probs = np.zeros((5, 7))
    probs[:, 6] = neutral
    probs[:, 3] = 1 - neutral
    result = expressiveness_from_emotions(probs, LABELS)
    assert result.level == level and result.method == "emotion-intensity"
    assert result.score == pytest.approx(2 * (1 - neutral) - 1)


def test_level_thresholds_match_the_interview_labels():
    assert [level_for_score(s) for s in (-0.31, -0.3, 0.3, 0.31)] == ["Reserved", "Balanced", "Balanced",
                                                                      "Expressive"]


def test_timeline_csv_has_one_row_per_face_and_per_empty_frame():
    timeline = [FrameResult(0, 0.0, (_face(HAPPY), _face(NEUTRAL, 20))), FrameResult(1, None, ())]
    rows = timeline_csv([("v.mp4", f) for f in timeline], LABELS).strip().splitlines()
    assert rows[0].startswith("source,frame,time_s,face") and rows[0].endswith(",".join(LABELS))
    assert len(rows) == 4 and rows[1].split(",")[9] == "Happy" and rows[3].split(",")[3] == ""
