"""Facial-activity expressiveness on generated landmark sequences (runtime.expressiveness.activity): no model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runtime.expressiveness import activity as act
from runtime.expressiveness.following import follow_person
from runtime.report import FACIAL_ACTIVITY, expressiveness_from_activity

FPS = 30.0
NOISE_PX = 0.3  # landmark jitter of the generated faces, in pixels (the face is about 100 px across the eyes)


def _face(rng: np.random.Generator) -> np.ndarray:
    """A face-like mesh (468, 3) in pixels: points on an ellipse's surface, the named points where faces have them."""
    theta = rng.uniform(0, 2 * np.pi, 468)
    radius = np.sqrt(rng.uniform(0, 1, 468))
    points = np.column_stack([200 + 70 * radius * np.cos(theta), 200 + 90 * radius * np.sin(theta),
                              -20 * (1 - radius**2)])
    named = {33: (150, 170), 263: (250, 170), 133: (180, 172), 362: (220, 172), 159: (165, 163), 145: (165, 177),
             386: (235, 163), 374: (235, 177), 105: (165, 145), 334: (235, 145), 61: (175, 255), 291: (225, 255),
             13: (200, 250), 14: (200, 256), 10: (200, 110), 152: (200, 290), 1: (200, 215)}
    for index, (x, y) in named.items():
        points[index, :2] = (x, y)
    return points


def _pose(points: np.ndarray, yaw: float, pitch: float, shift: tuple[float, float]) -> np.ndarray:
    cy, sy, cp, sp = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch)
    rotation = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]) @ np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    centre = points.mean(axis=0)
    return (points - centre) @ rotation.T + centre + np.array([*shift, 0.0])


def sequence(frames: int, lively: bool, seed: int = 0) -> list[np.ndarray]:
    """A still face (jitter only), or one that smiles, talks, raises its brows and nods."""
    rng = np.random.default_rng(seed)
    base = _face(rng)
    shapes = []
    for t in range(frames):
        shape = base.copy()
        if lively:
            phase = 2 * np.pi * t / FPS
            smile = max(0.0, math.sin(phase / 4)) * 12  # pixels of corner spread and lift
            shape[61, :2] += (-smile, -smile / 2)
            shape[291, :2] += (smile, -smile / 2)
            shape[14, 1] += 6 * abs(math.sin(phase * 1.5))  # talking
            shape[[105, 334], 1] -= 4 * max(0.0, math.sin(phase / 3))  # brow raises
            shape = _pose(shape, 0.08 * math.sin(phase / 2), 0.1 * math.sin(phase), (3 * math.sin(phase / 5), 0))
        shapes.append(shape + rng.normal(0, NOISE_PX, shape.shape))
    return shapes


def test_a_still_face_scores_lower_than_a_smiling_moving_one():
    still = act.video_activity(sequence(150, lively=False), 1 / FPS, [0.05] * 150)
    lively = act.video_activity(sequence(150, lively=True), 1 / FPS, [0.3] * 150)
    assert still.score < -0.3 < 0.3 < lively.score
    for name in ("smiling", "brow_activity", "mouth_activity", "deformation", "head_motion"):
        assert lively.components[name] > still.components[name], name
    assert still.components["smiling"] < 0.05 < 0.2 < lively.components["smiling"]
    assert lively.components["head_motion"] > 3.0  # degrees
    assert len(lively.per_frame) == 150 and all(v is not None and math.isfinite(v) for v in lively.per_frame)
    verdict = expressiveness_from_activity(lively)
    assert verdict.method == FACIAL_ACTIVITY and verdict.level == "Expressive" and verdict.reason is None


def test_pose_and_size_do_not_count_as_activity():
    """The same still face, moved, turned and twice as large, scores as the still face."""
    shapes = sequence(90, lively=False, seed=3)
    moved = [_pose(s * 2.0, 0.2, -0.1, (40, -10)) for s in shapes]
    a, b = act.video_activity(shapes, 1 / FPS), act.video_activity(moved, 1 / FPS)
    assert b.components["deformation"] == pytest.approx(a.components["deformation"], rel=0.5, abs=0.003)
    assert b.score == pytest.approx(a.score, abs=0.3)


def test_too_few_face_frames_give_no_level_and_the_reason():
    short = act.video_activity(sequence(59, lively=True), 1 / FPS)
    assert short.score is None and "2 s" in short.reason
    verdict = expressiveness_from_activity(short)
    assert verdict.level is None and verdict.reason == short.reason
    assert act.video_activity(sequence(60, lively=True), 1 / FPS).score is not None
    sparse = act.video_activity(sequence(9, lively=True), 1.0)  # 9 s, but 9 frames: too few to measure spreads
    assert sparse.score is None and "9 analyzed frames" in sparse.reason


def test_no_face_at_all():
    result = act.video_activity([None] * 100, 1 / FPS, [None] * 100)
    assert result.score is None and result.reason == "no face with landmarks was found"
    assert result.per_frame == (None,) * 100
    assert expressiveness_from_activity(result).level is None


def test_face_lost_midway_uses_the_frames_with_a_face():
    shapes: list[np.ndarray | None] = list(sequence(120, lively=True))
    with_gap = shapes[:50] + [None] * 40 + shapes[50:]
    result = act.video_activity(with_gap, 1 / FPS)
    assert result.score is not None
    assert result.per_frame[50:90] == (None,) * 40 and result.per_frame[49] is not None
    assert result.score == pytest.approx(act.video_activity(shapes, 1 / FPS).score, abs=1e-9)


def test_two_faces_swapping_size_keep_their_identities():
    """Person A (left) grows past person B (right) halfway: the follower stays on whoever it followed."""
    a = [(100 - t, 100, 80 + t, 80 + t) for t in range(60)]
    b = [(400, 100, 110, 110)] * 60
    boxes = [sorted([fa, fb], key=lambda box: -box[2] * box[3]) for fa, fb in zip(a, b)]
    picks = follow_person(boxes)
    followed = [frame[i] for frame, i in zip(boxes, picks)]
    assert all(box[0] == 400 for box in followed)  # B was the largest at first and stays followed
    assert follow_person([[], [(0, 0, 10, 10)], []]) == [None, 0, None]


def test_a_short_dropout_does_not_hand_the_series_to_another_face():
    """The followed person (A, the largest at first) is out of view for two frames while B is there: no face is
    followed then, and A is taken up again on return (B used to keep the series for good). Out of view for longer
    than ``lost_after`` frames, the person is given up and the largest face is followed."""
    a, b = (100, 100, 120, 120), (500, 100, 80, 80)
    assert follow_person([[a, b], [a, b], [b], [b], [a, b], [a, b]]) == [0, 0, None, None, 0, 0]
    assert follow_person([[a, b], [b], [b], [b], [b], [a, b]], lost_after=2) == [0, None, None, 0, 0, 1]
    assert follow_person([[a], [], [], [a]], lost_after=1) == [0, None, None, 0]


@pytest.mark.parametrize("landmarks", [np.zeros((5, 468, 2)), np.full((3, 468, 3), np.nan), np.zeros((0, 468, 3))])
def test_bad_landmarks_raise_value_error(landmarks):
    with pytest.raises(ValueError):
        act.frame_features(landmarks)


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="seconds_per_frame"):
        act.video_activity([None], 0.0)
    with pytest.raises(ValueError, match="non-neutral"):
        act.video_activity([None, None], 1 / FPS, [0.1])


def test_weights_sum_to_one_and_every_component_has_a_typical_level():
    assert sum(act.WEIGHTS.values()) == pytest.approx(1.0)
    assert set(act.WEIGHTS) == set(act.TYPICAL)
    typical = {name: value for name, value in act.TYPICAL.items()}
    assert act.score(typical) == pytest.approx(0.0)
    assert act.score({name: 2 * v + (act.SHARE_FLOOR if name == "smiling" else 0) for name, v in typical.items()}) \
        == pytest.approx(1.0)


def _talking_face(frames: int, seed: int = 5) -> list[np.ndarray]:
    """A face whose mouth opens and closes and whose head turns a little, in pixels."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0.0, 40.0, (468, 3)) + 300.0
    shapes = []
    for t in range(frames):
        shape = base + rng.normal(0.0, 0.3, base.shape)
        shape[act.LOWER_LIP, 1] += 6.0 * np.sin(t / 3.0)
        angle = np.radians(4.0 * np.sin(t / 20.0))
        turn = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
        shapes.append(((shape - 300.0) @ turn.T + 300.0).astype(np.float32))
    return shapes


def test_long_videos_are_measured_in_bounded_chunks_with_the_same_answer(monkeypatch):
    """Past REFERENCE_FRAMES the reference and neutral faces come from a sample and frames are aligned in chunks:
    the features agree with aligning everything at once, and the chunk size changes nothing."""
    shapes = _talking_face(120)
    exact = act.frame_features(shapes)
    monkeypatch.setattr(act, "REFERENCE_FRAMES", 40)
    monkeypatch.setattr(act, "CHUNK_FRAMES", 16)
    sampled = act.frame_features(shapes)
    monkeypatch.setattr(act, "CHUNK_FRAMES", 7)
    other_chunks = act.frame_features(shapes)
    for name in ("smile", "mouth_opening", "brow_height", "eye_opening", "deformation", "pose_degrees"):
        np.testing.assert_allclose(getattr(sampled, name), getattr(other_chunks, name), atol=1e-12)
        assert getattr(sampled, name).shape == getattr(exact, name).shape
    np.testing.assert_allclose(sampled.mouth_opening, exact.mouth_opening, rtol=0.01)
    np.testing.assert_allclose(sampled.pose_degrees, exact.pose_degrees, atol=0.2)
    assert act.components(sampled, None) == pytest.approx(act.components(exact, None), rel=0.05)
