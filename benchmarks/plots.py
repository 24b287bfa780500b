"""Plots of one run (matplotlib, Agg backend): latency per format, accuracy drop, frames per second per video."""

from __future__ import annotations

from pathlib import Path

from benchmarks.gates import ACCURACY_DROP_MAX_PP
from benchmarks.results import Results, model_order


def write_plots(results: Results, out_dir: Path, prefix: str = "") -> list[Path]:
    """Writes the plots there is data for, and removes an earlier run's plot there is none for now (it would sit
    beside this run's tables as if measured with them); none (and no error) when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    written = []
    for name, draw in (("latency", _latency), ("accuracy_drop", _accuracy_drop), ("video_fps", _video_fps)):
        figure = draw(plt, results)
        path = out_dir / f"{prefix}{name}.png"
        if figure is None:
            path.unlink(missing_ok=True)
            continue
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)
    return written


def _bars(plt, labels: list[str], series: dict[str, list[float]], ylabel: str, title: str):
    figure, axes = plt.subplots(figsize=(max(6.0, 0.9 * len(labels) + 2), 4))
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        positions = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
        axes.bar(positions, [v if v is not None else 0.0 for v in values], width, label=name)
    axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(axis="y", alpha=0.3)
    if len(series) > 1:
        axes.legend()
    return figure, axes


def _latency(plt, results: Results):
    rows = sorted(results.rows("latency"), key=model_order)
    if not rows:
        return None
    files = list(dict.fromkeys(r["file"] for r in rows))
    index = {(r["file"], r["threads"], r["batch"]): r for r in rows}
    labels = [f"{index_row['model']}\n{index_row['format']}" for f in files
              for index_row in [next(r for r in rows if r["file"] == f)]]
    series = {
        "1 face, 1 thread": [index.get((f, 1, 1), {}).get("median_ms") for f in files],
        "1 face, 2 threads": [index.get((f, 2, 1), {}).get("median_ms") for f in files],
        "batch 32, per face, 1 thread": [index.get((f, 1, 32), {}).get("per_face_ms") for f in files],
    }
    series = {k: v for k, v in series.items() if any(x is not None for x in v)}
    figure, _ = _bars(plt, labels, series, "milliseconds (median)", "Expression model latency")
    return figure


def _accuracy_drop(plt, results: Results):
    rows = sorted(results.rows("quantization"), key=model_order)
    if not rows:
        return None
    labels = [f"{r['model']}\n{r['format']}" for r in rows]
    series = {"FER-2013 labels": [r.get("drop_pp_fer2013") for r in rows],
              "FER+ majority labels": [r.get("drop_pp_ferplus") for r in rows]}
    figure, axes = _bars(plt, labels, series, "accuracy drop vs fp32 (percentage points)",
                         "Quantization: accuracy lost against the fp32 source")
    axes.axhline(ACCURACY_DROP_MAX_PP, color="red", linestyle="--", linewidth=1, label="int8 gate")
    axes.axhline(0.0, color="black", linewidth=0.8)
    axes.legend(loc="best")
    return figure


def _video_fps(plt, results: Results):
    rows = results.rows("video")
    if not rows:
        return None
    labels = [f"{r['video']}\n{r['model']}" for r in rows]
    figure, axes = _bars(plt, labels, {"analyzed FPS": [r.get("fps") for r in rows]}, "frames per second",
                         "Analyzer.analyze_video throughput (1 thread)")
    axes.scatter(range(len(rows)), [r.get("video_fps") for r in rows], color="red", zorder=3, marker="_", s=400,
                 label="video's own FPS (real time)")
    axes.legend(loc="best")
    return figure
