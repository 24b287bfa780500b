"""Measures candidate student architectures before any is trained: multiply-adds, parameters, int8 TFLite size and
latency per face, against the shipped MobileNetV2 int8 file timed in the same run (issue 11's budget: at most ~30M
multiply-adds, an int8 file of at most 3 MB, no slower than today's MobileNetV2 int8 on the same CPU).

Latency does not depend on the weights, so each candidate is built with random weights, quantized to full-integer
int8 on random faces, and timed through LiteRT on one thread (median of ``--rounds`` single-face calls, candidates
timed in turn with the reference in between).

    python scripts/measure_architectures.py > benchmarks/results/architectures.md
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from convert.exporters import export_tflite
from convert.formats import BY_KEY
from convert.train.macs import count_macs
from convert.train.models import build_cnn, build_mobilenetv2, build_resnet, build_sepnet
from runtime.cpu import cpu_info
from runtime.paths import default_model_dir

CANDIDATES = {
    "cnn (today's default, a teacher)": lambda: build_cnn(7),
    "mobilenetv2 a1.0 @48 (today's)": lambda: build_mobilenetv2(7, input_side=48, alpha=1.0),
    "mobilenetv2 a0.75 @48": lambda: build_mobilenetv2(7, input_side=48, alpha=0.75),
    "mobilenetv2 a0.5 @48": lambda: build_mobilenetv2(7, input_side=48, alpha=0.5),
    "mobilenetv2 a1.0 @40": lambda: build_mobilenetv2(7, input_side=40, alpha=1.0),
    "resnet w16 (1,2,2,1)": lambda: build_resnet(7, width=16, blocks=(1, 2, 2, 1)),
    "resnet w24 (1,1,1,1)": lambda: build_resnet(7, width=24, blocks=(1, 1, 1, 1)),
    "resnet w24 (1,2,2,1)": lambda: build_resnet(7, width=24, blocks=(1, 2, 2, 1)),
    "sepnet w32": lambda: build_sepnet(7, width=32),
    "sepnet w48": lambda: build_sepnet(7, width=48),
    "sepnet w64": lambda: build_sepnet(7, width=64),
}
REFERENCE = "emotion_mobilenetv2_int8.tflite"


def latency_ms(path: Path, rounds: int) -> float:
    """Median milliseconds of one single-face call on one thread."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    for _ in range(20):
        interpreter.invoke()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        interpreter.invoke()
        times.append(time.perf_counter() - start)
    return 1000.0 * float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--reference", type=Path, default=default_model_dir() / REFERENCE)
    args = parser.parse_args(argv)
    cpu = cpu_info()
    print(f"# Candidate architectures (random weights, int8 TFLite, 1 thread)\n\nMachine: {cpu.model} "
          f"({', '.join(cpu.features) or 'no int8 features'}), Python {platform.python_version()}; reference: "
          f"{args.reference.name}, timed between every two candidates.\n")
    print("| architecture | MACs (M) | parameters | int8 size (KB) | ms per face | vs reference |")
    print("|---|---:|---:|---:|---:|---:|")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        for name, build in CANDIDATES.items():
            model = build()
            side = model.input_shape[1]
            calibration = rng.integers(0, 256, (32, side, side, 1)).astype(np.float32)
            path = Path(folder) / f"{len(name)}.tflite"
            with contextlib.redirect_stdout(io.StringIO()):  # the converter prints the saved graph's signature
                export_tflite(model, BY_KEY["int8"], path, calibration, "int8")
            ours, reference = latency_ms(path, args.rounds), latency_ms(args.reference, args.rounds)
            print(f"| {name} | {count_macs(model) / 1e6:.1f} | {model.count_params():,} | "
                  f"{path.stat().st_size / 1024:.0f} | {ours:.3f} | {ours / reference:.2f}x |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
