"""Which trained teachers the student learns from, chosen on PublicTest (the selection split), never on PrivateTest.

The candidates are each teacher alone and all of them together (their ensemble), every one read with mirror images
as the student's targets are. The one with the best accuracy on the original labels wins, the ensemble on a tie:
an ensemble of teachers that err together can be worse than its best member (issue 11's two teachers, mid-way
through their schedules: resnet w32 alone 68.38%, with the small CNN 67.09%).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from convert.metrics import classification_report
from runtime.manifest import FER2013_LABELS


def choose(names: Sequence[str], probabilities: Sequence[np.ndarray], labels: np.ndarray,
           ferplus: np.ndarray | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    """The chosen teachers' names and every candidate's accuracies (``candidates``: teachers, PublicTest accuracy on
    the original labels and, when ``ferplus`` holds the faces' FER+ majority labels (-1: none), on those).

    ``probabilities[i]`` are teacher ``names[i]``'s answers (mirror images averaged) for the faces whose original
    labels are ``labels``; the ensemble's are their mean, as in ``convert.train.distill``."""
    if not names or len(names) != len(probabilities):
        raise ValueError(f"{len(names)} teacher names for {len(probabilities)} sets of answers")
    candidates = [[name] for name in names]
    if len(names) > 1:
        candidates.append(list(names))
    by_name = dict(zip(names, probabilities))
    table = []
    for members in candidates:
        predictions = np.mean([by_name[name] for name in members], axis=0).argmax(axis=1)
        row = {"teachers": members,
               "fer2013": classification_report(labels, predictions, FER2013_LABELS)["accuracy"]}
        if ferplus is not None:
            row["ferplus"] = classification_report(ferplus, predictions, FER2013_LABELS)["accuracy"]
        table.append(row)
    best = max(table, key=lambda row: (row["fer2013"], len(row["teachers"])))
    return list(best["teachers"]), table
