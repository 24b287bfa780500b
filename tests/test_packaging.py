"""The wheel: every package listed, the default models inside the runtime package, nothing else heavy."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from runtime.paths import DEFAULT_EMOTION_MODEL

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
WHEEL_LIMIT_BYTES = 6_000_000  # the default models, the detector and the face mesh (4.4 MB); all 12 variants: 45.7 MB


def test_every_python_package_is_listed():
    on_disk = {".".join(init.parent.relative_to(REPO).parts) for top in ("runtime", "convert")
               for init in (REPO / top).rglob("__init__.py")}
    mapped = tuple(SETUPTOOLS["package-dir"])  # runtime.models and its folders are the repository's models/
    assert {name for name in SETUPTOOLS["packages"] if not name.startswith(mapped)} == on_disk


def test_the_wheel_models_exist_and_include_the_defaults():
    folder = REPO / SETUPTOOLS["package-dir"]["runtime.models"]
    patterns = SETUPTOOLS["package-data"]["runtime.models"]
    files = {p.relative_to(folder).as_posix() for pattern in patterns for p in folder.glob(pattern)}
    assert len(files) >= len(patterns), f"a package-data pattern matches nothing: {patterns}"
    assert {DEFAULT_EMOTION_MODEL, f"{DEFAULT_EMOTION_MODEL}.json", "blazeface/LICENSE",
            "blazeface/face_detection_short_range.tflite", "blazeface/face_detection_full_range_sparse.tflite",
            "face_mesh/face_landmark.tflite", "face_mesh/LICENSE"} <= files
    for name in files:
        if name.endswith((".tflite", ".onnx")) and not name.startswith(("blazeface/", "face_mesh/")):
            assert f"{name}.json" in files, f"{name} would ship without its manifest"


def test_the_wheel_carries_the_default_models_only(built_wheel: Path):
    names = zipfile.ZipFile(built_wheel).namelist()
    models = sorted(n for n in names if n.startswith("runtime/models/") and n.endswith((".tflite", ".onnx")))
    assert f"runtime/models/{DEFAULT_EMOTION_MODEL}" in models
    assert not [n for n in models if "mobilenetv2" in n or "fp32" in n], models
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "models/", "share/"))]
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert built_wheel.stat().st_size < WHEEL_LIMIT_BYTES
