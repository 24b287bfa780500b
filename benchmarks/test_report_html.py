"""The report page (``fer-analyze --report``): its size for a 10-minute interview, and the time to make it as a
fraction of the analysis of the same video, in the same run.

A 10-minute interview is synthesized (tests/synthetic.py: 30 fps analysed every 2nd frame, 9,000 frames, two
stretches without a face) because the shared videos last at most 34 s; the analysis time of 10 minutes is then the
per-frame analysis time measured on the longest shared video times those 9,000 frames.
"""

from __future__ import annotations

import statistics
import time

import pytest

from benchmarks.data import list_videos
from benchmarks.discovery import ModelGroup
from benchmarks.gates import REPORT_COST_MAX, REPORT_PAGE_MAX_BYTES, check
from benchmarks.params import group_params
from benchmarks.probes import run_probe
from benchmarks.results import Results
from runtime.analyzer import Analyzer, AnalyzerOptions
from tests.synthetic import synthetic_report

pytest.importorskip("matplotlib", reason="the report page needs matplotlib (extra 'report')")

INTERVIEW_S = 600.0  # "a 10-minute video" (issue 13)
PAGE_ROUNDS = 5
KB = 1000


def _page_seconds(report, rounds: int = PAGE_ROUNDS) -> tuple[float, int]:
    """Median seconds to make the page (after one untimed page, so matplotlib is imported) and its bytes."""
    size = len(report.to_html().encode())
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        report.to_html()
        times.append(time.perf_counter() - start)
    return statistics.median(times), size


@pytest.mark.quick
def test_report_page_size(results: Results) -> None:
    report = synthetic_report(INTERVIEW_S)
    seconds, size = _page_seconds(report)
    cold = run_probe("report_page", str(INTERVIEW_S))
    results.add("report_page", what="10-minute interview (synthesized), page only", frames=report.frames_analyzed,
                page_ms=seconds * 1e3, first_page_ms=cold["first_page_s"] * 1e3, size_kb=size / KB)
    check(results, "report page size", "10-minute interview, no thumbnails", size,
          f"<= {REPORT_PAGE_MAX_BYTES:,} bytes", size <= REPORT_PAGE_MAX_BYTES)


@pytest.mark.data
@pytest.mark.parametrize("group", group_params())
def test_report_page_cost(results: Results, group: ModelGroup) -> None:
    """The longest shared video analysed (every frame, one thread, the group's deployed file), then its page."""
    videos = list_videos()
    if not videos:
        pytest.skip("no videos in the media folder (set $FER_EDGE_DATA)")
    video = max(videos, key=lambda v: v.frames)
    with Analyzer(AnalyzerOptions(emotion_model=group.deployed.path, threads=1)) as analyzer:
        analyzer.analyze_video(video.path, max_frames=5)  # warm-up
        start = time.perf_counter()
        report = analyzer.analyze_video(video.path)
        analysis = time.perf_counter() - start
    page, size = _page_seconds(report)
    cost = page / analysis
    per_frame = analysis / report.frames_analyzed
    interview = synthetic_report(INTERVIEW_S)
    interview_page, _ = _page_seconds(interview)
    first_page = run_probe("report_page", str(INTERVIEW_S))["first_page_s"]
    interview_analysis = per_frame * interview.frames_analyzed
    interview_cost = first_page / interview_analysis
    results.add("report_page", what=f"{video.name}, {group.deployed.id}", frames=report.frames_analyzed,
                analysis_s=analysis, page_ms=page * 1e3, size_kb=size / KB, cost=cost)
    results.add("report_page", what=f"10-minute interview (analysis estimated from {video.name})",
                frames=interview.frames_analyzed, analysis_s=interview_analysis, page_ms=interview_page * 1e3,
                first_page_ms=first_page * 1e3, cost=interview_cost)
    check(results, "report page cost", f"{video.name}, {group.deployed.id}", cost, f"<= {REPORT_COST_MAX}",
          cost <= REPORT_COST_MAX, "page / analysis of the same video, matplotlib already imported")
    check(results, "report page cost", f"10-minute interview, {group.deployed.id}", interview_cost,
          f"<= {REPORT_COST_MAX}", interview_cost <= REPORT_COST_MAX,
          "first page of a fresh process (matplotlib's import included) / estimated analysis")
