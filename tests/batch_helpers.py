"""Generated video sets for the batch tests, and an Analyzer that kills its worker process on one video."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

import cv2

from runtime.analyzer import Analyzer, AnalyzerOptions
from runtime.batch import VideoRow, VideoSettings, analyze_many
from runtime.batch.worker import open_analyzer
from tests.videos import write_video

REPO = Path(__file__).resolve().parents[1]
FACE_SIDE = 192  # px: the sample photo scaled down, so frames are quick and still hold one clear face
CRASH_MARK = "crash"  # a video whose name holds this kills its worker (CrashingAnalyzer)


def face_video(path: Path, frames: int) -> Path:
    """A video of the sample photo (one face), ``frames`` frames long."""
    image = cv2.resize(cv2.imread(str(REPO / "samples" / "astronaut.jpg")), (FACE_SIDE, FACE_SIDE))
    return write_video(path, frames, image=image)


def video_set(folder: Path, faces: int = 3, frames: int = 8) -> list[Path]:
    """``faces`` face videos of different lengths and one video without a face, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    videos = [face_video(folder / f"face{i}.avi", frames + i) for i in range(faces)]
    videos.append(write_video(folder / "blank.avi", frames))
    return videos


def corrupt_video(path: Path) -> Path:
    """A file with a video suffix that is not a video."""
    path.write_bytes(b"\x00not a video\xff" * 64)
    return path


class CrashingAnalyzer(Analyzer):
    """Ends its process at once (like a segfault) when asked to analyse a video whose name holds CRASH_MARK."""

    def analyze_video(self, source, *args, **kwargs):
        if CRASH_MARK in Path(str(source)).name:
            os._exit(70)
        return super().analyze_video(source, *args, **kwargs)


def _crashing(options: AnalyzerOptions | None, threads: int) -> Analyzer:
    analyzer = open_analyzer(options, threads)
    analyzer.__class__ = CrashingAnalyzer
    return analyzer


def crashing_factory(options: AnalyzerOptions | None = None, threads: int = 1) -> Callable[[], Analyzer]:
    """A picklable Analyzer factory for an engine, whose workers crash on CRASH_MARK videos."""
    return functools.partial(_crashing, options, threads)


def _broken() -> Analyzer:
    raise RuntimeError("this worker cannot start")


def broken_factory() -> Callable[[], Analyzer]:
    """An Analyzer factory that fails in every worker, as it starts."""
    return _broken


def crash_batch(folder: Path, engine_class: type, faces: int = 2) -> dict[str, VideoRow]:
    """A batch of ``faces`` face videos, a blank one and a CRASH_MARK one through ``engine_class`` (2 workers
    whose Analyzers crash on that video); the summary's rows by video name."""
    video_set(folder / "in", faces=faces)
    face_video(folder / "in" / f"{CRASH_MARK}.avi", 5)
    engine = engine_class(crashing_factory(), VideoSettings(), workers=2)
    summary = analyze_many(folder / "in", folder / "out", engine=engine, workers=2)
    return {Path(row.path).name: row for row in summary.rows}
