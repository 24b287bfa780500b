#!/usr/bin/env bash
# Creates (or updates) the project's virtual environment in .venv with everything: the runtime, the converter
# and trainer (TensorFlow), MediaPipe for the detector-parity checks, the report page's matplotlib, fer-batch's Ray
# engine, the test and benchmark tools, and (as root, when missing) Debian's chromium for the report page's browser
# test.
# Usage: bash scripts/setup-env.sh [--runtime-only]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
. .venv/bin/activate
# The build backend's notices (indented lines) and pip's about missing local index folders are for developers, not
# for a new user: shown only when the install fails.
pip_install() {
    local log; log=$(mktemp)
    if ! python -m pip install -q --disable-pip-version-check "$@" 2>"$log"; then
        cat "$log" >&2; rm -f "$log"; return 1
    fi
    grep -v -e '^ ' -e '^WARNING: Location' "$log" >&2 || true
    rm -f "$log"
}
pip_install --upgrade pip
if [ "${1:-}" = "--runtime-only" ]; then
    pip_install -e '.[onnx]'
    exit 0
fi
# batch and ray: fer-batch's progress bar and Parquet summary, and its Ray engine (ray[data] 2.60: a 79 MB wheel and
# pyarrow's 55 MB; about 410 MB installed, 15 s here), so that tests/test_batch_ray.py runs in CI
pip_install -e '.[convert,parity,report,bench,peer,test,batch,ray]'
# mediapipe without its opencv-contrib-python (see pyproject.toml, extra "parity"), and the benchmark's
# peer without facenet-pytorch/moviepy (see extra "peer")
pip_install --no-deps 'mediapipe==1.2.2' 'fer==25.10.3'
# tests/test_report_html_browser.py drives headless chromium over the DevTools pipe (no Python package needed);
# without it (not root, no apt) that test skips and says why
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
fi
TF_CPP_MIN_LOG_LEVEL=3 python - <<'PY'
import importlib.util
import cv2
required = ("mediapipe", "matplotlib", "tensorflow", "onnxruntime", "ai_edge_litert", "fer", "ray", "pyarrow")
missing = [name for name in required if not importlib.util.find_spec(name)]
if missing:
    raise SystemExit(f"setup-env: not installed: {', '.join(missing)}")
print("environment ready: opencv", cv2.__version__)
PY
