"""The built wheel in fresh virtual environments: what a user of ``pip install fer-edge`` gets.

Built once per test session and installed with a plain ``pip install`` (so with whatever OpenCV, numpy and
ai-edge-litert versions the registry resolves today, not the development environment's pins). Skipped, with the
reason, when the package registry cannot be reached.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.paths import DEFAULT_EMOTION_MODEL
from tests.install import console_script, fresh_venv, run

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "astronaut.jpg"
PROBABILITY_TOLERANCE = 0.02  # another OpenCV version resizes a little differently
BOX_TOLERANCE_PX = 2.0
HEAVY = ("tensorflow", "keras", "onnxruntime", "mediapipe", "matplotlib", "torch")

pytestmark = [pytest.mark.install, pytest.mark.slow]


@pytest.fixture(scope="module")
def python(built_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fresh_venv(tmp_path_factory.mktemp("venv") / "plain", str(built_wheel))


def _site_packages(python: Path, cwd: Path) -> Path:
    done = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=cwd)
    return Path(done.stdout.strip())


def _analyze(python: Path, cwd: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    out = cwd / "report.json"
    done = run(python, "-m", "runtime.cli", str(SAMPLE), "--json", str(out), *args, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", f"a plain run printed to stderr: {done.stderr}"
    return json.loads(out.read_text())


def test_version_and_the_installed_models(python, tmp_path):
    done = run(console_script(python, "fer-analyze"), "--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("fer-analyze ")
    batch = run(console_script(python, "fer-batch"), "--version", cwd=tmp_path)  # no tqdm, pyarrow or ray there
    assert batch.returncode == 0 and batch.stdout.strip() == done.stdout.strip().replace("fer-analyze", "fer-batch")
    listed = run(console_script(python, "fer-analyze"), "--list-models", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert rows[DEFAULT_EMOTION_MODEL].endswith("default")
    assert DEFAULT_EMOTION_MODEL.replace(".tflite", ".onnx") in rows
    assert "blazeface/face_detection_short_range.tflite" in rows
    assert "face_mesh/face_landmark.tflite" in rows
    assert not [name for name in rows if "mobilenetv2" in name]


def test_analysis_from_another_directory_matches_the_checkout(python, tmp_path, photo):
    from runtime.analyzer import Analyzer

    report = _analyze(python, tmp_path)
    site = _site_packages(python, tmp_path)
    assert Path(report["model"]["emotion"]) == site / "runtime" / "models" / DEFAULT_EMOTION_MODEL
    (face,) = next(iter(report["images"].values()))
    with Analyzer() as analyzer:
        (expected,) = analyzer.analyze(photo)
    assert face["emotion"]["top"] == expected.top_emotion
    for key in ("x", "y", "width", "height"):
        assert abs(face["box"][key] - getattr(expected.box, key)) <= BOX_TOLERANCE_PX
    for label, value in expected.emotion.as_dict().items():
        assert abs(face["emotion"]["probabilities"][label] - value) <= PROBABILITY_TOLERANCE, label


def test_the_minimal_install_stays_minimal(python, tmp_path):
    done = run(python, "-m", "pip", "list", "--format=json", cwd=tmp_path)
    names = {item["name"].lower() for item in json.loads(done.stdout)}
    assert {"fer-edge", "numpy", "ai-edge-litert", "opencv-python-headless"} <= names
    assert not names & set(HEAVY), names & set(HEAVY)


def test_an_empty_models_folder_in_site_packages_changes_nothing(python, tmp_path):
    stray = _site_packages(python, tmp_path) / "models"
    stray.mkdir()
    try:
        report = _analyze(python, tmp_path)
    finally:
        stray.rmdir()
    assert "/runtime/models/" in Path(report["model"]["emotion"]).as_posix()


def test_an_install_outside_the_prefix_finds_its_models(python, built_wheel, tmp_path):
    """``pip install --target`` (like ``--user``) puts the package where ``sys.prefix`` knows nothing of it."""
    target = tmp_path / "target"
    done = run(python, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(built_wheel),
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    env = {"PYTHONPATH": str(target)}
    where = run(python, "-c", "import runtime, runtime.paths as p; print(runtime.__file__); "
                "print(p.default_model_dir())", cwd=tmp_path, env=env)
    module, models = where.stdout.split()
    assert Path(module).is_relative_to(target) and Path(models) == target / "runtime" / "models"
    report = _analyze(python, tmp_path, "--landmarks", env=env)  # the face mesh from the package data too
    assert Path(report["model"]["emotion"]).is_relative_to(target)
    (face,) = next(iter(report["images"].values()))
    assert len(face["landmarks"]) == 468 and 0.5 <= face["landmark_score"] <= 1


def test_fer_batch_in_the_minimal_install(python, tmp_path):
    """The local engine needs none of the batch extras: log lines instead of a bar, summary.csv without Parquet."""
    import cv2

    from tests.videos import write_video

    (tmp_path / "in").mkdir()
    write_video(tmp_path / "in" / "face.avi", 12, image=cv2.imread(str(SAMPLE)))
    done = run(console_script(python, "fer-batch"), str(tmp_path / "in"), "--out", str(tmp_path / "out"),
               "--workers", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "face.avi.json").read_text())
    assert report["video"]["frames_analyzed"] == 12 and report["batch"]["engine"] == "local"
    assert (tmp_path / "out" / "summary.csv").is_file() and not (tmp_path / "out" / "summary.parquet").exists()
