"""Broken installs pip lets through (two OpenCV or ONNX Runtime builds in one folder) and native stderr lines."""

from __future__ import annotations

import logging
import os

import pytest

from runtime import environment
from runtime.backends.native_log import native_stderr_to_log
from runtime.environment import ONNXRUNTIME_BUILDS, OPENCV_BUILDS, distributions_beside, shared_folder_problem


def _site(tmp_path, *dist_infos: str):
    site = tmp_path / "site-packages"
    (site / "cv2").mkdir(parents=True)
    (site / "cv2" / "__init__.py").write_text("")
    for name in dist_infos:
        (site / f"{name}.dist-info").mkdir()
    return str(site / "cv2" / "__init__.py")


def test_one_opencv_build_is_fine(tmp_path):
    found = distributions_beside(_site(tmp_path, "opencv_python_headless-4.14.0", "numpy-2.4.0"), OPENCV_BUILDS)
    assert found == ["opencv-python-headless"]
    assert shared_folder_problem("cv2", found, "opencv-python-headless") is None


def test_two_opencv_builds_are_named_with_the_fix(tmp_path):
    init = _site(tmp_path, "opencv_python_headless-5.0.0.93", "opencv_python-4.12.0.88", "opencv_contrib_python-4.1")
    found = distributions_beside(init, OPENCV_BUILDS)
    assert found == ["opencv-contrib-python", "opencv-python", "opencv-python-headless"]
    problem = shared_folder_problem("cv2", found, "opencv-python-headless")
    assert "share the 'cv2' package folder" in problem
    assert "pip uninstall -y opencv-contrib-python opencv-python opencv-python-headless" in problem
    assert problem.endswith("pip install opencv-python-headless")


def test_onnxruntime_and_its_gpu_build_together(tmp_path):
    init = _site(tmp_path, "onnxruntime-1.32.0", "onnxruntime_gpu-1.32.0", "onnxruntime_extensions-0.14.0")
    assert distributions_beside(init, ONNXRUNTIME_BUILDS) == ["onnxruntime", "onnxruntime-gpu"]


def test_the_check_warns_once_per_process(tmp_path, monkeypatch, caplog):
    init = _site(tmp_path, "onnxruntime-1.32.0", "onnxruntime_gpu-1.32.0")
    environment.check_onnxruntime.cache_clear()
    with caplog.at_level(logging.WARNING, logger="runtime.environment"):
        environment.check_onnxruntime(init)
        environment.check_onnxruntime(init)
    assert caplog.text.count("onnxruntime, onnxruntime-gpu are all installed") == 1
    environment.check_onnxruntime.cache_clear()


def test_this_environment_has_one_opencv(caplog):
    environment.check_opencv.cache_clear()
    with caplog.at_level(logging.WARNING, logger="runtime.environment"):
        environment.check_opencv()
    assert "share the 'cv2' package folder" not in caplog.text


def test_native_stderr_becomes_log_records(caplog):
    logger = logging.getLogger("test.native")
    with caplog.at_level(logging.INFO, logger="test.native"), native_stderr_to_log(logger):
        os.write(2, b"INFO: Created something for CPU.\nE0000 a real native error\n\n")
    records = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "test.native"]
    assert records == [(logging.INFO, "Created something for CPU."), (logging.WARNING, "E0000 a real native error")]


def test_native_stderr_is_restored_after_an_exception(capfd):
    with pytest.raises(RuntimeError), native_stderr_to_log(logging.getLogger("test.native")):
        raise RuntimeError("boom")
    os.write(2, b"after\n")
    assert "after" in capfd.readouterr().err
