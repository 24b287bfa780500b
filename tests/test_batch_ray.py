"""fer-batch on Ray Data, on a local Ray instance with 2 CPUs: the same per-video results as the local engine,
failures reported and skipped, an actor that dies. Skips without the extra 'ray'."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("ray.data", reason="the Ray engine needs Ray Data: pip install 'fer-edge[ray]'")

from runtime.batch import VideoSettings, analyze_many
from runtime.batch.ray_engine import RayEngine
from runtime.batch.results import BATCH_KEY
from tests.batch_helpers import REPO, corrupt_video, crash_batch, video_set

RAY_CPUS = 2
VARYING = ("seconds", "report")  # the only row fields that may differ between engines


@pytest.fixture(scope="module")
def ray_instance():
    """One local Ray instance for the module; its workers import this checkout."""
    import ray

    ray.init(num_cpus=RAY_CPUS, include_dashboard=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}})
    yield ray
    ray.shutdown()


def _documents(out: Path) -> dict[str, dict]:
    documents = {}
    for path in sorted(out.glob("*.json")):
        document = json.loads(path.read_text())
        assert document.pop(BATCH_KEY)["engine"] in ("local", "ray")
        documents[path.name] = document
    return documents


def test_both_engines_give_identical_results(ray_instance, tmp_path):
    video_set(tmp_path / "in", faces=2)
    corrupt_video(tmp_path / "in" / "corrupt.mp4")
    manifest = tmp_path / "in" / "list.jsonl"
    names = ["face0.avi", "face1.avi", "blank.avi", "corrupt.mp4", "missing.mp4"]
    manifest.write_text("".join(json.dumps({"path": name, "n": i}) + "\n" for i, name in enumerate(names)))
    local = analyze_many(manifest, tmp_path / "local", engine="local", workers=2, threads=1)
    ray = analyze_many(manifest, tmp_path / "ray", engine="ray", workers=2, threads=1)
    assert [row.status for row in ray.rows] == ["done", "done", "done", "failed", "failed"]
    for ours, theirs in zip(local.rows, ray.rows):
        assert {k: v for k, v in vars(ours).items() if k not in VARYING} == \
               {k: v for k, v in vars(theirs).items() if k not in VARYING}
    assert _documents(tmp_path / "local") == _documents(tmp_path / "ray")
    assert len(_documents(tmp_path / "ray")) == 3


def test_an_actor_that_dies_fails_its_video_only(ray_instance, tmp_path):
    rows = crash_batch(tmp_path, RayEngine, faces=1)
    assert rows.pop("crash.avi").error.startswith("WorkerCrashed: the Ray task failed")
    assert len(rows) == 2 and {row.status for row in rows.values()} == {"done"}


@pytest.mark.data
def test_engines_agree_on_the_shared_videos(ray_instance, tmp_path):
    from convert.data.paths import media_dir

    folder = media_dir() / "videos"
    if not list(folder.glob("*.mp4")):
        pytest.skip(f"no videos in {folder} (set $FER_EDGE_DATA)")
    settings = VideoSettings(max_frames=15)
    local = analyze_many(folder, tmp_path / "local", engine="local", workers=2, settings=settings)
    ray = analyze_many(folder, tmp_path / "ray", engine="ray", workers=2, settings=settings)
    assert {row.status for row in local.rows} == {row.status for row in ray.rows} == {"done"}
    assert _documents(tmp_path / "local") == _documents(tmp_path / "ray")
