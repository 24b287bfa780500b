"""A trained expressiveness head on the facial-activity components: a linear model in JSON that ``fer-train
activity`` writes (``convert/train/activity.py``) and ``AnalyzerOptions(expressiveness_model=<file>.json)`` uses.

The file holds the feature names (components, as ``activity.log_ratios``), one weight each and a bias: the score is
``bias + sum(weight * log_ratio)`` on the interview scale, and the level follows the seed's thresholds. No numpy
model format, no pickle: a JSON file anyone can read and check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from runtime.expressiveness.activity import TYPICAL, log_ratios
from runtime.manifest import read_json_object

HEAD_SCHEMA = "fer-edge/expressiveness-head/1"
HEAD_SUFFIX = ".json"


@dataclass(frozen=True)
class ActivityHead:
    """A linear head: ``score = bias + sum(weights[f] * log_ratios[f])`` over ``features`` (missing ones count 0)."""

    path: Path
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float

    @property
    def name(self) -> str:
        return self.path.name

    def score(self, components: dict[str, float]) -> float:
        ratios = log_ratios(components)
        return self.bias + sum(w * ratios.get(f, 0.0) for f, w in zip(self.features, self.weights))

    def to_dict(self) -> dict:
        return {"schema": HEAD_SCHEMA, "features": list(self.features), "weights": list(self.weights),
                "bias": self.bias}


def load_head(path: str | Path) -> ActivityHead:
    """Reads a head file.

    Raises:
        FileNotFoundError: no such file. ValueError: not a head file (the message names the field).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"expressiveness head not found: {path}")
    data = read_json_object(path, "expressiveness head")
    if data.get("schema") != HEAD_SCHEMA:
        raise ValueError(f"{path.name}: not an expressiveness head (schema must be {HEAD_SCHEMA!r})")
    features, weights, bias = data.get("features"), data.get("weights"), data.get("bias")
    if not isinstance(features, list) or not features or any(f not in TYPICAL for f in features):
        raise ValueError(f"{path.name}: 'features' must name components of {sorted(TYPICAL)}, got {features!r}")
    numbers = [*(weights if isinstance(weights, list) else [None]), bias]
    if (not isinstance(weights, list) or len(weights) != len(features)
            or any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in numbers)):
        raise ValueError(f"{path.name}: 'weights' must be {len(features)} finite numbers and 'bias' one")
    return ActivityHead(path, tuple(features), tuple(float(w) for w in weights), float(bias))
