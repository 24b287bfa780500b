"""A resumable fit loop: checkpoint every epoch, resume from the last one, log progress, keep the best."""

from __future__ import annotations

import json
import logging
import math
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from convert.pipeline import load_keras
from convert.train.augment import augment, random_erasing
from convert.train.distill import load_teacher, soft_targets

log = logging.getLogger(__name__)

LAST = "last.keras"
BEST = "best.keras"
STATE = "state.json"
LOCK = ".lock"
RUN = "run"  # the state's record of what is trained on what (architecture, data file...), beside its FitConfig


@dataclass(frozen=True)
class FitConfig:
    """Hyper-parameters of one run; stored in the run folder so a resume uses the same ones."""

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    warmup_epochs: int = 1
    augment: bool = True
    seed: int = 1234
    class_weights: tuple[float, ...] | None = None
    init_from: str | None = None  # a trained model whose weights the run starts from, instead of random ones
    teachers: tuple[str, ...] = ()  # trained models to distil from, an ensemble (see distill.py)
    distill_weight: float = 0.0  # the teachers' share of the target
    distill_offline: bool = False  # the teachers were asked once, before training (their answers are in the targets)
    erasing: float = 0.0  # probability of random erasing per training face (see random_erasing)
    soft_labels: str | None = None  # FER+ vote file whose vote distributions are mixed into the targets
    soft_label_weight: float = 0.0  # the vote distribution's share of the target


def training_machine() -> dict[str, Any]:
    """The CPU (model, instruction-set features) and core count of this machine, recorded when a run starts."""
    from runtime.cpu import cpu_info

    return {**cpu_info().to_dict(), "cores": os.cpu_count()}


def cosine_schedule(config: FitConfig, steps_per_epoch: int) -> Any:
    """Linear warm-up then cosine decay to zero, as a function of the optimizer's step (so resume is exact)."""
    import keras

    total = config.epochs * steps_per_epoch
    warmup = max(1, config.warmup_epochs * steps_per_epoch)
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, total - warmup), warmup_target=config.learning_rate, warmup_steps=warmup
    )


def make_dataset(
    x: np.ndarray, y: np.ndarray, config: FitConfig, num_classes: int, train: bool, teacher: Any = None
) -> Any:
    """Batches of (raw pixels, targets); for training shuffled, augmented and, with teachers, distilled.

    ``y`` holds class indices (N,) or target distributions (N, num_classes)."""
    import tensorflow as tf

    labels = y.astype(np.float32) if y.ndim == 2 else np.eye(num_classes, dtype=np.float32)[y]
    ds = tf.data.Dataset.from_tensor_slices((x, labels))
    if train:
        ds = ds.shuffle(len(x), seed=config.seed, reshuffle_each_iteration=True)
    ds = ds.batch(config.batch_size)
    if train and config.augment:
        ds = ds.map(lambda a, b: (augment(a), b), num_parallel_calls=tf.data.AUTOTUNE)
        if config.erasing > 0:
            ds = ds.map(lambda a, b: (random_erasing(a, config.erasing), b), num_parallel_calls=tf.data.AUTOTUNE)
    if train and teacher is not None:
        ds = ds.map(lambda a, b: (a, soft_targets(teacher, a, b, config.distill_weight)))
    return ds.prefetch(tf.data.AUTOTUNE)


def start_from(model: Any, path: Path) -> None:
    """Copies the weights of the trained model at ``path`` into ``model``, which must have the same layers."""
    source = load_keras(path, role="starting model")
    shapes = [w.shape for w in source.get_weights()]
    if shapes != [w.shape for w in model.get_weights()]:
        raise ValueError(f"{path} does not have the architecture being trained (input {source.input_shape}, "
                         f"{len(shapes)} weight arrays; wanted input {model.input_shape})")
    model.set_weights(source.get_weights())
    log.info("starting from the weights of %s", path)


def _write_whole(path: Path, write: Callable[[Path], Any]) -> None:
    """Has ``write`` write the file beside ``path`` and then moves it into place, so that a run killed while
    writing (a session's end may stop a background run at any moment) still has its previous checkpoint whole."""
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")  # the suffix kept: Keras saves by it
    write(partial)
    os.replace(partial, path)


class _Checkpoint:
    """Keras callback: after each epoch save the last model, the best model (by val_accuracy) and the state, each
    replaced whole (never left half-written)."""

    def __init__(self, run_dir: Path, state: dict[str, Any]) -> None:
        import keras

        class Callback(keras.callbacks.Callback):
            def on_epoch_end(cb, epoch: int, logs: dict[str, float] | None = None) -> None:
                logs = logs or {}
                val = float(logs.get("val_accuracy", float("nan")))
                _write_whole(run_dir / LAST, cb.model.save)
                if not math.isnan(val) and val > state["best_val_accuracy"]:
                    state.update(best_val_accuracy=val, best_epoch=epoch + 1)
                    _write_whole(run_dir / BEST, cb.model.save)
                seconds = time.time() - state.pop("_t0", time.time())
                state["epoch"] = epoch + 1
                state["history"].append({"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()},
                                         "seconds": seconds})
                state["seconds"] += seconds
                save_state(run_dir, state)
                log.info("epoch %d/%d %s", epoch + 1, state["config"]["epochs"],
                         " ".join(f"{k}={float(v):.4f}" for k, v in sorted(logs.items())))

            def on_epoch_begin(cb, epoch: int, logs: dict[str, float] | None = None) -> None:
                state["_t0"] = time.time()

        self.callback = Callback()


def save_state(run_dir: Path, state: dict[str, Any]) -> None:
    _write_whole(run_dir / STATE, lambda partial: partial.write_text(json.dumps(state, indent=2)))


def _corrupt(path: Path, why: object) -> str:
    return f"{path} is corrupt ({why}); delete the run folder {path.parent} to start the run over"


def read_state(run_dir: Path) -> dict[str, Any] | None:
    """The state of the run ``run_dir`` holds, or None when it holds none to resume (no state.json or no
    last.keras: a fresh run starts there).

    Raises:
        ValueError: state.json is corrupt (the message names it).
    """
    path = run_dir / STATE
    if not (path.is_file() and (run_dir / LAST).is_file()):
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(_corrupt(path, exc)) from None
    if not (isinstance(state, dict) and isinstance(state.get("config"), dict) and isinstance(state.get("epoch"), int)):
        raise ValueError(_corrupt(path, "not a run's state: no config or epoch"))
    return state


def load_checkpoint(path: Path) -> Any:
    """A run folder's model (last.keras, best.keras), with its optimizer state.

    Raises:
        ValueError: the file is missing or cannot be loaded (the message names it).
    """
    import keras

    if not path.is_file():
        raise ValueError(f"{path} is missing; delete the run folder {path.parent} to start the run over")
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):  # Keras would say "File not found"
        raise ValueError(_corrupt(path, "not a .keras zip archive: cut short or overwritten"))
    try:
        return keras.models.load_model(path)
    except Exception as exc:  # Keras raises many types (ValueError, OSError, zipfile.BadZipFile, ...)
        raise ValueError(_corrupt(path, f"cannot be loaded as a Keras model: {exc}")) from None


# FitConfig fields by the fer-train option that sets them, for the message naming what differs
_CONFIG_NAMES = {"epochs": "--epochs", "batch_size": "--batch-size", "learning_rate": "--learning-rate",
                 "seed": "--seed", "init_from": "--init-from", "teachers": "--teacher",
                 "distill_weight": "--distill-weight", "distill_offline": "--distill-offline", "erasing": "--erasing",
                 "soft_labels": "--ferplus-votes", "soft_label_weight": "--ferplus-weight",
                 "class_weights": "class weights (from the training labels)"}
_RUN_NAMES = {"architecture": "architecture", "width": "width", "input_side": "input side", "limit": "--limit",
              "data": "data file", "data_bytes": "data file size (bytes)", "metadata": "metadata file",
              "metadata_bytes": "metadata file size (bytes)", "frame_skip": "--frame-skip",
              "max_frames": "--max-frames", "padding": "--padding", "val_fraction": "--val-fraction",
              "face_detector": "--face-detector"}


def check_resume(run_dir: Path, config: FitConfig | None,
                 identity: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The state of the run ``run_dir`` holds, checked against the run asked for; None when it holds none. With
    ``config`` None only the identity is checked (a configuration that needs the data, e.g. class weights, is
    checked later, by ``fit``).

    ``identity`` is what the FitConfig does not say: what is trained on what (architecture, width, input side, data
    file, --limit). It is stored in the state under ``RUN``; a state written before it was recorded (a run of an
    earlier fer-train) has no such record, and is resumed on its configuration alone (``_fit`` then records it).

    Raises:
        ValueError: the state is corrupt, or the run has another configuration or identity (the message names what
            differs).
    """
    state = read_state(run_dir)
    if state is None:
        return None
    # a field added to FitConfig after the run started is absent from its state: the run used its default
    defaults = {f.name: f.default for f in fields(FitConfig) if f.default is not MISSING}
    state["config"] = {**json.loads(json.dumps(defaults)), **state["config"]}
    if config is not None:
        wanted = json.loads(json.dumps(asdict(config)))
        held = state["config"]
        differences = [f"{_CONFIG_NAMES.get(key, key)} {held.get(key)!r} (asked: {wanted.get(key)!r})"
                       for key in (*wanted, *(k for k in held if k not in wanted)) if held.get(key) != wanted.get(key)]
        if differences:
            raise ValueError(f"{run_dir} holds a run with another configuration: {', '.join(differences)}; give "
                             "this run another --run-dir, or delete that one to start over")
    recorded = state.get(RUN, {})
    if not isinstance(recorded, dict):  # _fit would fail on it only after loading the checkpoint
        raise ValueError(_corrupt(run_dir / STATE, f"its {RUN!r} record is not an object: {recorded!r}"))
    asked = json.loads(json.dumps(identity or {}))
    differences = [f"{_RUN_NAMES.get(key, key)} {recorded[key]!r} (asked: {value!r})"
                   for key, value in asked.items() if key in recorded and recorded[key] != value]
    if differences:
        raise ValueError(f"{run_dir} holds another run: {', '.join(differences)}; give this run another --run-dir, "
                         "or delete that one to start over")
    return state


def finished(run_dir: Path, epochs: int) -> bool:
    """True when ``run_dir`` holds a run that has already trained ``epochs`` epochs (its best model is there), as
    ``fit`` would resume it: a state.json without last.keras is a fresh run (``read_state``), a corrupt one is not
    finished."""
    try:
        state = read_state(run_dir)
    except ValueError:
        return False
    return state is not None and state["epoch"] >= epochs and (run_dir / BEST).is_file()


@contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Holds ``run_dir`` for one training process: a second one on the same folder (a stage started twice) would
    overwrite the first one's checkpoints, so it is refused. POSIX advisory lock; elsewhere, no lock. Creates
    ``run_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with open(run_dir / LOCK, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"another fer-train is training in {run_dir}; wait for it or stop it") from None
        yield


def fit(
    build: Callable[[], Any],
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    num_classes: int,
    config: FitConfig,
    run_dir: Path,
    identity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Trains (or resumes) a model in ``run_dir``; returns the state with the best model at ``run_dir/best.keras``.

    A run folder that already holds ``last.keras`` and ``state.json`` is resumed from its last finished epoch
    with the configuration stored there; asking for a different configuration or ``identity`` (see
    ``check_resume``), or a folder another process is training in, raises ValueError.
    """
    with run_lock(run_dir):
        return _fit(build, train, val, num_classes, config, run_dir, identity)


def _fit(build: Callable[[], Any], train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
         num_classes: int, config: FitConfig, run_dir: Path, identity: dict[str, Any] | None) -> dict[str, Any]:
    import keras

    state = check_resume(run_dir, config, identity)
    if state is not None:
        model = load_checkpoint(run_dir / LAST)
        missing = {k: v for k, v in json.loads(json.dumps(identity or {})).items() if k not in state.get(RUN, {})}
        if missing:  # a run started before fer-train recorded these (or some of them): recorded now, checked next time
            state[RUN] = {**state.get(RUN, {}), **missing}
            save_state(run_dir, state)
            log.info("%s: recorded what the run trains (%s) for the resumes to come", run_dir, ", ".join(missing))
        log.info("resuming %s at epoch %d", run_dir, state["epoch"])
    else:
        keras.utils.set_random_seed(config.seed)
        state = {"config": asdict(config), "epoch": 0, "best_val_accuracy": -1.0, "best_epoch": 0,
                 "history": [], "seconds": 0.0, "machine": training_machine()}
        if identity:
            state[RUN] = json.loads(json.dumps(identity))
        model = build()
        if config.init_from:
            start_from(model, Path(config.init_from))
        steps = math.ceil(len(train[0]) / config.batch_size)
        optimizer = keras.optimizers.AdamW(cosine_schedule(config, steps), weight_decay=config.weight_decay)
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
            metrics=["accuracy"],
        )
    if state["epoch"] >= config.epochs:
        log.info("%s already finished %d epochs", run_dir, config.epochs)
        return state
    weights = dict(enumerate(config.class_weights)) if config.class_weights else None
    teacher = ([load_teacher(Path(path), num_classes) for path in config.teachers]
               if config.teachers and config.distill_weight and not config.distill_offline else None)
    model.fit(
        make_dataset(*train, config, num_classes, train=True, teacher=teacher),
        validation_data=make_dataset(*val, config, num_classes, train=False),
        epochs=config.epochs,
        initial_epoch=state["epoch"],
        class_weight=weights,
        callbacks=[_Checkpoint(run_dir, state).callback],
        verbose=2,
    )
    return state
