"""Rendering results for people and files: a text summary, JSON and a CSV timeline."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from runtime.report import FrameResult, VideoReport
from runtime.results import Face


def image_summary(name: str, faces: list[Face]) -> str:
    if not faces:
        return f"{name}: no face found"
    lines = [f"{name}: {len(faces)} face(s)"]
    for i, face in enumerate(faces):
        b = face.box
        ranked = sorted(face.emotion.as_dict().items(), key=lambda kv: -kv[1])[:3]
        lines.append(f"  #{i} at ({b.x:.0f}, {b.y:.0f}) {b.width:.0f}x{b.height:.0f}: "
                     + ", ".join(f"{label} {p:.0%}" for label, p in ranked))
    return "\n".join(lines)


def video_summary(report: VideoReport) -> str:
    faces = report.frames_analyzed - report.frames_without_face
    lines = [
        f"{report.source}: {report.frames_analyzed} frames analyzed of {report.frames_read} read"
        + (f" at {report.fps:.1f} fps" if report.fps else ""),
        f"  face found in {faces} frames, none in {report.frames_without_face}",
    ]
    if report.dominant_emotion:
        lines.append(f"  dominant emotion: {report.dominant_emotion}")
        lines.append("  emotion      share of frames   mean probability")
        for label, share in sorted(report.emotion_distribution.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {label:<12} {share:>15.1%} {report.mean_probabilities[label]:>18.3f}")
    e = report.expressiveness
    score = f" (score {e.score:+.2f})" if e.score is not None else ""
    lines.append(f"  expressiveness: {e.level or 'unknown'}{score} by {e.method}")
    if e.reason:
        lines.append(f"    no verdict: {e.reason}")
    if e.components:
        parts = (f"{name.replace('_', ' ')} {value:.3g}" for name, value in e.components.items())
        lines.append("    " + ", ".join(parts))
    for warning in report.warnings:
        lines.append(f"  WARNING: {warning}")
    return "\n".join(lines)


def timeline_csv(frames: Iterable[tuple[str, FrameResult]], labels: tuple[str, ...]) -> str:
    """One row per face (or per faceless frame) of (source, frame) pairs: box, scores, every probability."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["source", "frame", "time_s", "face", "x", "y", "width", "height", "detection_score",
                     "top_emotion", *labels])
    for source, frame in frames:
        time = "" if frame.timestamp is None else f"{frame.timestamp:.3f}"
        if not frame.faces:
            writer.writerow([source, frame.index, time, "", "", "", "", "", "", "", *[""] * len(labels)])
        for i, face in enumerate(frame.faces):
            b = face.box
            writer.writerow([source, frame.index, time, i, f"{b.x:.1f}", f"{b.y:.1f}", f"{b.width:.1f}",
                             f"{b.height:.1f}", f"{face.detection_score:.4f}", face.top_emotion,
                             *[f"{p:.5f}" for p in face.emotion.probabilities]])
    return out.getvalue()
