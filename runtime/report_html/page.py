"""The HTML of the report page, in the order a candidate reads it: verdict, timeline, distribution, key moments,
fine print. One file: inline CSS (``page.css``), inline SVG charts, thumbnails as data: URIs, no script."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from html import escape
from importlib.resources import files
from pathlib import Path

from runtime.report import EXPRESSIVE_ABOVE, FACIAL_ACTIVITY, NEUTRAL, RESERVED_BELOW, VideoReport
from runtime.report_html import charts, words
from runtime.report_html.series import Moment, binned, clock, crowded, frames_with_several_faces, key_moments

SCALE_MIN, SCALE_MAX = -1.0, 1.0


def _number(value: float, spec: str) -> str:
    return format(value, spec).replace("-", "−")  # a real minus sign


def _frames(count: int) -> str:
    """A count of frames in words: 1 frame, 2 frames, 1,008 frames."""
    return f"{count:,} frame{'' if count == 1 else 's'}"


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "–"


def _source_name(report: VideoReport) -> str:
    return f"webcam {report.source}" if re.fullmatch(r"[0-9]+", report.source) else Path(report.source).name


def _duration(report: VideoReport) -> float | None:
    return report.frames_read / report.fps if report.fps else None


def _driver(driver: words.Driver) -> str:
    """A bar from the middle (typical) to the right (more) or the left (less), half the width at the clip (8x)."""
    width = min(abs(driver.log2_ratio), 3.0) / 3.0 * 50
    left = 50 if driver.log2_ratio >= 0 else 50 - width
    side = "more" if driver.log2_ratio >= 0 else "less"
    return (f'<li><span class="driver-name">{escape(driver.name)}</span><span class="bar diverging">'
            f'<span class="{side}" style="left: {left:.1f}%; width: {width:.1f}%"></span></span>'
            f'<span class="driver-value">{escape(driver.text)}</span></li>')


def _section(name: str, title: str, body: str, extra_class: str = "") -> str:
    classes = " ".join(filter(None, ("card", extra_class)))
    return (f'<section id="{name}" class="{classes}" aria-labelledby="{name}-title">'
            f'<h2 id="{name}-title">{escape(title)}</h2>{body}</section>')


def _scale(score: float) -> str:
    """The bar from SCALE_MIN to SCALE_MAX with its three zones and the score's marker; a score past an end (facial
    activity's and a trained head's can be) sits at that end with an arrow outwards, and a line says so."""
    at = (min(max(score, SCALE_MIN), SCALE_MAX) - SCALE_MIN) / (SCALE_MAX - SCALE_MIN) * 100
    side = "right" if score > SCALE_MAX else "left" if score < SCALE_MIN else None
    zones = [("Reserved", RESERVED_BELOW - SCALE_MIN), ("Balanced", EXPRESSIVE_ABOVE - RESERVED_BELOW),
             ("Expressive", SCALE_MAX - EXPRESSIVE_ABOVE)]
    bands = "".join(f'<span class="zone zone-{name.lower()}" style="flex: {width:.2f}"></span>'
                    for name, width in zones)
    names = "".join(f'<span style="flex: {width:.2f}">{name}</span>' for name, width in zones)
    return (f'<div class="scale" aria-hidden="true"><div class="zones">{bands}</div>'
            f'<span class="marker{f" beyond-{side}" if side else ""}" style="left: {at:.1f}%"></span></div>'
            f'<div class="zone-names" aria-hidden="true">{names}</div>'
            + (f'<p class="scale-note">{_number(score, "+.2f")} is past the {side} end of the bar, which shows '
               f'{_number(SCALE_MIN, "+.0f")} to {_number(SCALE_MAX, "+.0f")}.</p>' if side else ""))


def _score(e) -> str:
    """The score in words, with the range its method can give and the levels' thresholds."""
    span = words.score_range(e.method)
    where = (f" on a scale from {_number(span[0], '+.0f')} to {_number(span[1], '+.0f')}" if span else
             " (no fixed range)")
    if e.method == FACIAL_ACTIVITY:
        where += ", 0 for a typical interview face"
    thresholds = (f"below {_number(RESERVED_BELOW, '+.1f')} is Reserved, above {_number(EXPRESSIVE_ABOVE, '+.1f')} "
                  "Expressive")
    return f'<span class="score">score {_number(e.score, "+.2f")}{where}; {thresholds}</span>'


def _verdict(report: VideoReport) -> str:
    e = report.expressiveness
    level = e.level or "Unknown"
    score = _score(e) if e.score is not None else ""
    body = [f'<p class="level-line"><span class="level level-{level.lower()}">{escape(level)}</span>{score}</p>']
    if e.score is not None:
        body.append(_scale(e.score))
    if e.level in words.LEVEL_MEANING:
        body.append(f'<p class="meaning">{escape(words.LEVEL_MEANING[e.level])}</p>')
    body.append(f'<p class="method"><strong>How this was measured.</strong> {escape(words.method_text(e))}</p>')
    if drivers := words.drivers(e):
        rows = "".join(_driver(driver) for driver in drivers)
        body.append('<h3>What drove it</h3><p class="drivers-note">Each part against a typical interview face: '
                    'bars to the right are more, to the left less.</p>'
                    f'<ul class="drivers">{rows}</ul>')
    if reason := getattr(e, "reason", None):
        body.append(f'<p class="reason">{escape(str(reason))}</p>')
    return _section("verdict", "Verdict", "".join(body), "verdict")


def _legend(labels: Sequence[str]) -> str:
    items = [f'<li><span class="swatch" style="background: {charts.color_of(labels[i], i)}"></span>'
             f'{escape(labels[i])}</li>' for i in charts.stack_order(labels)]
    if NEUTRAL in labels:  # the line the timeline draws at 1 - P(Neutral)
        items.append('<li><span class="swatch line"></span>expression intensity</li>')
    items.append('<li><span class="swatch gap"></span>no face</li>')
    return f'<ul class="legend">{"".join(items)}</ul>'


def _timeline(report: VideoReport, labels: tuple[str, ...]) -> str:
    series = binned(report, labels)
    activity = " The lower panel shows facial activity." if series.activity is not None else ""
    lead = ("How the emotion model read your face moment by moment: each band is one emotion's probability, Neutral "
            "on top, so the coloured area below the dark line is how much your face read as something other than "
            f"Neutral. Grey stretches had no face in view.{activity}")
    body = (f'<p class="lead">{escape(lead)}</p><figure class="wide">{charts.timeline_svg(series, labels)}'
            f'</figure><p class="swipe">Swipe sideways to see the whole interview.</p>{_legend(labels)}')
    return _section("timeline", "Over the interview", body)


def _distribution(report: VideoReport) -> str:
    share = report.emotion_distribution.get(report.dominant_emotion, 0.0)
    lead = (f'Dominant emotion: <strong>{escape(report.dominant_emotion or "none")}</strong>, the top emotion in '
            f"{share:.0%} of the frames with a face. Each bar is the share of those frames where that emotion came "
            "out on top.")
    body = f'<p class="lead">{lead}</p><figure>{charts.distribution_svg(report.emotion_distribution)}</figure>'
    return _section("distribution", "Emotions", body)


def _moments(moments: list[Moment], pictures: dict[int, str] | None) -> str:
    if not moments:
        return ""
    cards = []
    for moment in moments:
        when = moment.when
        picture = pictures.get(moment.index) if pictures else None
        image = (f'<img src="{picture}" alt="Your face at {when}" width="96" height="96">' if picture
                 else "")
        tag = "peak" if moment.kind == "strongest" else "sample"
        cards.append(f'<li class="moment {tag}">{image}<span class="when">{when}</span>'
                     f'<span class="what">{escape(moment.label)} {moment.probability:.0%}</span>'
                     f'<span class="tag">{tag}</span></li>')
    if pictures is None:
        note = ("Face thumbnails are left out so that the page can be shared; fer-analyze --report-thumbnails adds "
                "them.")
    elif not pictures:  # asked for, but no frame could be read again
        note = "Face thumbnails were asked for, but none could be made: the video's frames could not be read again."
    else:
        note = "These thumbnails show your face: think before you share this page."
    lead = ("Peaks are the strongest moments of an emotion other than Neutral; samples are spread evenly over the "
            "interview.")
    return _section("moments", "Key moments",
                    f'<p class="lead">{escape(lead)}</p><ul class="strip">{"".join(cards)}</ul>'
                    f'<p class="note">{escape(note)}</p>')


def _no_face(report: VideoReport) -> str:
    if report.frames_analyzed == 0:
        text = ("No frame could be read from the video, so there is nothing to report. Check that the file plays "
                "and try again.")
    else:
        where = "the 1 frame" if report.frames_analyzed == 1 else f"any of the {_frames(report.frames_analyzed)}"
        text = (f"No face was found in {where} analysed, so there is no "
                "verdict and there are no charts. Check that your face is in the picture, well lit and not too "
                "small (at least 20 pixels across), then record again.")
    return _section("verdict", "No face found", f'<p class="meaning">{escape(text)}</p>', "verdict empty")


def _crowd_notice(report: VideoReport) -> str:
    several = frames_with_several_faces(report)
    return (f'<p class="notice" role="note">More than one face was in the picture in {_frames(several)}. The '
            "numbers follow the largest face in each frame, which may not always have been you.</p>")


def _incomplete_notice(report: VideoReport) -> str:
    """Up front, for a report whose reading did not go to the end (interrupted, the video ended early, damaged
    frames skipped): the header's frame count and time are then not the whole video's. "may": a video without a
    frame rate is also marked incomplete, though all of it was read."""
    what = list(report.warnings) or ["the reading stopped before the end of the video"]
    listed = (escape(what[0].rstrip(".")) + "." if len(what) == 1 else
              "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in what) + "</ul>")
    return ('<div class="notice incomplete" role="note"><strong>This may cover only part of the video.</strong> '
            f"The numbers below are for what was analysed. While reading it: {listed}</div>")


def _faces_note(report: VideoReport) -> str:
    if report.expressiveness.method == FACIAL_ACTIVITY:
        return ("found by MediaPipe's BlazeFace detector and followed with MediaPipe's face mesh (468 landmarks), "
                "which also measures the facial activity; the same person is followed from frame to frame")
    return "found by MediaPipe's BlazeFace detector; in each frame the largest face counts"


def _fine_print(report: VideoReport, models: Sequence[Path]) -> str:
    with_face = report.frames_analyzed - report.frames_without_face
    rows = [("Models", "".join(f"<li><strong>{escape(n.name)}</strong>: {escape(n.description)}</li>"
                               for n in map(words.model_note, models)) or "<li>not recorded for this page</li>"),
            ("Faces", f"<li>{escape(_faces_note(report))}</li>")]
    duration = _duration(report)
    frames = [f"{report.frames_analyzed:,} analysed of {report.frames_read:,} read"
              + (f" ({clock(duration)} at {report.fps:.0f} fps)" if duration else ""),
              f"{report.frames_without_face:,} without a face "
              f"({_percent(report.frames_without_face, report.frames_analyzed)}), {with_face:,} with one"]
    if several := frames_with_several_faces(report):
        frames.append(f"{several:,} with more than one face")
    if report.smoothing is not None:
        frames.append(f"probabilities smoothed over time (factor {report.smoothing:g})")
    rows.append(("Frames", "".join(f"<li>{escape(line)}</li>" for line in frames)))
    rows.append(("Warnings", "".join(f"<li>{escape(w)}</li>" for w in report.warnings) or "<li>none</li>"))
    items = "".join(f"<dt>{title}</dt><dd><ul>{content}</ul></dd>" for title, content in rows)
    limits = "".join(f"<li>{escape(line)}</li>" for line in words.LIMITS)
    return _section("fine-print", "Fine print", f'<dl>{items}</dl><h3>What these numbers cannot tell</h3>'
                    f'<ul class="limits">{limits}</ul>', "fine")


def html_page(report: VideoReport, models: Sequence[Path] = (), pictures: dict[int, str] | None = None,
              moments: list[Moment] | None = None) -> str:
    """The whole page. ``pictures``: thumbnails by frame number (None: none asked for)."""
    labels = tuple(report.emotion_distribution)
    name = _source_name(report)
    duration = _duration(report)
    meta = " · ".join(filter(None, [escape(name), clock(duration) if duration else "",
                                    f"{_frames(report.frames_analyzed)} analysed",
                                    "" if report.complete else "incomplete",
                                    f"made {datetime.now(timezone.utc):%Y-%m-%d}"]))
    parts = [f'<header><p class="eyebrow">Interview expression report</p><h1>How your face came across</h1>'
             f'<p class="meta">{meta}</p></header>']
    if not report.complete:
        parts.append(_incomplete_notice(report))
    if report.dominant_emotion is None:
        parts.append(_no_face(report))
    else:
        if crowded(report):
            parts.append(_crowd_notice(report))
        parts += [_verdict(report), _timeline(report, labels), _distribution(report),
                  _moments(key_moments(report) if moments is None else moments, pictures)]
    parts.append(_fine_print(report, models))
    parts.append('<footer>Made with fer-edge. The page is self-contained: it loads nothing from '
                 "the network.</footer>")
    css = files("runtime.report_html").joinpath("page.css").read_text(encoding="utf-8")
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>Interview expression report: {escape(name)}</title>\n<style>\n{css}</style>\n</head>\n"
            f'<body>\n<main>\n{"".join(parts)}\n</main>\n</body>\n</html>\n')
