"""The report page in a real browser (headless Debian chromium): no console error, no network request but its own
file, the verdict, timeline and distribution present and visible at laptop and phone widths, a screenshot saved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runtime.analyzer import Analyzer
from tests.browser import Chromium, find_chromium, open_page, print_to_pdf
from tests.report_pages import DEFAULT_MODEL, face_clip, real_interview
from tests.synthetic import synthetic_report

pytest.importorskip("matplotlib", reason="the report page needs matplotlib (extra 'report')")

VIEWPORTS = {"laptop": (1024, 768), "phone": (390, 844)}
PARTS = {"verdict": "#verdict", "timeline": "#timeline svg", "distribution": "#distribution svg", "main": "main"}
MIN_SCREENSHOT_BYTES = 10_000  # a blank page is a few hundred bytes
PRINTED_PAGES_MAX = 6  # A4 pages of a 10-minute interview's report (4 measured)


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        pytest.skip("Debian's chromium is not installed (scripts/setup-env.sh installs it when run as root: "
                    "apt-get install -y chromium)")
    with Chromium(executable) as running:
        yield running


def _report_page(video: Path, out: Path, **analysis) -> Path:
    with Analyzer() as analyzer:
        report = analyzer.analyze_video(video, **analysis)
        return report.write_html(out, models=[analyzer.emotion.path])


def _check_in_browser(browser: Chromium, page: Path, shots: Path, parts: dict[str, str]) -> None:
    for name, (width, height) in VIEWPORTS.items():
        shot = shots / f"report-{name}.png"
        record, boxes = open_page(browser, page, width, height, parts, screenshot=shot)
        assert record.errors == [], record.errors
        assert [url for url in record.requests if not url.startswith("data:")] == [page.resolve().as_uri()]
        for part, box in boxes.items():
            assert box is not None, f"{part} is missing at {name} width"
            assert box["visible"] and box["width"] > 0 and box["height"] > 0, (part, name, box)
        assert boxes["main"]["width"] <= width, f"the page is wider than a {name} screen"
        assert shot.stat().st_size > MIN_SCREENSHOT_BYTES


def test_generated_video_page_in_chromium(browser, tmp_path):
    page = _report_page(face_clip(tmp_path / "interview.avi"), tmp_path / "report.html")
    _check_in_browser(browser, page, tmp_path, PARTS)


def test_the_page_prints(browser, tmp_path):
    page = synthetic_report().write_html(tmp_path / "report.html")
    pdf = print_to_pdf(browser, page)
    (tmp_path / "report.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pdf.startswith(b"%PDF") and 2 <= pages <= PRINTED_PAGES_MAX, pages


@pytest.mark.data
def test_real_interview_page_in_chromium(browser, tmp_path):
    video = real_interview()
    if video is None:
        pytest.skip("no RecruitView sample video under the shared data (set $FER_EDGE_DATA)")
    page = _report_page(video, tmp_path / "report.html", frame_skip=2)
    _check_in_browser(browser, page, tmp_path, PARTS)
    assert DEFAULT_MODEL.name in page.read_text(encoding="utf-8")


def test_ten_minute_page_in_chromium(browser, tmp_path):
    page = synthetic_report().write_html(tmp_path / "report.html")
    _check_in_browser(browser, page, tmp_path, PARTS)


def test_no_face_page_in_chromium(browser, tmp_path):
    page = synthetic_report(seconds=20, no_face=((0.0, 20.0),)).write_html(tmp_path / "report.html")
    _check_in_browser(browser, page, tmp_path, {"verdict": "#verdict", "fine print": "#fine-print", "main": "main"})
