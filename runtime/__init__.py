"""fer-edge runtime: face detection and expression recognition on TFLite or ONNX Runtime, without TensorFlow.

    from runtime import Analyzer

    with Analyzer() as analyzer:              # the shipped default models
        faces = analyzer.analyze(frame)       # list[Face], largest first
        report = analyzer.analyze_video("interview.mp4", frame_skip=2)

Heavy modules load on first use, so ``import runtime`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtime.analyzer import Analyzer, AnalyzerOptions
    from runtime.detection import DetectorOptions
    from runtime.report import FrameResult, VideoReport
    from runtime.results import Box, Classification, Detection, Face

__version__ = "0.1.0"  # the distribution's version: pyproject.toml reads it from here (dynamic)
__all__ = ["Analyzer", "AnalyzerOptions", "Box", "Classification", "Detection", "DetectorOptions", "Face",
           "FrameResult", "VideoReport"]

_WHERE = {
    "Analyzer": "runtime.analyzer", "AnalyzerOptions": "runtime.analyzer", "DetectorOptions": "runtime.detection",
    "FrameResult": "runtime.report", "VideoReport": "runtime.report", "Box": "runtime.results",
    "Classification": "runtime.results", "Detection": "runtime.results", "Face": "runtime.results",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'runtime' has no attribute {name!r}")
