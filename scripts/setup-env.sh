#!/usr/bin/env bash
# Creates (or updates) the project's virtual environment in .venv with everything: the runtime, the converter
# and trainer (TensorFlow), MediaPipe for the detector-parity checks, the report page's matplotlib, the test and
# benchmark tools, and (as root, when missing) Debian's chromium for the report page's browser test.
# Usage: bash scripts/setup-env.sh [--runtime-only]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
if [ "${1:-}" = "--runtime-only" ]; then
    python -m pip install -q -e '.[onnx]'
    exit 0
fi
python -m pip install -q -e '.[convert,mediapipe,report,bench,test]'
# mediapipe without its opencv-contrib-python (see pyproject.toml, extra "mediapipe"), and the benchmark's
# peer without facenet-pytorch/moviepy (see extra "bench")
python -m pip install -q --no-deps 'mediapipe==1.2.2' 'fer==25.10.3'
# tests/test_report_html_browser.py drives headless chromium over the DevTools pipe (no Python package needed);
# without it (not root, no apt) that test skips and says why
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
fi
python -c "import cv2, mediapipe, matplotlib, tensorflow, onnxruntime, ai_edge_litert, fer.fer; print('environment ready: opencv', cv2.__version__)"
