"""Installs that pip lets through but that break the runtime: two distributions sharing one package folder.

``opencv-python``, ``opencv-python-headless`` and the ``contrib`` builds all install the same ``cv2`` folder, and
``onnxruntime`` and ``onnxruntime-gpu`` the same ``onnxruntime`` folder. pip installs them side by side and
``pip check`` is silent, yet the files of the last one installed win, and uninstalling either breaks the others.
The check reads the ``*.dist-info`` folders beside the imported package (one directory listing, no metadata scan),
and warns once per process with the command that fixes it.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)

OPENCV_BUILDS = frozenset({"opencv-python", "opencv-python-headless", "opencv-contrib-python",
                           "opencv-contrib-python-headless"})
# builds that install the onnxruntime folder (onnxruntime-extensions and -genai do not)
ONNXRUNTIME_BUILDS = frozenset({"onnxruntime", "onnxruntime-gpu", "onnxruntime-directml", "onnxruntime-openvino",
                                "onnxruntime-silicon", "onnxruntime-qnn", "onnxruntime-training"})


def distributions_beside(package_file: str, builds: frozenset[str]) -> list[str]:
    """Which of ``builds`` (distribution names) are installed in the folder that holds the package imported from
    ``package_file`` (its ``__init__.py``)."""
    site = Path(package_file).resolve().parent.parent
    names = {re.sub(r"[-_.]+", "-", path.name.split("-")[0]).lower() for path in site.glob("*.dist-info")}
    return sorted(names & builds)


def shared_folder_problem(package: str, distributions: list[str], keep: str) -> str | None:
    """The warning for ``distributions`` that share the folder of ``package``, or None when there is at most one."""
    if len(distributions) < 2:
        return None
    return (f"{', '.join(distributions)} are all installed and share the '{package}' package folder: the files of "
            f"the last one installed win, and uninstalling one breaks the others. Keep one: pip uninstall -y "
            f"{' '.join(distributions)} && pip install {keep}")


@functools.cache
def check_opencv() -> None:
    """Warns once when more than one OpenCV distribution is installed (e.g. opencv-python beside fer-edge's
    opencv-python-headless, or opencv-contrib-python brought in by mediapipe)."""
    import cv2

    found = distributions_beside(cv2.__file__, OPENCV_BUILDS)
    if problem := shared_folder_problem("cv2", found, "opencv-python-headless"):
        log.warning("%s (or opencv-python if you need OpenCV's windows)", problem)


@functools.cache
def check_onnxruntime(module_file: str) -> None:
    """Warns once when onnxruntime and onnxruntime-gpu (or another build) are installed together."""
    found = distributions_beside(module_file, ONNXRUNTIME_BUILDS)
    if problem := shared_folder_problem("onnxruntime", found, "onnxruntime-gpu"):
        log.warning("%s (for CUDA; or onnxruntime for the CPU only)", problem)
