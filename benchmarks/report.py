"""The Markdown report of one run: a summary table that the project README can show as is, then every table."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.results import Results, model_order

Column = tuple[str, Callable[[dict[str, Any]], Any], str]  # header, value of a row, format spec


def _get(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row.get(key)


def _format(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if spec and isinstance(value, (int, float)):
        return format(value, spec)
    return str(value)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> str:
    """A GitHub Markdown table; missing values show as a dash."""
    lines = ["| " + " | ".join(header for header, _, _ in columns) + " |",
             "|" + "|".join("---" if spec == "" else "---:" for _, _, spec in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_format(value(row), spec) for _, value, spec in columns) + " |")
    return "\n".join(lines)


def _pct(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: None if row.get(key) is None else 100.0 * row[key]


def _index(rows: list[dict[str, Any]], *keys: str) -> dict[tuple, dict[str, Any]]:
    return {tuple(row.get(k) for k in keys): row for row in rows}


def _ratio(ours: Any, theirs: Any) -> float | None:
    if ours is None or theirs in (None, 0):
        return None
    return ours / theirs


def summary_rows(results: Results) -> list[dict[str, Any]]:
    """One row per model file: latency, accuracy, drop against fp32, and ratios to the peer's default variant."""
    latency = _index(results.rows("latency"), "file", "threads", "batch")
    accuracy = _index(results.rows("accuracy"), "file", "labels")
    drops = _index(results.rows("quantization"), "file")
    peer_latency = _index(results.rows("peer_latency"), "variant", "batch")
    peer_accuracy = _index(results.rows("peer_accuracy"), "variant", "labels")
    model_rows = sorted(results.rows("latency") + results.rows("accuracy"), key=model_order)
    files = list(dict.fromkeys(r["file"] for r in model_rows))
    peer_b1 = peer_latency.get(("tflite", 1), {})
    peer_acc = peer_accuracy.get(("tflite", "fer2013"), {})
    rows = []
    for file in files:
        b1, b32 = latency.get((file, 1, 1), {}), latency.get((file, 1, 32), {})
        fer13, ferplus = accuracy.get((file, "fer2013"), {}), accuracy.get((file, "ferplus"), {})
        first = b1 or fer13 or b32 or ferplus
        rows.append({
            "model": first.get("model"), "format": first.get("format"), "size_kb": first.get("size_kb"),
            "b1_ms": b1.get("median_ms"), "b32_face_ms": b32.get("per_face_ms"),
            "acc_fer2013": fer13.get("accuracy"), "acc_ferplus": ferplus.get("accuracy"),
            "f1_fer2013": fer13.get("macro_f1"), "drop_pp": drops.get((file,), {}).get("drop_pp_fer2013"),
            "agreement": drops.get((file,), {}).get("agreement"),
            "speed_vs_peer": _ratio(peer_b1.get("median_ms"), b1.get("median_ms")),
            "acc_vs_peer": _ratio(fer13.get("accuracy"), peer_acc.get("accuracy")),
        })
    for variant in ("tflite", "keras"):
        b1 = peer_latency.get((variant, 1), {})
        fer13 = peer_accuracy.get((variant, "fer2013"), {})
        if b1 or fer13:
            rows.append({"model": f"fer {results.machine.get('packages', {}).get('fer', '')} (peer)",
                         "format": f"{variant} ({'default' if variant == 'tflite' else 'reference'})",
                         "b1_ms": b1.get("median_ms"),
                         "b32_face_ms": peer_latency.get((variant, 32), {}).get("per_face_ms"),
                         "acc_fer2013": fer13.get("accuracy"),
                         "acc_ferplus": peer_accuracy.get((variant, "ferplus"), {}).get("accuracy"),
                         "f1_fer2013": fer13.get("macro_f1")})
    return rows


SUMMARY: list[Column] = [
    ("Model", _get("model"), ""), ("Format", _get("format"), ""), ("Size (KB)", _get("size_kb"), ".0f"),
    ("1 face, 1 thread (ms)", _get("b1_ms"), ".3f"), ("Batch 32, per face (ms)", _get("b32_face_ms"), ".3f"),
    ("Acc. FER-2013 (%)", _pct("acc_fer2013"), ".1f"), ("Acc. FER+ (%)", _pct("acc_ferplus"), ".1f"),
    ("Macro-F1 FER-2013", _get("f1_fer2013"), ".3f"), ("Drop vs fp32 (pp)", _get("drop_pp"), "+.2f"),
    ("Top-1 agreement", _get("agreement"), ".3f"), ("Speed vs fer (x)", _get("speed_vs_peer"), ".2f"),
    ("Acc. vs fer (x)", _get("acc_vs_peer"), ".2f"),
]


def chain_vs_peer_rows(results: Results) -> list[dict[str, Any]]:
    peer = _index(results.rows("peer_chain"), "source")
    rows = []
    for row in results.rows("chain"):
        theirs = peer.get((row["source"],), {})
        rows.append({**row, "peer_ms": theirs.get("median_ms"), "peer_faces": theirs.get("faces_per_frame"),
                     "speedup": _ratio(theirs.get("median_ms"), row.get("median_ms"))})
    ours = {row["source"] for row in results.rows("chain")}
    rows += [{"source": row["source"], "frames": row["frames"], "peer_ms": row.get("median_ms"),
              "peer_faces": row.get("faces_per_frame")}
             for row in results.rows("peer_chain") if row["source"] not in ours]
    return rows


SECTIONS: list[tuple[str, str, list[Column]]] = [
    ("Gates", "gates", [("Gate", _get("gate"), ""), ("Subject", _get("subject"), ""),
                        ("Measured", _get("measured"), ".3f"), ("Limit", _get("limit"), ""),
                        ("Result", lambda row: "not gated" if row.get("passed") is None
                         else "pass" if row.get("passed") else "**FAIL**", ""),
                        ("Note", _get("note"), "")]),
    ("Model latency (ExpressionModel.predict, synthetic faces)", "latency",
     [("Model", _get("model"), ""), ("Format", _get("format"), ""), ("Threads", _get("threads"), ""),
      ("Batch", _get("batch"), "d"), ("Median (ms)", _get("median_ms"), ".3f"),
      ("Per face (ms)", _get("per_face_ms"), ".3f"), ("IQR (ms)", _get("iqr_ms"), ".3f"),
      ("Rounds", _get("rounds"), "d")]),
    ("Peer model latency (fer, its own preprocessing and model call)", "peer_latency",
     [("Variant", _get("variant"), ""), ("Batch", _get("batch"), "d"), ("Median (ms)", _get("median_ms"), ".3f"),
      ("Per face (ms)", _get("per_face_ms"), ".3f"), ("IQR (ms)", _get("iqr_ms"), ".3f")]),
    ("Face detector alone (FaceDetector.detect)", "detector",
     [("Model", _get("model"), ""), ("Engine", _get("engine"), ""), ("Frame", _get("frame"), ""),
      ("Faces", _get("faces"), "d"), ("Median (ms)", _get("median_ms"), ".3f"), ("IQR (ms)", _get("iqr_ms"), ".3f")]),
    ("Whole chain per frame (Analyzer.analyze) and fer's detect_emotions on the same frames", "chain_vs_peer",
     [("Frames from", _get("source"), ""), ("Frames", _get("frames"), "d"), ("Model", _get("model"), ""),
      ("Faces/frame", _get("faces_per_frame"), ".2f"), ("Ours (ms)", _get("median_ms"), ".2f"),
      ("fer faces/frame", _get("peer_faces"), ".2f"), ("fer (ms)", _get("peer_ms"), ".2f"),
      ("Speed vs fer (x)", _get("speedup"), ".2f")]),
    ("Expressiveness against the experts (RecruitView sample, 5 videos of one person)", "expressiveness_methods",
     [("Method", _get("method"), ""), ("Videos", _get("videos"), "d"), ("Spearman", _get("spearman"), "+.2f"),
      ("Levels right", _get("levels_right"), "d"), ("Aim", _get("aim"), "")]),
    ("Expressiveness per video", "expressiveness",
     [("Method", _get("method"), ""), ("Video", _get("video"), ""), ("Expert", _get("expert"), "+.2f"),
      ("Expert level", _get("expert_level"), ""), ("Score", _get("score"), "+.2f"), ("Level", _get("level"), ""),
      ("Match", _get("match"), ""), ("Smiling", _pct("smiling"), ".1f"), ("Head motion (deg)", _get("head_motion"),
                                                                          ".1f"),
      ("Non-neutral", _get("non_neutral"), ".2f")]),
    ("Tracking against detect-every-frame (facial-activity; sample and media videos)", "tracking",
     [("Video", _get("video"), ""), ("Frames", _get("frames"), "d"),
      ("Faces/frame (tracked / every)", _get("faces_per_frame"), ""), ("Tracked FPS", _get("tracked_fps"), ".1f"),
      ("Every-frame FPS", _get("every_frame_fps"), ".1f"), ("Speed-up", _get("speedup"), ".2f"),
      ("Median box IoU", _get("median_iou"), ".3f"), ("Min box IoU", _get("min_iou"), ".3f"),
      ("Tracked level", _get("tracked_level"), ""), ("Every-frame level", _get("every_frame_level"), ""),
      ("Tracked score", _get("tracked_score"), "+.2f"), ("Every-frame score", _get("every_frame_score"), "+.2f")]),
    ("Landmark cost (same run, consecutive frames of a sample video)", "landmark_cost",
     [("Frames", _get("frames"), "d"), ("Detector (ms/frame)", _get("detector_ms"), ".2f"),
      ("Landmark model (ms/face)", _get("landmark_model_ms"), ".2f"), ("Model ratio", _get("model_ratio"), ".2f"),
      ("Path without (ms/frame)", _get("path_without_ms"), ".2f"),
      ("Path with (ms/frame)", _get("path_with_ms"), ".2f"),
      ("Added (ms/face-frame)", _get("added_per_face_ms"), ".2f"), ("Added / detector", _get("added_ratio"), ".2f")]),
    ("Video throughput (Analyzer.analyze_video, every frame)", "video",
     [("Video", _get("video"), ""), ("Model", _get("model"), ""), ("Resolution", _get("resolution"), ""),
      ("Frames", _get("frames"), "d"), ("Seconds", _get("seconds"), ".2f"), ("FPS", _get("fps"), ".1f"),
      ("Video FPS", _get("video_fps"), ".0f"), ("Real-time factor", _get("rtf"), ".3f"),
      ("No-face frames", _get("no_face"), "d")]),
    ("Batch throughput (analyze_many, generated videos; speed-up: one process's time / this time)", "batch",
     [("Engine", _get("engine"), ""), ("Workers", _get("workers"), ""), ("Threads", _get("threads"), ""),
      ("Videos", _get("videos"), "d"), ("Frames", _get("frames"), "d"), ("Resolution", _get("resolution"), ""),
      ("Rounds", _get("rounds"), "d"), ("Seconds (best)", _get("seconds"), ".2f"),
      ("Videos/min", _get("videos_per_min"), ".1f"), ("Frames/s", _get("frames_per_s"), ".1f"),
      ("Speed-up (x)", _get("speedup"), ".2f"),
      ("Ray start (s)", _get("ray_start_s"), ".1f"), ("Load (1 min)", _get("load_1m"), ".2f"),
      ("Cores busy elsewhere before", _get("busy_cores_before"), ".2f"), ("Note", _get("note"), "")]),
    ("Memory over a long run (fresh process)", "memory",
     [("Video", _get("video"), ""), ("Model", _get("model"), ""), ("Frames", _get("frames"), "d"),
      ("RSS after start (MB)", _get("rss_start_mb"), ".0f"), ("Peak RSS (MB)", _get("peak_rss_mb"), ".0f"),
      ("Growth after first 10% (MB)", _get("growth_mb"), "+.1f")]),
    ("Report page (fer-analyze --report, no thumbnails)", "report_page",
     [("What", _get("what"), ""), ("Frames", _get("frames"), "d"), ("Analysis (s)", _get("analysis_s"), ".2f"),
      ("Page (ms)", _get("page_ms"), ".1f"), ("First page of a process (ms)", _get("first_page_ms"), ".0f"),
      ("Size (KB)", _get("size_kb"), ".0f"), ("Page / analysis", _pct("cost"), ".2f")]),
    ("Startup (fresh interpreter)", "startup",
     [("What", _get("what"), ""), ("Model", _get("model"), ""), ("Median (ms)", _get("median_ms"), ".1f"),
      ("Runs", _get("runs"), "d"), ("TensorFlow loaded", _get("tensorflow_loaded"), "")]),
    ("Accuracy on FER-2013 PrivateTest", "accuracy",
     [("Model", _get("model"), ""), ("Format", _get("format"), ""), ("Labels", _get("labels"), ""),
      ("N", _get("n"), "d"), ("Accuracy (%)", _pct("accuracy"), ".2f"), ("Macro-F1", _get("macro_f1"), ".3f"),
      ("Manifest says (%)", _pct("manifest_accuracy"), ".2f")]),
    ("Test-time averaging on PrivateTest (flip: also mirrored; crops: also the 4 corner crops)", "view_average",
     [("Model", _get("model"), ""), ("Format", _get("format"), ""), ("Views", _get("views"), ""),
      ("Plain (%)", _pct("plain_fer2013"), ".2f"), ("Averaged (%)", _pct("accuracy_fer2013"), ".2f"),
      ("Gain FER-2013 (pp)", _get("gain_pp_fer2013"), "+.2f"), ("Averaged, FER+ (%)", _pct("accuracy_ferplus"), ".2f"),
      ("Gain FER+ (pp)", _get("gain_pp_ferplus"), "+.2f")]),
    ("Test-time averaging: cost per face (1 face, 1 thread, interleaved)", "view_average_cost",
     [("Model", _get("model"), ""), ("Format", _get("format"), ""), ("Views", _get("views"), ""),
      ("Reads per face", _get("count"), "d"), ("Plain (ms)", _get("plain_ms"), ".3f"),
      ("Averaged (ms)", _get("views_ms"), ".3f"), ("Ratio (x)", _get("ratio"), ".2f")]),
    ("Quantized against its fp32 source", "quantization",
     [("Model", _get("model"), ""), ("Format", _get("format"), ""), ("Source", _get("source"), ""),
      ("Drop FER-2013 (pp)", _get("drop_pp_fer2013"), "+.2f"), ("Drop FER+ (pp)", _get("drop_pp_ferplus"), "+.2f"),
      ("Top-1 agreement", _get("agreement"), ".4f")]),
    ("Peer accuracy (fer)", "peer_accuracy",
     [("Variant", _get("variant"), ""), ("Labels", _get("labels"), ""), ("N", _get("n"), "d"),
      ("Accuracy (%)", _pct("accuracy"), ".2f"), ("Macro-F1", _get("macro_f1"), ".3f")]),
]


SORTED_BY_MODEL = ("latency", "accuracy", "quantization")  # the others keep the order the tests ran in


def machine_lines(machine: dict[str, Any]) -> list[str]:
    packages = ", ".join(f"{k} {v}" for k, v in machine.get("packages", {}).items())
    return [
        f"- Date: {machine.get('date')}; commit {machine.get('commit')}",
        (f"- CPU: {machine.get('cpu')} ({machine.get('cpu_arch', '?')}; instruction sets: "
         f"{' '.join(machine.get('cpu_features', [])) or '?'}; int8 dot product (VNNI/AMX/dotprod): "
         f"{_format(machine.get('cpu_int8_dot_product'), '')}); {machine.get('usable_cores')} usable of "
         f"{machine.get('logical_cores')} logical cores; {machine.get('memory_gb', '?')} GB RAM; load average "
         f"{machine.get('load_average_1m', '?')} "
         f"at start, {machine.get('load_average_1m_end', '?')} at end"),
        f"- {machine.get('os')}; Python {machine.get('python')}",
        f"- Packages: {packages}",
    ]


def markdown(results: Results) -> str:
    outcomes = ", ".join(f"{count} {name}" for name, count in sorted(results.outcomes.items()))
    reasons = "; ".join(f"`{why}`" if why.startswith("-") else why for why in results.partial)  # options as code
    scope = f"partial run ({reasons})" if results.partial else "full run"
    parts = ["# fer-edge benchmarks", "",
             (f"{scope}: {outcomes or 'no test results'}. Made by `python -m pytest benchmarks` "
              "(see benchmarks/README.md)."), "", *machine_lines(results.machine), ""]
    if note := results.machine.get("note"):
        parts += [f"> {note}", ""]
    summary = summary_rows(results)
    if summary:
        parts += ["## Summary", "", table(summary, SUMMARY), "",
                  ("Speed vs fer: fer's default (TFLite) model time for one face divided by ours, so above 1 is "
                   "faster. Acc. vs fer: our FER-2013 accuracy divided by fer's."), ""]
    derived = {"chain_vs_peer": chain_vs_peer_rows(results),
               **{name: sorted(results.rows(name), key=model_order) for name in SORTED_BY_MODEL}}
    for title, name, columns in SECTIONS:
        rows = derived.get(name) or results.rows(name)
        if rows:
            parts += [f"## {title}", "", table(rows, columns), ""]
    return "\n".join(parts)
