"""The training job: one run trained in a worker thread, scored on the test split and saved.

The queue that runs jobs one (or a few) at a time is `queue`; what a run is, `config`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from cifar_core import constants as C
from cifar_core.constants import MEMBERSHIP_SAMPLE, PREDICT_BATCH, PREFETCH_BATCHES
from cifar_core.data import Cifar10
from cifar_core.evaluation import summarize_predictions
from cifar_core.models import count_params
from cifar_core.runs import (
    ARCHITECTURE_FILE,
    BEST_WEIGHTS_FILE,
    HISTORY_FILE,
    MODEL_FILE,
    RESULT_FILE,
    WEIGHTS_FILE,
    RunStore,
)
from cifar_core.runs.disk import describe_write_error, is_storage_error
from cifar_core.training.config import TrainConfig, split_indices
from cifar_core.training.monitor import (
    EVALUATING,
    FAILED,
    FINISHED,
    PREPARING,
    SAVING,
    STOPPED,
    TrainingMonitor,
)
from cifar_core.training.phases import PhaseClock
from cifar_core.training.precision import FLOAT32, Decision, precision_for


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    indices: np.ndarray,
    batch_size: int,
    shuffle_seed: int | None = None,
    augment: Callable[[Any], Any] | None = None,
) -> Any:
    """A tf.data pipeline that gathers uint8 images by index and scales each batch to [0, 1].

    The shared uint8 arrays are never copied whole: each batch is gathered from them, turned
    into float32 / 255 and one-hot labels, so memory stays at one uint8 copy for all sessions.

    Args:
        images: (N, 32, 32, 3) uint8, may be read-only.
        labels: (N,) int labels.
        indices: which rows to use.
        batch_size: images per batch.
        shuffle_seed: reshuffle every epoch with this seed; None keeps the order.
        augment: an in-graph function applied to each float batch (training only).

    The shuffle is a stateless permutation per pass over the data, keyed by (shuffle_seed,
    pass number), not tf.data's shuffle: that one mixes in TensorFlow's process-wide seed,
    which any other thread may set, and then "same seed, same result" (and sharing runs)
    would break. A pass takes its number when its first batch is read, so an iterator that
    Keras makes and never reads takes none. No Python generator: `from_generator` also sets
    glibc's M_TRIM_THRESHOLD for the whole process, after which every allocation of 128 kB
    or more is a fresh mmap (a numpy gather of one batch: ~10x slower).

    Autotuning is off. An autotuned iterator runs an optimisation thread whose sleep doubles
    up to 60 s, and in TF 2.21 its teardown can miss the wake-up (the cancellation callback
    notifies before the cancelled flag is set), so it blocks until that thread's next wake-up.
    Keras drops the training iterator at every epoch end and the validation one after every
    validation pass: on the full data set that was up to a minute of idle process per epoch.
    A one-op gather needs no tuning; a fixed prefetch keeps the next batches ready.
    """
    import tensorflow as tf

    def gather(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return images[idx], labels[idx].astype(np.int64)

    def load(idx: Any) -> tuple[Any, Any]:
        batch, y = tf.numpy_function(gather, [idx], [tf.uint8, tf.int64], stateful=False)
        batch.set_shape([None, *images.shape[1:]])  # (B, 32, 32, 3)
        y.set_shape([None])
        x = tf.cast(batch, tf.float32) / 255.0
        if augment is not None:
            x = augment(x)
        return x, tf.one_hot(y, C.NUM_CLASSES)

    indices = np.asarray(indices, dtype=np.int64)
    if shuffle_seed is None:
        ds = tf.data.Dataset.from_tensor_slices(indices)
    else:
        rows = tf.constant(indices)
        seed = tf.constant(shuffle_seed, tf.int64)
        passes = tf.Variable(0, dtype=tf.int64, trainable=False)  # passes begun so far

        def one_pass(_: Any) -> Any:  # runs when an iterator reads its first element
            number = passes.assign_add(1) - 1
            order = tf.random.experimental.stateless_shuffle(rows, tf.stack([seed, number]))
            return tf.data.Dataset.from_tensor_slices(order)

        ds = tf.data.Dataset.from_tensors(0).flat_map(one_pass)
        # Known length: Keras shows progress and sizes epochs as with the tensor slices.
        ds = ds.apply(tf.data.experimental.assert_cardinality(len(indices)))
    options = tf.data.Options()
    options.autotune.enabled = False
    ds = ds.batch(batch_size).map(load).prefetch(PREFETCH_BATCHES)
    return ds.with_options(options)


def make_optimizer(name: str, learning_rate: float) -> Any:
    """RMSprop (the lesson's), Adam or SGD with momentum."""
    import keras

    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=learning_rate)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9)


def build_compiled(config: TrainConfig, precision: str = "float32") -> Any:
    """The lesson's model for this config, compiled with categorical cross-entropy.

    Args:
        precision: "float32" or "bfloat16" (mixed; see precision.py).
    """
    from cifar_core.models import build_model

    model = build_model(config.model, seed=config.seed, precision=precision)
    model.compile(
        optimizer=make_optimizer(config.optimizer, config.learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def predict_probs(model: Any, images: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Softmax outputs for some images, batch by batch (no float copy of the whole set)."""
    out = [
        model.predict_on_batch(images[indices[i : i + PREDICT_BATCH]].astype(np.float32) / 255.0)
        for i in range(0, len(indices), PREDICT_BATCH)
    ]
    return np.concatenate(out) if out else np.zeros((0, C.NUM_CLASSES), np.float32)


def save_model_files(
    model: Any, config: TrainConfig, precision: str, folder: Any, best_weights: list | None = None
) -> None:
    """Write the model (.keras), its weights (.weights.h5) and the best epoch's, all float32.

    A model trained in mixed bfloat16 holds float32 weights already; they are copied into the
    float32 build of the same network, so the download computes in float32 on any computer
    (a laptop without bfloat16 hardware would emulate it slowly) and loads in plain Keras.

    Args:
        best_weights: the best validation epoch's weights (training.callbacks.BestWeights),
            written last as best.weights.h5; None writes no such file (no epoch was scored).
            They replace the weights of the float32 model that wrote the other files, so
            the model passed in must not be used after this call.
    """
    portable = model
    if precision != FLOAT32:
        portable = build_compiled(config, FLOAT32)
        portable.set_weights(model.get_weights())
        # The optimizer's state too (step count, RMSprop/Adam averages), so that the download
        # continues training where the run stopped, as a float32 run's download does.
        portable.optimizer.build(portable.trainable_variables)
        for mine, trained in zip(
            portable.optimizer.variables, model.optimizer.variables, strict=True
        ):
            mine.assign(trained)
    portable.save(folder / MODEL_FILE)
    portable.save_weights(folder / WEIGHTS_FILE)
    if best_weights is not None:
        portable.set_weights(best_weights)
        portable.save_weights(folder / BEST_WEIGHTS_FILE)


def make_augment_fn(config: TrainConfig) -> Callable[[Any], Any] | None:
    """The Augmentation lab's in-graph transform for this config, or None."""
    if config.augment is None:
        return None
    from cifar_core.augmentation.pipeline import make_tf_augment

    return make_tf_augment(config.augment, seed=config.seed)


class TrainingJob:
    """One training run: trains in a worker thread, reports to a monitor, saves to the store.

    It never touches Streamlit; the page only holds the job and polls `monitor`.

    Args:
        config: what to train.
        data: the shared, read-only data set.
        store: where the run is saved.
        monitor: where progress goes (a new one if None).
        time_limit_s: wall-clock limit of training; at the limit the run stops after its
            current batch and is saved as stopped (None: no limit).
    """

    def __init__(
        self,
        config: TrainConfig,
        data: Cifar10,
        store: RunStore,
        monitor: TrainingMonitor | None = None,
        time_limit_s: float | None = None,
    ) -> None:
        self.config = config
        self.data = data
        self.store = store
        self.monitor = monitor or TrainingMonitor()
        self.time_limit_s = time_limit_s
        self.run_id: str | None = None
        self.thread: threading.Thread | None = None
        self.created = time.perf_counter()  # the queue phase counts from here
        self.phases = PhaseClock()
        self.precision: Decision | None = None
        # Owner hashes of who asked for or joined this run; saved to its folder once it exists.
        self._owners: set[str] = set()
        self._owners_lock = threading.Lock()
        self._owners_saved = False  # the folder exists and holds the owners so far

    def add_owner(self, owner: str) -> None:
        """Record that `owner` (an owner hash, see identity) asked for or joined this run.

        Written into the run folder now if it exists (a join of a running or finished run),
        else with the folder when training starts. A failed write is not the run's failure:
        the run then just does not show as this owner's.
        """
        with self._owners_lock:
            if owner in self._owners:
                return
            self._owners.add(owner)
            if self._owners_saved and self.run_id is not None:
                with contextlib.suppress(OSError):
                    self.store.add_owners(self.run_id, [owner])

    def _save_owners(self) -> None:
        # The folder was just created: the owners so far go in, later ones by add_owner.
        with self._owners_lock:
            if self._owners:
                self.store.add_owners(self.run_id, self._owners)
            self._owners_saved = True

    def run(self) -> None:
        """Train, evaluate and save; any exception ends as a failed run with its message.

        The in-memory status always ends failed, even when the failure cannot be written to
        the run folder (disk full, folder gone): a job left "saving" would look alive and be
        joined by everyone who asks for the same settings.
        """
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 — report every failure to the user
            message = (
                describe_write_error(exc, self.store.root, self.run_id)
                if isinstance(exc, OSError) or is_storage_error(exc)
                else f"{type(exc).__name__}: {exc}"
            )
            if self.run_id is not None:
                try:
                    self.store.set_status(self.run_id, FAILED, message)
                except OSError as write_exc:
                    message += f" (The run folder could not record this either: {write_exc}.)"
            self.monitor.set_status(FAILED, message)

    def _run(self) -> None:
        cfg, data, monitor, clock = self.config, self.data, self.monitor, self.phases
        clock.add("queue", time.perf_counter() - self.created)
        monitor.set_status(PREPARING)  # before the first import of Keras, which takes seconds
        with clock.time("import"):  # the callbacks' module imports Keras (and TensorFlow)
            from cifar_core.training.callbacks import BestWeights, LiveMonitorCallback
        with clock.time("precision"):
            self.precision = precision_for(cfg.model)

        with clock.time("data"):
            train_idx, val_idx = split_indices(len(data.x_train), cfg)
            # No keras.utils.set_random_seed: it is process-wide, so another training or a
            # look-inside call in another thread could change this run's draws. Every random
            # thing here takes the run's seed itself: the subset, the shuffle, each layer's
            # initial weights and dropout, and the augmentation's generator.
            augment = make_augment_fn(cfg)
            train_ds = make_dataset(
                data.x_train, data.y_train, train_idx, cfg.batch_size, cfg.seed, augment
            )
            val_ds = make_dataset(data.x_train, data.y_train, val_idx, cfg.batch_size)
        with clock.time("build"):
            model = build_compiled(cfg, self.precision.precision)
            self.run_id = self.store.new_run_id()
            folder = self.store.create(self.run_id, cfg.to_dict())
            self._save_owners()
            monitor.set_run_id(self.run_id)
            (folder / ARCHITECTURE_FILE).write_text(model.to_json())

        steps_per_epoch = cfg.steps_per_epoch()  # = ⌈len(train_idx) / batch_size⌉
        monitor.begin(steps_per_epoch * cfg.epochs, cfg.batch_size)
        live = LiveMonitorCallback(monitor, cfg.batch_size, len(train_idx), self.time_limit_s)
        # As the lesson's ModelCheckpoint: keep the weights of the best validation epoch (in
        # memory; the file is written once, with the others, when the run is saved).
        best = BestWeights("val_accuracy")
        callbacks = [live, best]
        fit_start = time.perf_counter()
        # shuffle=False: the tf.data pipeline already reshuffles every epoch with the seed.
        model.fit(
            train_ds,
            epochs=cfg.epochs,
            validation_data=val_ds,
            callbacks=callbacks,
            shuffle=False,
            verbose=0,
        )
        fit_seconds = time.perf_counter() - fit_start
        first = (live.first_batch_end or fit_start) - fit_start
        clock.add("first_batch", first)
        clock.add("validation", live.validation_seconds)
        clock.add("training", fit_seconds - first - live.validation_seconds)
        monitor.end_training()
        stopped = monitor.stop_requested

        monitor.set_status(EVALUATING)
        with clock.time("test_scoring"):
            # Scored by the model as it trained (in its precision); the saved model is float32
            # and agrees within rounding (tests/test_precision.py checks the accuracy).
            test_idx = np.arange(len(data.x_test))
            test_probs = predict_probs(model, data.x_test, test_idx)
            rng = np.random.default_rng(cfg.seed)
            n_seen = min(MEMBERSHIP_SAMPLE, len(train_idx))
            seen = np.sort(rng.choice(train_idx, n_seen, replace=False))
            seen_probs = predict_probs(model, data.x_train, seen)

        monitor.set_status(SAVING)
        saved_test_probs = test_probs.astype(np.float16)  # compact on disk: 200 kB for 10,000
        with clock.time("saving"):
            save_model_files(model, cfg, self.precision.precision, folder, best.weights)
            snap = monitor.snapshot()
            # The per-batch curve at bounded resolution (≤ MAX_CURVE_POINTS merged points,
            # with their min and max): a 62,500-batch run saves and reopens as cheaply as a
            # short one.
            self.store.write_json(self.run_id, HISTORY_FILE, monitor.history())
            self.store.write_predictions(
                self.run_id,
                test_probs=saved_test_probs,
                test_labels=data.y_test.astype(np.int16),
                train_indices=seen.astype(np.int64),
                train_probs=seen_probs.astype(np.float16),
                train_labels=data.y_train[seen].astype(np.int16),
            )
        # From the probabilities as saved (float16), not the model's float32 ones: the mistakes
        # explorer and the model card count from the saved file, and rounding could move an
        # image whose two best classes round alike to another cell of the confusion matrix.
        result = summarize_predictions(saved_test_probs.astype(np.float32), data.y_test)
        result.update(self._summary(snap, len(train_idx), len(val_idx)))
        self.store.write_json(self.run_id, RESULT_FILE, result)
        final = STOPPED if stopped else FINISHED
        note = snap.stop_note(steps_per_epoch) if stopped else ""
        if live.time_limited:
            note = (
                f"Stopped at this server's time limit of {self.time_limit_s / 60:g} min per run, "
                f"after {snap.steps_done:,} of {snap.total_steps:,} batches; everything learned "
                "so far is saved. Ask for fewer images or epochs to finish within it."
            )
        self.store.set_status(self.run_id, final, note)
        monitor.set_status(final, note)

    def _summary(self, snap: Any, n_train: int, n_val: int) -> dict:
        import keras
        import tensorflow as tf

        train_seconds = self.monitor.train_seconds()
        images = snap.images_done
        val_accs = [e["val_accuracy"] for e in snap.epochs]
        best = int(np.nanargmax(val_accs)) if val_accs and not np.all(np.isnan(val_accs)) else None
        return {
            "class_names": list(self.data.class_names),
            "params": count_params(self.config.model),
            "n_train": n_train,
            "n_val": n_val,
            "epochs_completed": len(snap.epochs),
            "steps_completed": snap.steps_done,
            "train_seconds": train_seconds,
            "seconds_per_epoch": train_seconds / max(1, len(snap.epochs)),
            "images_per_second": images / train_seconds if train_seconds else None,
            "best_epoch": best + 1 if best is not None else None,
            "best_val_accuracy": val_accs[best] if best is not None else None,
            "data_source": self.data.source,
            "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
            "precision": self.precision.precision,  # set by _run before it summarises
            "precision_reason": self.precision.reason,
            # all phases but saving's last file: result.json itself (milliseconds)
            "phases": self.phases.as_dict(),
        }
