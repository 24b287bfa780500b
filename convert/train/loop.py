"""A resumable fit loop: checkpoint every epoch, resume from the last one, log progress, keep the best."""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

log = logging.getLogger(__name__)

LAST = "last.keras"
BEST = "best.keras"
STATE = "state.json"


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


def cosine_schedule(config: FitConfig, steps_per_epoch: int) -> Any:
    """Linear warm-up then cosine decay to zero, as a function of the optimizer's step (so resume is exact)."""
    import keras

    total = config.epochs * steps_per_epoch
    warmup = max(1, config.warmup_epochs * steps_per_epoch)
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, total - warmup), warmup_target=config.learning_rate, warmup_steps=warmup
    )


def augmenter(side: int, seed: int) -> Any:
    """Geometric and photometric jitter of the kind FER-2013 training needs (faces are registered)."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomRotation(0.05, fill_mode="nearest", seed=seed),
            layers.RandomZoom((-0.1, 0.1), fill_mode="nearest", seed=seed),
            layers.RandomTranslation(0.08, 0.08, fill_mode="nearest", seed=seed),
            layers.RandomContrast(0.2, value_range=(0, 255), seed=seed),
        ],
        name="augment",
    )


def make_dataset(x: np.ndarray, y: np.ndarray, config: FitConfig, num_classes: int, train: bool) -> Any:
    import tensorflow as tf

    labels = np.eye(num_classes, dtype=np.float32)[y]
    ds = tf.data.Dataset.from_tensor_slices((x, labels))
    if train:
        ds = ds.shuffle(len(x), seed=config.seed, reshuffle_each_iteration=True)
    ds = ds.batch(config.batch_size)
    if train and config.augment:
        aug = augmenter(x.shape[1], config.seed)
        ds = ds.map(lambda a, b: (tf.clip_by_value(aug(a, training=True), 0.0, 255.0), b),
                    num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


class _Checkpoint:
    """Keras callback: after each epoch save the last model, the best model (by val_accuracy) and the state."""

    def __init__(self, run_dir: Path, state: dict[str, Any]) -> None:
        import keras

        class Callback(keras.callbacks.Callback):
            def on_epoch_end(cb, epoch: int, logs: dict[str, float] | None = None) -> None:  # noqa: N805
                logs = logs or {}
                val = float(logs.get("val_accuracy", float("nan")))
                cb.model.save(run_dir / LAST)
                if not math.isnan(val) and val > state["best_val_accuracy"]:
                    state.update(best_val_accuracy=val, best_epoch=epoch + 1)
                    cb.model.save(run_dir / BEST)
                state["epoch"] = epoch + 1
                state["history"].append({"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}})
                state["seconds"] += time.time() - state.pop("_t0", time.time())
                (run_dir / STATE).write_text(json.dumps(state, indent=2))
                log.info("epoch %d/%d %s", epoch + 1, state["config"]["epochs"],
                         " ".join(f"{k}={float(v):.4f}" for k, v in sorted(logs.items())))

            def on_epoch_begin(cb, epoch: int, logs: dict[str, float] | None = None) -> None:  # noqa: N805
                state["_t0"] = time.time()

        self.callback = Callback()


def fit(
    build: Callable[[], Any],
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    num_classes: int,
    config: FitConfig,
    run_dir: Path,
) -> dict[str, Any]:
    """Trains (or resumes) a model in ``run_dir``; returns the state with the best model at ``run_dir/best.keras``.

    A run folder that already holds ``last.keras`` and ``state.json`` is resumed from its last finished epoch
    with the configuration stored there; asking for a different configuration raises ValueError.
    """
    import keras

    run_dir.mkdir(parents=True, exist_ok=True)
    state_path = run_dir / STATE
    if state_path.is_file() and (run_dir / LAST).is_file():
        state = json.loads(state_path.read_text())
        if state["config"] != json.loads(json.dumps(asdict(config))):
            raise ValueError(f"{run_dir} holds a run with another configuration: {state['config']}")
        model = keras.models.load_model(run_dir / LAST)
        log.info("resuming %s at epoch %d", run_dir, state["epoch"])
    else:
        keras.utils.set_random_seed(config.seed)
        state = {"config": asdict(config), "epoch": 0, "best_val_accuracy": -1.0, "best_epoch": 0,
                 "history": [], "seconds": 0.0}
        model = build()
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
    model.fit(
        make_dataset(*train, config, num_classes, train=True),
        validation_data=make_dataset(*val, config, num_classes, train=False),
        epochs=config.epochs,
        initial_epoch=state["epoch"],
        class_weight=weights,
        callbacks=[_Checkpoint(run_dir, state).callback],
        verbose=2,
    )
    return state
