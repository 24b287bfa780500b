"""The report's charts: matplotlib figures (Agg-free SVG backend, no pyplot) turned into small inline SVG strings.

Text stays text (``svg.fonttype: none``: the page's fonts, no embedded glyphs), path coordinates are rounded to a
tenth of a point, and the root element keeps only its viewBox so that CSS sizes it (responsive).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from html import escape

import numpy as np

from runtime.report import NEUTRAL
from runtime.report_html.series import Series, clock

INK = "#374151"
MUTED = "#9ca3af"
GRID = "#e5e7eb"
GAP = "#f3f4f6"
FALLBACK_COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7")
EMOTION_COLORS = {"Angry": "#d1495b", "Disgust": "#7a9e3f", "Fear": "#8e6bbf", "Happy": "#f2a541",
                  "Sad": "#3f7cac", "Surprise": "#2bb3a5", NEUTRAL: "#d9dde3"}
WIDTH_IN = 7.2  # shown about 770 px wide on a laptop: the charts' 11 pt text comes out near the page's 16 px
DISTRIBUTION_WIDTH_IN = 4.6
TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
TARGET_TICKS = 7

STYLE = {
    "svg.fonttype": "none", "svg.hashsalt": "fer-edge", "font.family": "sans-serif",
    "font.sans-serif": ["Inter", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "DejaVu Sans"],
    "font.size": 11, "text.color": INK, "axes.labelcolor": INK, "xtick.color": INK, "ytick.color": INK,
    "axes.edgecolor": GRID, "axes.linewidth": 0.8, "xtick.major.size": 0, "ytick.major.size": 0,
    "path.simplify": True, "path.simplify_threshold": 0.5,
}


def color_of(label: str, position: int) -> str:
    """One colour per emotion, the same in every chart and in the page's legend."""
    return EMOTION_COLORS.get(label, FALLBACK_COLORS[position % len(FALLBACK_COLORS)])


def stack_order(labels: Sequence[str]) -> list[int]:
    """Label positions bottom to top: Neutral last, so the coloured band below it is the expression intensity."""
    return sorted(range(len(labels)), key=lambda i: labels[i] == NEUTRAL)


def _time_ticks(axis, start: float, end: float, seconds: bool) -> None:
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    span = max(end - start, 1e-9)
    if seconds:
        step = next((s for s in TICK_STEPS_S if span / s <= TARGET_TICKS), TICK_STEPS_S[-1])
        axis.set_major_locator(MultipleLocator(step))
        axis.set_major_formatter(FuncFormatter(lambda value, _: clock(value)))
    else:
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}"))


def _plain(ax) -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


def timeline_svg(series: Series, labels: tuple[str, ...]) -> str:
    """Stacked emotion probabilities of the primary face over time (Neutral on top, gaps shaded where no face
    was found), with a panel of facial activity below when the frames carry it."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        panels = 2 if series.activity is not None else 1
        height = 2.7 + 1.3 * (panels - 1)
        fig = Figure(figsize=(WIDTH_IN, height))
        # fixed margins in inches: matplotlib's layout engines cost more than drawing the charts
        fig.subplots_adjust(left=0.75 / WIDTH_IN, right=1 - 0.15 / WIDTH_IN, top=1 - 0.12 / height,
                            bottom=0.62 / height, hspace=0.25)
        axes = fig.subplots(panels, 1, sharex=True, squeeze=False,
                            gridspec_kw={"height_ratios": [2.2, 1][:panels]})[:, 0]
        start, end = float(series.edges[0]), float(series.edges[-1])
        ax = axes[0]
        order = stack_order(labels)
        ax.stackplot(series.times, series.probabilities[:, order].T, colors=[color_of(labels[i], i) for i in order],
                     linewidth=0)
        if NEUTRAL in labels:
            intensity = 1.0 - series.probabilities[:, labels.index(NEUTRAL)]
            ax.plot(series.times, intensity, color=INK, linewidth=0.9)
        ax.set_ylim(0, 1)
        ax.set_yticks([0, 0.5, 1], ["", "50%", "100%"])  # no "0%" beside the first time label
        if series.activity is not None:
            axes[1].plot(series.times, series.activity, color="#2563eb", linewidth=1.2)
            axes[1].set_ylabel("activity", fontsize=10)
        for axis in axes:
            _plain(axis)
            for left, right in series.gaps:
                axis.axvspan(left, right, color=GAP, linewidth=0, zorder=0.5)
        axes[-1].set_xlim(start, end)
        axes[-1].set_xlabel("time (mm:ss)" if series.seconds else "frame")
        _time_ticks(axes[-1].xaxis, start, end, series.seconds)
        return to_svg(fig, "timeline", "Emotion probabilities over the interview")


def distribution_svg(distribution: dict[str, float]) -> str:
    """Horizontal bars: the share of face frames where each emotion was the top one, largest first."""
    import matplotlib
    from matplotlib.figure import Figure

    labels = list(distribution)
    ranked = sorted(range(len(labels)), key=lambda i: -distribution[labels[i]])
    values = np.array([distribution[labels[i]] for i in ranked])
    with matplotlib.rc_context(STYLE):
        height = 0.34 * len(labels) + 0.3
        fig = Figure(figsize=(DISTRIBUTION_WIDTH_IN, height))
        left = 0.2 + 0.085 * max(len(label) for label in labels)  # inches for the longest label at 11 pt
        fig.subplots_adjust(left=left / DISTRIBUTION_WIDTH_IN, right=0.98, top=1 - 0.12 / height,
                            bottom=0.12 / height)
        ax = fig.subplots()
        y = np.arange(len(ranked))
        ax.barh(y, values, color=[color_of(labels[i], i) for i in ranked], height=0.7)
        ax.set_yticks(y, [labels[i] for i in ranked])
        ax.invert_yaxis()
        for row, value in zip(y, values):
            ax.text(value + 0.015, row, f"{value:.0%}", va="center", fontsize=10, color=INK)
        ax.set_xlim(0, 1.12)
        ax.set_xticks([])
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        return to_svg(fig, "distribution", "Share of frames per top emotion")


_DECIMALS = re.compile(r"(\d\.\d)\d+")
_PATH_DATA = re.compile(r' d="([^"]*)"')


def _round_path(match: re.Match) -> str:
    return ' d="' + " ".join(_DECIMALS.sub(r"\1", match.group(1)).split()) + '"'


def to_svg(fig, name: str, title: str) -> str:
    """The figure as an SVG element for inline use: no XML prolog, no metadata, no namespace URLs, coordinates
    rounded, ids prefixed with ``name`` (several charts share one page), sized by CSS through its viewBox."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = _PATH_DATA.sub(_round_path, text)
    head_end = text.index(">")
    head = re.sub(r'\s(?:xmlns(?::xlink)?|width|height|version)="[^"]*"', "", text[:head_end])
    head += f' class="chart chart-{name}" role="img" aria-label="{escape(title)}"'
    body = text[head_end:].replace("xlink:href", "href")
    for before, after in (('id="', f'id="{name}-'), ("url(#", f"url(#{name}-"), ('href="#', f'href="#{name}-')):
        body = body.replace(before, after)
    return head + body
