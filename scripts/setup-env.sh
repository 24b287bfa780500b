#!/usr/bin/env bash
# Creates (or updates) the project's virtual environment in .venv with everything: the runtime, the converter
# and trainer (TensorFlow), MediaPipe for the detector-parity checks, fer-batch's Ray engine, and the test and
# benchmark tools.
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
# batch and ray: fer-batch's progress bar and Parquet summary, and its Ray engine (ray[data] 2.60: a 79 MB wheel and
# pyarrow's 55 MB; about 410 MB installed, 15 s here), so that tests/test_batch_ray.py runs in CI
python -m pip install -q -e '.[convert,mediapipe,bench,test,batch,ray]'
# mediapipe without its opencv-contrib-python (see pyproject.toml, extra "mediapipe"), and the benchmark's
# peer without facenet-pytorch/moviepy (see extra "bench")
python -m pip install -q --no-deps 'mediapipe==1.2.2' 'fer==25.10.3'
python -c "import cv2, mediapipe, tensorflow, onnxruntime, ai_edge_litert, fer.fer, ray.data, pyarrow; print('environment ready: opencv', cv2.__version__)"
