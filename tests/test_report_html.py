"""The report page: what it says and in which order, self-contained HTML, the cases without a verdict (no face,
no frame, several people), optional parts (components, activity, thumbnails), the CLI's checks and bad input."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest

from runtime.cli import main
from runtime.report import Expressiveness, FrameResult
from runtime.report_html import PageOptions
from runtime.report_html.series import MAX_POINTS, binned, clock, key_moments
from tests.report_pages import DEFAULT_MODEL, FACE_FRAMES, NO_FACE_FRAMES, REPO, SAMPLE, face_clip
from tests.synthetic import synthetic_report

pytest.importorskip("matplotlib", reason="the report page needs matplotlib (extra 'report')")

SECTIONS = ("verdict", "timeline", "distribution", "moments", "fine-print")  # the candidate's reading order
PAGE_SIZE_MAX = 1_000_000  # bytes for a 10-minute interview without thumbnails (the aim)


@pytest.fixture(scope="module")
def ten_minutes():
    return synthetic_report()


@pytest.fixture(scope="module")
def ten_minute_page(ten_minutes) -> str:
    return ten_minutes.to_html(models=[DEFAULT_MODEL])


def assert_self_contained(page: str) -> None:
    """Nothing a browser would fetch: no URL with a scheme but data:, no script, stylesheet link, font or import."""
    text = re.sub(r"data:[^\"')\s]*", "data:", page)  # base64 may hold any letters, "//" included
    assert not re.search(r"https?:|//[a-z]", text, re.I), "an absolute URL"
    assert not re.search(r"<script|<link|<iframe|<object|<embed|@import|@font-face", text, re.I)
    for target in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert target.startswith(("data:", "#")), target
    for target in re.findall(r"url\(([^)]*)\)", page):
        assert target.startswith("#"), target


def test_page_reads_in_the_candidates_order(ten_minutes, ten_minute_page):
    positions = [ten_minute_page.index(f'<section id="{name}"') for name in SECTIONS]
    assert positions == sorted(positions)
    e = ten_minutes.expressiveness
    assert f">{e.level}</span>" in ten_minute_page
    assert f"score {e.score:+.2f}".replace("-", "−") in ten_minute_page
    assert "Derived from the emotion model" in ten_minute_page  # the method, in words
    assert f"Dominant emotion: <strong>{ten_minutes.dominant_emotion}</strong>" in ten_minute_page
    assert ten_minute_page.count("<svg") == 2  # timeline and distribution
    assert "What these numbers cannot tell" in ten_minute_page


def test_fine_print_names_the_model_and_its_measured_accuracy(ten_minutes, ten_minute_page):
    from runtime.manifest import load_manifest

    accuracy = load_manifest(DEFAULT_MODEL).verification["privatetest"]["fer2013"]["accuracy"]
    assert DEFAULT_MODEL.name in ten_minute_page and f"{accuracy:.1%} correct on FER-2013" in ten_minute_page
    assert f"{ten_minutes.frames_analyzed:,} analysed of {ten_minutes.frames_read:,} read" in ten_minute_page
    assert f"{ten_minutes.frames_without_face:,} without a face" in ten_minute_page
    assert "not recorded for this page" in ten_minutes.to_html()  # no models given


def test_ten_minute_page_is_self_contained_and_small(ten_minute_page):
    assert_self_contained(ten_minute_page)
    assert len(ten_minute_page.encode()) < PAGE_SIZE_MAX
    assert "<img" not in ten_minute_page  # no thumbnails unless asked


def test_timeline_is_binned_with_gaps_where_no_face(ten_minutes):
    series = binned(ten_minutes, tuple(ten_minutes.emotion_distribution))
    assert len(series.times) == MAX_POINTS and series.seconds
    (start, end), *_ = series.gaps
    assert start == pytest.approx(95, abs=1.5) and end == pytest.approx(130, abs=1.5)
    inside = (series.times > 97) & (series.times < 128)
    assert np.isnan(series.probabilities[inside]).all()
    assert np.allclose(np.nansum(series.probabilities[~inside], axis=1)[~np.isnan(series.probabilities[~inside,
                       0])], 1.0)


def test_a_short_timeline_keeps_one_point_per_frame():
    report = synthetic_report(seconds=10, fps=10, frame_skip=1, no_face=((3.0, 4.0),))
    series = binned(report, tuple(report.emotion_distribution))
    assert len(series.times) == 100
    assert series.gaps == [(pytest.approx(2.95), pytest.approx(3.95))]


@pytest.mark.parametrize(("seconds", "text"), [(0, "00:00"), (59.6, "01:00"), (75, "01:15"), (3725, "1:02:05")])
def test_clock(seconds, text):
    assert clock(seconds) == text


def test_key_moments_are_peaks_of_non_neutral_emotions_and_spread_samples(ten_minutes):
    moments = key_moments(ten_minutes)
    assert [m.index for m in moments] == sorted(m.index for m in moments) and 4 < len(moments) <= 8
    peaks = [m for m in moments if m.kind == "strongest"]
    assert peaks and all(m.label != "Neutral" for m in peaks)
    assert all(not 95 <= m.timestamp < 130 for m in moments)  # never a frame without a face


def test_no_face_in_the_whole_video_says_so_without_charts():
    page = synthetic_report(seconds=20, no_face=((0.0, 20.0),)).to_html()
    assert "No face was found in any of the 300 frames analysed" in page
    assert "<svg" not in page and 'id="timeline"' not in page
    assert_self_contained(page)


def test_no_frame_at_all_says_so():
    report = synthetic_report(seconds=20, no_face=((0.0, 20.0),))
    page = replace(report, timeline=(), frames_without_face=0, frames_read=0).to_html()
    assert "No frame could be read" in page and "<svg" not in page


def test_several_people_are_named_up_front():
    page = synthetic_report(seconds=30, second_face_every=3).to_html()
    notice = page.index("More than one face was in the picture")
    assert notice < page.index('<section id="verdict"')
    assert "the largest face in each frame" in page


@dataclass(frozen=True)
class _Components(Expressiveness):  # what the facial-activity method adds (issue 10), where it is there
    components: dict[str, float] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True)
class _WithActivity(FrameResult):
    activity: float | None = None


def test_components_and_activity_show_when_the_report_has_them():
    report = synthetic_report(seconds=30)
    # smiling 4x typical (weight 0.25), brows twice (0.15), head motion a quarter (0.15): smiling moved it most
    verdict = _Components("Expressive", 0.42, "facial-activity",
                          {"smiling": 0.75, "brow_activity": 0.024, "head_motion": 1.0, "unknown_part": 5.0},
                          "smiles well above your resting face")
    timeline = tuple(_WithActivity(f.index, f.timestamp, f.faces, 0.5 if f.faces else None)
                     for f in report.timeline)
    page = replace(report, expressiveness=verdict, timeline=timeline).to_html()
    drove = page[page.index("What drove it"):]
    assert drove.index("Smiling") < drove.index("Head motion") < drove.index("Brow movement")
    assert "4x typical" in drove and "2x typical" in drove and "0.25x typical" in drove
    assert 'class="less"' in drove and 'class="more"' in drove and "Unknown part" not in drove
    assert "smiles well above your resting face" in page and "facial landmarks" in page
    assert "face mesh (468 landmarks)" in page and "the largest face counts" not in page
    assert "lower panel shows facial activity" in page and ">activity<" in page


def test_a_video_without_frame_rate_counts_frames_on_the_axis():
    report = synthetic_report(seconds=20, fps=10, frame_skip=1)
    timeline = tuple(replace(frame, timestamp=None) for frame in report.timeline)
    page = replace(report, timeline=timeline, fps=0.0).to_html()
    assert ">frame<" in page and "time (mm:ss)" not in page
    assert re.search(r'class="when">frame [0-9]+<', page)  # moments named by frame number, not time


def test_a_verdict_from_the_expressiveness_model_has_no_score_scale():
    verdict = Expressiveness("Expressive", None, "model:expr.tflite")
    page = replace(synthetic_report(seconds=10), expressiveness=verdict).to_html()
    assert ">Expressive</span>" in page and "Read by the expressiveness model expr.tflite" in page
    body = page[page.index("<body>"):]
    assert 'class="scale"' not in body and "score " not in body


def test_the_runtime_and_the_cli_do_not_load_matplotlib():
    code = ("import sys, runtime, runtime.report, runtime.cli, runtime.analyzer; "
            "print('matplotlib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    assert done.stdout.strip() == "False"


def test_options_are_checked():
    with pytest.raises(ValueError, match="list of model files"):
        PageOptions(models="model.tflite")
    with pytest.raises(ValueError, match="True or False"):
        PageOptions(thumbnails="yes")
    with pytest.raises(TypeError):
        synthetic_report(seconds=5).to_html(colour="red")


def test_thumbnails_need_the_video_file():
    report = replace(synthetic_report(seconds=10), source="0")
    with pytest.raises(ValueError, match="webcam"):
        report.to_html(thumbnails=True)


def _plain_video(path: Path, frames: int, side: int) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (side, side))
    for _ in range(frames):
        writer.write(np.full((side, side, 3), 128, np.uint8))
    writer.release()
    return path


def test_a_face_box_outside_the_frame_read_again_leaves_that_thumbnail_out(tmp_path, caplog):
    """A video that is not the one analysed (smaller frames) raised ValueError and no page was made."""
    report = replace(synthetic_report(seconds=10), source=str(_plain_video(tmp_path / "small.avi", 400, 64)))
    with caplog.at_level("WARNING"):
        page = report.to_html(thumbnails=True)
    assert "<img" not in page and "face box lies outside the frame" in caplog.text


def test_thumbnails_that_could_not_be_made_are_not_announced(tmp_path):
    """A video too short to read the moments again gave no thumbnail, and the page said they showed your face."""
    report = replace(synthetic_report(seconds=10), source=str(_plain_video(tmp_path / "short.avi", 3, 64)))
    page = report.to_html(thumbnails=True)
    assert "<img" not in page and "These thumbnails show your face" not in page
    assert "none could be made" in page


def test_write_html_to_a_missing_folder_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        synthetic_report(seconds=5).write_html(tmp_path / "missing" / "report.html")


def test_missing_extra_names_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    report = synthetic_report(seconds=5)
    with pytest.raises(ImportError, match=re.escape("pip install 'fer-edge[report]'")):
        report.to_html()
    video = face_clip(tmp_path / "clip.avi")
    assert main([str(video), "--report", str(tmp_path / "r.html"), "--no-progress"]) == 2  # before the work
    assert not (tmp_path / "r.html").exists()


# ---- through fer-analyze, on a generated video and the shipped default model ----

@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return face_clip(tmp_path_factory.mktemp("clip") / "interview.avi")


def test_cli_writes_the_page_for_a_generated_video(clip, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main([str(clip), "--report", str(out), "--no-progress"]) == 0
    assert f"report page: {out}" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert_self_contained(page)
    assert f"{NO_FACE_FRAMES} without a face" in page and f"{2 * FACE_FRAMES} with one" in page
    assert DEFAULT_MODEL.name in page and "<img" not in page


def test_cli_embeds_thumbnails_only_when_asked(clip, tmp_path):
    out = tmp_path / "report.html"
    assert main([str(clip), "--report", str(out), "--report-thumbnails", "--no-progress"]) == 0
    page = out.read_text(encoding="utf-8")
    assert_self_contained(page)
    assert page.count('<img src="data:image/jpeg;base64,') >= 2
    assert "These thumbnails show your face" in page


@pytest.mark.parametrize(("extra", "message"), [
    (["--report-thumbnails"], "needs --report"),
    (["--report", "{tmp}/missing/r.html"], "does not exist"),
    (["--report", "{tmp}/r.json"], "name an HTML file"),
    (["--report", "{tmp}/folder.html"], "is a folder"),
])
def test_cli_refuses_bad_report_targets_before_the_work(clip, tmp_path, caplog, extra, message):
    (tmp_path / "folder.html").mkdir()
    argv = [str(clip), "--no-progress", *(a.format(tmp=tmp_path) for a in extra)]
    assert main(argv) == 2
    assert message in caplog.text


def test_cli_exits_1_when_the_page_cannot_be_written(clip, tmp_path, caplog, monkeypatch):
    import runtime.report_html

    def fail(report, path, options=None):
        raise OSError(f"cannot write {path}: disk full")

    monkeypatch.setattr(runtime.report_html, "write", fail)
    assert main([str(clip), "--report", str(tmp_path / "r.html"), "--no-progress"]) == 1
    assert "disk full" in caplog.text


def test_cli_refuses_a_report_for_an_image_and_thumbnails_for_a_webcam(tmp_path, caplog):
    assert main([str(SAMPLE), "--report", str(tmp_path / "r.html")]) == 2
    assert "made for a video or a webcam" in caplog.text
    assert main(["0", "--report", str(tmp_path / "r.html"), "--report-thumbnails"]) == 2
    assert "a webcam's frames are not kept" in caplog.text


def test_a_single_frame_is_counted_in_the_singular():
    crowd = synthetic_report(seconds=1, fps=1, frame_skip=1, no_face=(), second_face_every=1).to_html()
    assert "· 1 frame analysed ·" in crowd and "in the picture in 1 frame." in crowd
    empty = synthetic_report(seconds=1, fps=1, frame_skip=1, no_face=((0.0, 1.0),)).to_html()
    assert "No face was found in the 1 frame analysed" in empty
    assert "1 frames" not in crowd + empty


def test_an_incomplete_run_says_so_at_the_top():
    stopped = "interrupted after 476 analyzed frames"
    report = replace(synthetic_report(seconds=30), complete=False, warnings=(stopped,))
    page = report.to_html()
    notice, verdict = page.index("This may cover only part of the video"), page.index('<section id="verdict"')
    assert page.index("</header>") < notice < verdict and f"{stopped}.</div>" in page[notice:verdict]
    assert re.search(r'class="meta">[^<]*· incomplete ·', page)
    no_face = replace(synthetic_report(seconds=5, no_face=((0.0, 5.0),)), complete=False, warnings=())
    page = no_face.to_html()
    assert page.index("This may cover only part of the video") < page.index('<section id="verdict"')
    assert "the reading stopped before the end" in page  # no warning recorded: still said
    whole = synthetic_report(seconds=30).to_html()
    assert "only part of the video" not in whole and "· incomplete" not in whole


def _score_text(page: str) -> str:
    return re.search(r'class="score">([^<]*)<', page).group(1)


def test_a_facial_activity_score_past_one_is_not_called_inside_the_bar():
    report = synthetic_report(seconds=30)
    page = replace(report, expressiveness=_Components("Expressive", 1.2, "facial-activity")).to_html()
    score = _score_text(page)
    assert "+1.20" in score and "from −1 to +1" not in score and "from −3 to +3" in score
    assert "below −0.3 is Reserved, above +0.3 Expressive" in score
    assert 'class="marker beyond-right"' in page and "+1.20 is past the right end of the bar" in page
    low = replace(report, expressiveness=_Components("Reserved", -1.5, "facial-activity")).to_html()
    assert 'class="marker beyond-left"' in low and "−1.50 is past the left end of the bar" in low
    inside = replace(report, expressiveness=_Components("Balanced", 0.1, "facial-activity")).to_html()
    assert 'class="marker"' in inside and 'class="scale-note"' not in inside
    head = replace(report, expressiveness=Expressiveness("Expressive", 2.4, "model:head.json")).to_html()
    assert "no fixed range" in _score_text(head) and "beyond-right" in head


def test_an_emotion_intensity_score_keeps_its_bounded_scale(ten_minutes, ten_minute_page):
    score = _score_text(ten_minute_page)
    assert ten_minutes.expressiveness.method == "emotion-intensity"
    assert "on a scale from −1 to +1" in score and "below −0.3 is Reserved" in score
    assert 'class="scale-note"' not in ten_minute_page


def _apart_and_unrepeated(moments, seconds_apart):
    times = [m.timestamp for m in moments]
    assert all(b - a >= seconds_apart - 1e-9 for a, b in itertools.pairwise(times)), times
    shown = [(m.when, m.label) for m in moments]
    assert len(set(m.when for m in moments)) == len(moments), shown


@pytest.mark.parametrize("frame_skip", [1, 3])
def test_key_moments_of_a_short_clip_are_a_second_apart(frame_skip):
    report = synthetic_report(seconds=60 * frame_skip / 25, fps=25, frame_skip=frame_skip, no_face=())
    assert report.frames_analyzed == 60
    moments = key_moments(report)
    assert moments
    _apart_and_unrepeated(moments, 1.0)


def test_key_moments_of_a_long_video_are_a_sixteenth_of_it_apart(ten_minutes):
    _apart_and_unrepeated(key_moments(ten_minutes), 599.9 / 16)


def test_key_moments_without_timestamps_use_the_frame_rate_or_the_frame_numbers():
    report = synthetic_report(seconds=2.4, fps=25, frame_skip=1, no_face=())
    untimed = replace(report, timeline=tuple(replace(frame, timestamp=None) for frame in report.timeline))
    indices = [m.index for m in key_moments(untimed)]  # 25 fps known: a second is 25 frames
    assert indices and all(b - a >= 25 for a, b in itertools.pairwise(indices))
    indices = [m.index for m in key_moments(replace(untimed, fps=0.0))]  # no rate: a sixteenth of the frames
    assert len(indices) >= 4 and all(b - a >= 59 / 16 for a, b in itertools.pairwise(indices))
    assert all(m.when == f"frame {m.index}" for m in key_moments(untimed))


def _happy_report(count: int, fps: float, happy: dict[int, float]):
    """``count`` frames at ``fps`` of a Neutral face, Happy at ``happy``'s frames with that probability."""
    from runtime.manifest import FER2013_LABELS
    from runtime.report import summarize
    from runtime.results import Box, Classification, Face

    def frame(index: int) -> FrameResult:
        p = np.zeros(len(FER2013_LABELS))
        p[FER2013_LABELS.index("Happy")] = happy.get(index, 0.1)
        p[FER2013_LABELS.index("Neutral")] = 1 - p[FER2013_LABELS.index("Happy")]
        face = Face(Box(0.0, 0.0, 50.0, 50.0), 0.9, Classification(FER2013_LABELS, tuple(float(v) for v in p)))
        return FrameResult(index, index / fps, (face,))

    return summarize([frame(i) for i in range(count)], FER2013_LABELS,
                     Expressiveness(None, None, "emotion-intensity"), source="x.mp4", fps=fps, frames_read=count)


def test_two_key_moments_never_show_the_same_time():
    # at 2 fps, frames 3 and 5 (1.5 s and 2.5 s) are a second apart, and both show as 00:02
    moments = key_moments(_happy_report(8, 2.0, {3: 0.9, 5: 0.95}))
    assert [m.when for m in moments if m.kind == "strongest"] == ["00:02"]
    _apart_and_unrepeated(moments, 1.0)


def test_a_sample_next_to_a_peak_moves_within_its_share_of_the_clip():
    moments = key_moments(_happy_report(60, 25.0, {30: 0.9}))  # a 2.4-s clip, one peak at 1.2 s
    assert [m.kind for m in moments] == ["spaced", "strongest", "spaced"]
    _apart_and_unrepeated(moments, 1.0)
