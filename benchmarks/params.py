"""Test parameters discovered at collection time: model files and videos, or one skipped parameter saying why
there are none (so a missing folder shows as a skip with a reason, never as an empty or failing run)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from benchmarks.data import SAMPLE_PHOTO, list_videos
from benchmarks.discovery import ModelFile, ModelGroup, all_files, groups, no_models_reason


def _none(reason: str, arity: int = 1) -> list:
    return [pytest.param(*[None] * arity, id="none", marks=pytest.mark.skip(reason=reason))]


def file_params(include_keras: bool = False, where: Callable[[ModelFile], bool] = lambda f: True) -> list:
    """One parameter per discovered model file (ids like ``emotion_cnn-tflite-int8``)."""
    files = [f for f in all_files(include_keras) if where(f)]
    if not files:
        return _none(no_models_reason() if not groups() else "no model file of this kind was discovered")
    return [pytest.param(f, id=f.id) for f in files]


def group_params() -> list:
    """One parameter per source model; its ``deployed`` file is what an Analyzer would run."""
    found: tuple[ModelGroup, ...] = groups()
    return [pytest.param(g, id=g.name) for g in found] if found else _none(no_models_reason())


def quantized_params(precisions: tuple[str, ...] | None = None, keras: bool = True) -> list:
    """(group, quantized file, its fp32 reference) for every quantized file: the fp32 file of the same format, else
    (with ``keras``) the Keras model it was converted from (``ModelGroup.fp32_reference``). A file with neither is
    a parameter too, with reference None, so that the test reports it as not gated instead of leaving it out."""
    found = [(g, f, g.fp32_reference(f, keras)) for g in groups() for f in g.files
             if f.manifest.precision != "fp32" and (precisions is None or f.manifest.precision in precisions)]
    if not found:
        return _none(no_models_reason() if not groups() else "no quantized file of this kind", arity=3)
    return [pytest.param(*item, id=item[1].id) for item in found]


def video_params() -> list:
    """One parameter per video of the media folder."""
    videos = list_videos()
    if not videos:
        from convert.data.paths import media_dir

        return _none(f"no videos in {media_dir() / 'videos'} (set $FER_EDGE_DATA)")
    return [pytest.param(v, id=v.path.stem) for v in videos]


def frame_sources() -> list:
    """Where per-frame timings take their frames: the repository's sample photo (always there; quick) and each
    video of the media folder (frames spread over it; data)."""
    return [pytest.param(SAMPLE_PHOTO.name, id="photo", marks=pytest.mark.quick),
            *(pytest.param(v.name, id=v.path.stem, marks=pytest.mark.data) for v in list_videos())]
