"""Writes ``models/MODEL_CARD.md`` and its confusion-matrix pictures from the manifests in a models folder.

Every number comes from a manifest that fer-train or fer-convert wrote while measuring, so the card cannot
drift from the files it describes:

    python -m convert.model_card models
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path
from typing import Any

from convert.train.models import DEFAULT_WIDTHS
from runtime.manifest import Manifest, load_manifest

FORMAT_ORDER = ("fp32", "fp16", "dynamic", "int8", "onnx", "onnx-int8")
ARCHITECTURES = {
    "cnn": "small 3-block CNN (2x Conv-BN-ReLU per block, 32/64/128 filters, max-pool, dropout; Dense 256)",
    "mobilenetv2": "MobileNetV2 (width 1.0) trained from scratch, global average pooling, dropout 0.3",
    "resnet": "narrow ResNet: a 3x3 stem at 48x48, four stages of (1, 2, 2, 1) basic blocks, widths "
              "{w}/{w2}/{w4}/{w8}, global average pooling, dropout 0.3",
    "sepnet": "depthwise-separable residual net (mini-Xception style): two 3x3 stem convolutions, four stages of two "
              "separable convolutions and a strided max-pool, widths {w}/{w2}/{w4}/{w8}, dropout 0.3",
}
CARD_FEATURES = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp", "i8mm")


def architecture_text(arch: str, width: int | None) -> str:
    """The card's words for an architecture key of a Keras manifest (with its first-stage width, if it has one)."""
    w = width or DEFAULT_WIDTHS.get(arch, 0)
    return ARCHITECTURES.get(arch, arch).format(w=w, w2=2 * w, w4=4 * w, w8=8 * w)


def _features(cpu: dict[str, Any]) -> str:
    """The instruction-set features that decide a model's speed (and int8 results), or the architecture."""
    features = [f for f in cpu.get("features", []) if f.startswith(CARD_FEATURES)]
    return ", ".join(features) or cpu.get("arch", "?")


def _machine(stage: dict[str, Any]) -> str:
    machine = stage.get("machine")
    if not machine:
        return "a 2-core CPU not recorded in the manifest (see \"Training machines\" above)"
    return f"a {machine.get('cores', '?')}-core {machine.get('model', '?')} ({_features(machine)})"


def _targets(config: dict[str, Any]) -> str:
    """What the training targets were made of, beyond the one-hot labels and their smoothing."""
    parts = []
    if config.get("soft_labels"):
        parts.append(f"FER+ vote distributions mixed in with weight {config.get('soft_label_weight')}")
    teachers = config.get("teachers") or ([config["teacher"]] if config.get("teacher") else [])
    if teachers and config.get("distill_weight"):
        names = " + ".join(Path(t).name for t in teachers)
        how = " offline (the teachers asked once, on the un-augmented faces)" if config.get("distill_offline") else ""
        mirror = ", each averaged with its mirror image," if len(teachers) > 1 else ""
        parts.append(f"distilled{how} from {names}{mirror} with weight {config.get('distill_weight')}")
    if config.get("erasing"):
        parts.append(f"random erasing with probability {config.get('erasing')}")
    return "".join(f", {part}" for part in parts)


def _stages(training: dict[str, Any]) -> list[dict[str, Any]]:
    """The training stages of a model, first to last (a warm-started run records the one it started from)."""
    earlier = training.get("started_from")
    return [*(_stages(earlier) if earlier and "config" in earlier else []), training]


def _training_lines(training: dict[str, Any]) -> list[str]:
    stages = _stages(training)
    lines = []
    for number, stage in enumerate(stages, 1):
        config = stage.get("config", {})
        name = f"Training stage {number} of {len(stages)}" if len(stages) > 1 else "Training"
        start = f", starting from stage {number - 1}'s best model" if number > 1 else ""
        lines.append(f"- {name}: {config.get('epochs')} epochs{start}{_targets(config)} (best on PublicTest: "
                     f"epoch {stage.get('best_epoch')}, {100 * stage.get('best_val_accuracy', 0):.2f}%), batch "
                     f"{config.get('batch_size')}, AdamW lr {config.get('learning_rate')} cosine, label smoothing "
                     f"{config.get('label_smoothing')}, seed {config.get('seed')}; "
                     f"{stage.get('seconds', 0) / 60:.0f} minutes of training on {_machine(stage)}.")
    teachers = [teacher for stage in stages for teacher in stage.get("teachers", []) if "config" in teacher]
    for stage in stages:
        lines += _teacher_lines(stage)
    if len(stages) > 1 or teachers:
        total = sum(stage.get("seconds", 0) for stage in stages + [s for t in teachers for s in _stages(t)]) / 60
        machines = {_machine(stage) for stage in stages + teachers}
        where = f" on {machines.pop()}" if len(machines) == 1 else ""
        with_teachers = ", the teachers' own training included" if teachers else ""
        lines.append(f"- Total training time: {total:.0f} minutes{where}{with_teachers}.")
    return lines


def _accuracies(test: dict[str, Any]) -> str:
    """'PrivateTest 69.12%, FER+ 80.01%' from a record's PrivateTest figures (either may be missing)."""
    names = (("fer2013", "PrivateTest"), ("ferplus", "FER+"))
    return ", ".join(f"{name} {_pct(test[key]['accuracy'])}%" for key, name in names if key in test)


def _teacher_lines(stage: dict[str, Any]) -> list[str]:
    """A distilled stage's teachers, each with its architecture, training and accuracy, and their ensemble's."""
    lines = []
    for teacher in stage.get("teachers", []):
        if "config" not in teacher:
            lines.append(f"- Teacher {teacher['file']}: its manifest was not at hand when the student was exported.")
            continue
        arch = architecture_text(teacher.get("architecture", "?"), teacher.get("width"))
        parts = _stages(teacher)
        epochs = " + ".join(str(part["config"].get("epochs")) for part in parts)
        minutes = sum(part.get("seconds", 0) for part in parts) / 60
        accuracy = _accuracies(teacher.get("privatetest", {}))
        lines.append(f"- Teacher {teacher['file']}: {arch}; {epochs} epochs{_targets(teacher['config'])}, "
                     f"{minutes:.0f} minutes on {_machine(teacher)}" + (f"; {accuracy}." if accuracy else "."))
    ensemble = stage.get("teacher_ensemble", {}).get("privatetest")
    if ensemble:
        who = ("The teachers' ensemble (each averaged with its mirror image)" if len(stage["teachers"]) > 1
               else "The teacher averaged with its mirror image")
        lines.append(f"- {who}, what the student learnt from: {_accuracies(ensemble)}.")
    return lines


def _manifests(folder: Path) -> dict[str, list[tuple[Path, Manifest]]]:
    """Converted emotion models grouped by their Keras source name."""
    groups: dict[str, list[tuple[Path, Manifest]]] = defaultdict(list)
    for path in sorted(folder.glob("*.json")):
        model = path.with_name(path.name[: -len(".json")])
        if not model.is_file() or model.suffix == ".keras":
            continue
        manifest = load_manifest(model)
        if manifest.task == "emotion":
            groups[manifest.source["name"]].append((model, manifest))
    for items in groups.values():
        items.sort(key=lambda item: FORMAT_ORDER.index(item[1].extra.get("format_key", "fp32")))
    return groups


def confusion_png(matrix: list[list[int]], labels: tuple[str, ...], title: str, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    m = np.asarray(matrix, dtype=float)
    rows = m / np.maximum(m.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5.2, 4.6), dpi=100)
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true (FER-2013 label)")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{rows[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if rows[i, j] > 0.5 else "black")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _measured_on(manifest: Manifest) -> str:
    """The CPU and engine a file's verification ran on (int8 results can depend on the instruction set)."""
    machine = manifest.verification.get("machine")
    if not machine:
        return "not recorded"
    cpu = machine.get("cpu", {})
    return f"{cpu.get('model', '?')} ({_features(cpu)}), {machine.get('engine', '?')}"


def model_section(source: str, items: list[tuple[Path, Manifest]], folder: Path, pictures: Path,
                  card_dir: Path) -> list[str]:
    first = items[0][1]
    keras_acc: dict[str, Any] = first.verification.get("keras_privatetest") or {}
    keras_path = folder / source
    keras_manifest = load_manifest(keras_path) if keras_path.is_file() else None
    training = (keras_manifest.extra.get("training") if keras_manifest else None) or {}
    lines = [f"## {source}", ""]
    if keras_manifest:
        arch = architecture_text(keras_manifest.extra.get("architecture", "?"), keras_manifest.extra.get("width"))
        lines.append(f"- Architecture: {arch}; input {first.input_size[0]}x{first.input_size[1]} {first.color}; "
                     f"{len(first.labels)} classes ({', '.join(first.labels)}).")
    if training:
        lines += _training_lines(training)
    lines += ["", "| format | file | size KB | PrivateTest acc % | FER+ acc % | macro-F1 | drop vs Keras (pp) | "
              "top-1 agreement with Keras (PrivateTest) | measured on |", "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    if keras_acc:
        lines.append(f"| Keras fp32 | {source} | {keras_path.stat().st_size / 1024:.0f} | "
                     f"{_pct(keras_acc['fer2013']['accuracy'])} | {_pct(keras_acc.get('ferplus', {}).get('accuracy'))}"
                     f" | {keras_acc['fer2013']['macro_f1']:.4f} | 0 | 1.0000 | TensorFlow |")
    for path, manifest in items:
        test = manifest.verification.get("privatetest", {})
        agree = manifest.verification.get("privatetest_agreement", {}).get("top1_agreement")
        if "fer2013" not in test:
            continue
        drop = 100 * (keras_acc["fer2013"]["accuracy"] - test["fer2013"]["accuracy"]) if keras_acc else None
        lines.append(
            f"| {manifest.extra.get('format_key')} | {path.name} | {manifest.file['bytes'] / 1024:.0f} | "
            f"{_pct(test['fer2013']['accuracy'])} | {_pct(test.get('ferplus', {}).get('accuracy'))} | "
            f"{test['fer2013']['macro_f1']:.4f} | {'-' if drop is None else f'{drop:+.2f}'} | "
            f"{'-' if agree is None else f'{agree:.4f}'} | {_measured_on(manifest)} |")
    if keras_acc:
        lines += ["", "Per-class recall on PrivateTest (original labels), %:", "",
                  "| format | " + " | ".join(first.labels) + " |", "|---|" + "---:|" * len(first.labels)]
        rows = [("Keras fp32", keras_acc)] + [(m.extra.get("format_key"), m.verification["privatetest"])
                                              for _, m in items if "privatetest" in m.verification]
        for name, acc in rows:
            recall = acc["fer2013"]["recall"]
            lines.append(f"| {name} | " + " | ".join(f"{100 * recall[label]:.1f}" for label in first.labels) + " |")
        stem = Path(source).stem
        pictures.mkdir(parents=True, exist_ok=True)
        images = []
        int8 = next((m for _, m in items if m.extra.get("format_key") == "int8"), None)
        for tag, acc in (("keras", keras_acc), ("int8", int8.verification["privatetest"] if int8 else None)):
            if acc and "confusion" in acc["fer2013"]:
                png = pictures / f"{stem}_{tag}_confusion.png"
                confusion_png(acc["fer2013"]["confusion"], first.labels, f"{stem} ({tag}), PrivateTest", png)
                images.append(f"![{stem} {tag} confusion]({png.relative_to(card_dir).as_posix()})")
        lines += ["", *images]
    return lines + [""]


def write_card(folder: Path, preamble: str = "", out: Path | None = None) -> Path:
    """Writes the card (default ``folder/MODEL_CARD.md``) and its pictures (in ``card/`` beside it)."""
    out = out or folder / "MODEL_CARD.md"
    lines = [preamble.rstrip(), ""] if preamble else []
    for source, items in _manifests(folder).items():
        lines += model_section(source, items, folder, out.parent / "card", out.parent)
    out.write_text("\n".join(lines))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write MODEL_CARD.md from the manifests in a models folder.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--preamble", type=Path, help="Markdown put before the generated sections")
    args = parser.parse_args(argv)
    preamble = args.preamble.read_text() if args.preamble else ""
    print(write_card(args.folder, preamble))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
