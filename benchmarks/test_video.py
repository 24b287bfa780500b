"""Video throughput of ``Analyzer.analyze_video`` (frames per second, real-time factor) on each video of the
media folder, and resident memory over the longest video in a fresh process."""

from __future__ import annotations

import time
from typing import Any

import pytest

from benchmarks.data import Video, list_videos
from benchmarks.discovery import ModelGroup
from benchmarks.params import group_params, video_params
from benchmarks.probes import run_probe
from benchmarks.results import Results
from runtime.analyzer import Analyzer, AnalyzerOptions

pytestmark = pytest.mark.data
VIDEO_ROUNDS = 1  # whole passes over each video (the longest holds 1,008 frames)
WARMUP_FRAMES = 5
MB = 2**20


@pytest.mark.parametrize("video", video_params())
@pytest.mark.parametrize("group", group_params())
def test_video_throughput(benchmark: Any, results: Results, group: ModelGroup, video: Video) -> None:
    """Every frame analyzed (decode included), the group's deployed file, one thread, default detector.

    Real-time factor: processing seconds per second of video (below 1 keeps up with playback)."""
    analyzer = Analyzer(AnalyzerOptions(emotion_model=group.deployed.path, threads=1))
    seconds: list[float] = []

    def run() -> Any:
        start = time.perf_counter()
        report = analyzer.analyze_video(video.path)
        seconds.append(time.perf_counter() - start)
        return report

    try:
        analyzer.analyze_video(video.path, max_frames=WARMUP_FRAMES)
        benchmark.group = "video throughput"
        benchmark.extra_info.update(model=group.deployed.id, video=video.name)
        report = benchmark.pedantic(run, rounds=VIDEO_ROUNDS, iterations=1)
    finally:
        analyzer.close()
    assert report.complete, report.warnings
    elapsed = min(seconds)
    results.add("video", video=video.name, model=group.deployed.id, resolution=f"{video.width}x{video.height}",
                frames=report.frames_analyzed, seconds=elapsed, fps=report.frames_analyzed / elapsed,
                video_fps=video.fps, rtf=elapsed / (report.frames_analyzed / video.fps),
                no_face=report.frames_without_face)


@pytest.mark.parametrize("group", group_params())
def test_memory_long_run(results: Results, group: ModelGroup) -> None:
    """Peak RSS (the kernel's high-water mark where there is one, else the highest sample) and the growth from
    10% of the frames to the end of the longest video, in a fresh interpreter so that nothing else this session
    loaded counts."""
    pytest.importorskip("psutil", reason="memory is read with psutil (extra 'bench')")
    videos = list_videos()
    if not videos:
        pytest.skip("no videos in the media folder (set $FER_EDGE_DATA)")
    video = max(videos, key=lambda v: v.frames)
    measured = run_probe("video_memory", str(group.deployed.path), str(video.path))
    timeline = measured["timeline"]  # (frames done, rss bytes)
    after_warmup = next(rss for done, rss in timeline if done >= measured["frames"] // 10)
    peak = max(measured["peak_rss_bytes"] or 0, max(rss for _, rss in timeline))
    results.add("memory", video=video.name, model=group.deployed.id, frames=measured["frames"],
                seconds=measured["seconds"], rss_start_mb=timeline[0][1] / MB, peak_rss_mb=peak / MB,
                growth_mb=(timeline[-1][1] - after_warmup) / MB)
    assert measured["frames"] == video.frames
