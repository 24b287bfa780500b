"""`fer-train activity`: a small regularised linear head on the per-video facial-activity components, for data
sets with expert scores (the RecruitView layout: ``metadata.jsonl`` rows with ``file_name``, ``facial_expression``
and ``user_no``).

Each video goes through the runtime's own ``Analyzer.analyze_video`` (the same detection, landmarks, tracking and
components as at run time); its features are the components' ``log2(value / typical)`` (``activity.log_ratios``),
and its target the expert score. A few hundred videos carry a handful of weights at most, so the model is ridge
regression (closed form, the intercept not penalized). It is evaluated by participant-grouped cross-validation
(no ``user_no`` in both the training and the test folds: a person's videos resemble each other far more than two
people's do), reporting Spearman, MAE and level accuracy beside the untrained measure's on the same videos; then
fitted on every video and written as a JSON head that ``fer-analyze --expressiveness-model head.json`` uses.
Pure numpy: no TensorFlow.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convert.data.recruitview import VideoRow, read_metadata
from runtime.expressiveness.activity import TYPICAL, WEIGHTS, log_ratios
from runtime.expressiveness.head import HEAD_SCHEMA
from runtime.report import level_for_score

log = logging.getLogger(__name__)

FEATURES = tuple(TYPICAL)
PARTICIPANT_KEY = "user_no"
DEFAULT_ALPHA = 1.0  # ridge penalty on the log-ratio features (each spans about -3..3)
DEFAULT_FOLDS = 5


@dataclass(frozen=True)
class VideoFeatures:
    """The usable videos: their rows, participants, features (N, len(FEATURES)) and expert scores (N,)."""

    rows: tuple[VideoRow, ...]
    participants: tuple[str, ...]
    features: np.ndarray
    scores: np.ndarray


def participants(metadata: Path, rows: Sequence[VideoRow]) -> list[str]:
    """The ``user_no`` of each row; a row without one is its own participant (with a warning)."""
    lines = metadata.read_text(encoding="utf-8", errors="replace").splitlines()
    found = []
    for row in rows:
        user = json.loads(lines[row.line - 1]).get(PARTICIPANT_KEY)
        if user is None or str(user).strip() == "":
            log.warning("%s line %d: no %r; the video counts as its own participant", metadata, row.line,
                        PARTICIPANT_KEY)
            user = f"video:{row.path.name}"
        found.append(str(user))
    return found


def features_of(components: dict[str, float]) -> np.ndarray:
    """One video's feature vector (components missing from it count as typical: 0)."""
    ratios = log_ratios(components)
    return np.array([ratios.get(name, 0.0) for name in FEATURES])


def extract(rows: Sequence[VideoRow], people: Sequence[str], analyzer: Any, frame_skip: int = 1) -> VideoFeatures:
    """Runs the analyzer over every video; a video without a facial-activity verdict is reported and skipped.

    Raises:
        ValueError: no video is left.
    """
    kept, groups, features, scores = [], [], [], []
    for row, person in zip(rows, people):
        try:
            report = analyzer.analyze_video(row.path, frame_skip=frame_skip)
        except ValueError as exc:
            log.warning("metadata line %d: unreadable video: %s; row skipped", row.line, exc)
            continue
        verdict = report.expressiveness
        if verdict.score is None or not verdict.components:
            log.warning("metadata line %d: %s: %s; row skipped", row.line, row.path.name, verdict.reason)
            continue
        kept.append(row)
        groups.append(person)
        features.append(features_of(verdict.components))
        scores.append(row.score)
    if not kept:
        raise ValueError(f"none of the {len(rows)} videos gave facial-activity components")
    log.info("%d videos with components (%d skipped), %d participants", len(kept), len(rows) - len(kept),
             len(set(groups)))
    return VideoFeatures(tuple(kept), tuple(groups), np.asarray(features), np.asarray(scores, dtype=np.float64))


def grouped_folds(groups: Sequence[str], folds: int, seed: int = 0) -> list[np.ndarray]:
    """Test masks of up to ``folds`` folds, each participant's videos all in one fold (shuffled, then dealt).

    Raises:
        ValueError: fewer than two participants, or folds < 2.
    """
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    people = sorted(set(groups))
    if len(people) < 2:
        raise ValueError(f"participant-grouped folds need at least 2 participants, got {len(people)}")
    order = np.random.default_rng(seed).permutation(len(people))
    count = min(folds, len(people))
    fold_of = {people[p]: i % count for i, p in enumerate(order)}
    labels = np.array([fold_of[g] for g in groups])
    return [labels == k for k in range(count)]


def fit_ridge(features: np.ndarray, scores: np.ndarray, alpha: float = DEFAULT_ALPHA) -> tuple[np.ndarray, float]:
    """Ridge regression ``scores ~ features @ weights + bias``; the bias is not penalized."""
    mean_x, mean_y = features.mean(axis=0), scores.mean()
    centred = features - mean_x
    gram = centred.T @ centred + alpha * np.eye(features.shape[1])
    weights = np.linalg.solve(gram, centred.T @ (scores - mean_y))
    return weights, float(mean_y - mean_x @ weights)


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values), dtype=float)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float | None]:
    """Spearman (None when either side is constant), MAE and level accuracy (the seed's thresholds)."""
    a, b = _ranks(np.asarray(truth, float)), _ranks(np.asarray(predicted, float))
    spearman = None if a.std() == 0 or b.std() == 0 else float(np.corrcoef(a, b)[0, 1])
    levels = [level_for_score(t) == level_for_score(p) for t, p in zip(truth, predicted)]
    return {"spearman": spearman, "mae": float(np.mean(np.abs(np.asarray(truth) - predicted))),
            "level_accuracy": float(np.mean(levels))}


def untrained_scores(features: np.ndarray) -> np.ndarray:
    """The a-priori measure's score from the same features (``activity.score``, all components present)."""
    weights = np.array([WEIGHTS[name] for name in FEATURES])
    return features @ weights / weights.sum()


def cross_validate(data: VideoFeatures, folds: int = DEFAULT_FOLDS, alpha: float = DEFAULT_ALPHA,
                   seed: int = 0) -> dict[str, Any]:
    """Out-of-fold predictions over participant-grouped folds, with the untrained measure beside them."""
    predicted = np.empty(len(data.scores))
    masks = grouped_folds(data.participants, folds, seed)
    for test in masks:
        weights, bias = fit_ridge(data.features[~test], data.scores[~test], alpha)
        predicted[test] = data.features[test] @ weights + bias
    return {"folds": len(masks), "head": metrics(data.scores, predicted),
            "untrained_measure": metrics(data.scores, untrained_scores(data.features))}


def train_activity_head(metadata: Path, videos: Path, out: Path, folds: int = DEFAULT_FOLDS,
                        alpha: float = DEFAULT_ALPHA, frame_skip: int = 1, seed: int = 0,
                        analyzer: Any = None) -> dict[str, Any]:
    """Extracts the features, cross-validates, fits on every video and writes the head (JSON) to ``out``.

    Returns:
        The training report (also inside the head file under "training").

    Raises:
        FileNotFoundError: the metadata or the video folder is missing. ValueError: no usable video, bad args.
    """
    if not math.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha must be a positive number, got {alpha}")
    if frame_skip < 1:
        raise ValueError(f"frame_skip must be at least 1, got {frame_skip}")
    rows = read_metadata(metadata, videos)
    people = participants(metadata, rows)
    if analyzer is None:
        from runtime.analyzer import Analyzer

        with Analyzer() as own:
            data = extract(rows, people, own, frame_skip)
    else:
        data = extract(rows, people, analyzer, frame_skip)
    report: dict[str, Any] = {"videos": len(data.scores), "participants": len(set(data.participants)),
                              "alpha": alpha, "frame_skip": frame_skip}
    try:
        report["cross_validation"] = cross_validate(data, folds, alpha, seed)
    except ValueError as exc:
        log.warning("no participant-grouped evaluation: %s", exc)
        report["cross_validation"] = None
        report["cross_validation_skipped"] = str(exc)
    report["training_fit"] = {"untrained_measure": metrics(data.scores, untrained_scores(data.features))}
    weights, bias = fit_ridge(data.features, data.scores, alpha)
    head = {"schema": HEAD_SCHEMA, "features": list(FEATURES), "weights": [float(w) for w in weights],
            "bias": bias, "training": report}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(head, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    log.info("head written to %s: %s", out, json.dumps(report.get("cross_validation")))
    return report
