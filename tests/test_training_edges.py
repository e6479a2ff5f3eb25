"""Training edges: the config's exact limits and messages, the pieces' contracts, and what a real
job leaves behind — its statuses, result fields, phases, predictions and files — when it
finishes, when it hits the server's time limit (in bfloat16), and when its run folder fails.

Real CIFAR-10 sample images and real Keras throughout; the trainings are the smallest that show
each behaviour, and each is checked in full by one test.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import time
from types import SimpleNamespace

import numpy as np
import pytest

from cifar_core import constants as C
from cifar_core import runs as R
from cifar_core import settings
from cifar_core.models import count_params
from cifar_core.runs import RunStore
from cifar_core.training import (
    MEMBERSHIP_SAMPLE,
    TrainConfig,
    TrainingJob,
    build_compiled,
    make_dataset,
    make_optimizer,
    predict_probs,
    split_indices,
)
from cifar_core.training.monitor import (
    EVALUATING,
    FAILED,
    FINISHED,
    PREPARING,
    QUEUED,
    SAVING,
    STOPPED,
    TrainingMonitor,
)
from cifar_core.training.phases import PHASES
from cifar_core.training.queue import wait_for

# --- the config: exact limits and the messages that say how to fix a value ------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"train_size": 100},
        {"epochs": 1},
        {"epochs": 50},
        {"batch_size": 1},
        {"batch_size": 4096},
        {"learning_rate": 1.0},
        {"learning_rate": 1e-6},
        {"val_split": 0.01},
        {"val_split": 0.89},
        {"model": "shallow", "optimizer": "sgd"},
    ],
)
def test_config_accepts_the_limits_themselves(kwargs):
    config = TrainConfig(**kwargs)
    assert {k: getattr(config, k) for k in kwargs} == kwargs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"optimizer": "lbfgs"}, "Unknown optimizer 'lbfgs': choose one of rmsprop, adam, sgd."),
        ({"train_size": 99}, "Use at least 100 training images."),
        ({"epochs": 0}, "Epochs must be 1–50, got 0."),
        ({"epochs": 51}, "Epochs must be 1–50, got 51."),
        ({"batch_size": 0}, "Batch size must be 1–4096, got 0."),
        ({"batch_size": 4097}, "Batch size must be 1–4096, got 4097."),
        ({"learning_rate": 0}, "Learning rate must be above 0 and at most 1, got 0."),
        ({"learning_rate": 1.5}, "Learning rate must be above 0 and at most 1, got 1.5."),
        ({"val_split": 0}, "Validation split must be between 0 and 0.9, got 0."),
        ({"val_split": 0.9}, "Validation split must be between 0 and 0.9, got 0.9."),
    ],
)
def test_config_rejects_with_the_exact_message(kwargs, message):
    with pytest.raises(ValueError) as raised:
        TrainConfig(**kwargs)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("train_size", "val_split", "sizes"),
    [
        (100, 0.001, (99, 1)),  # rounds to 0 validation images: at least one is held out
        (123, 0.5, (61, 62)),  # 61.5 rounds to 62
        (1300, 0.2, (1040, 260)),
    ],
)
def test_split_sizes(train_size, val_split, sizes):
    config = TrainConfig(train_size=train_size, val_split=val_split)
    assert config.split_sizes() == sizes
    train, val = split_indices(5085, config)
    assert (len(train), len(val)) == sizes


def test_equal_configs_have_equal_keys_whatever_the_augment_dict_order():
    # Identical runs share one job through the key; the lab's dict may come in any order.
    a = TrainConfig(augment={"rotation_range": 10.0, "zoom_range": 0.1, "horizontal_flip": True})
    b = TrainConfig(augment={"horizontal_flip": True, "zoom_range": 0.1, "rotation_range": 10.0})
    assert a == b and a.key() == b.key()
    assert json.loads(a.key()) == a.to_dict()


# --- the pieces: optimizer, compiled model, predictions, pipeline ----------------------------


@pytest.mark.parametrize(
    ("name", "cls", "momentum"),
    [("rmsprop", "RMSprop", None), ("adam", "Adam", None), ("sgd", "SGD", 0.9)],
)
def test_make_optimizer(name, cls, momentum):
    optimizer = make_optimizer(name, 0.0042)
    assert type(optimizer).__name__ == cls
    assert float(optimizer.learning_rate) == pytest.approx(0.0042)
    if momentum is not None:
        assert optimizer.momentum == momentum


def test_build_compiled_uses_the_configs_optimizer_loss_and_metric():
    model = build_compiled(TrainConfig(model="shallow", optimizer="adam", learning_rate=0.0042))
    assert type(model.optimizer).__name__ == "Adam"
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0042)
    compiled = model.get_compile_config()
    assert compiled["loss"] == "categorical_crossentropy" and compiled["metrics"] == ["accuracy"]
    assert model.dtype_policy.name == "float32"


def test_predict_probs_scales_batches_and_handles_no_images(sample_data):
    model = build_compiled(TrainConfig(model="shallow", seed=4))
    idx = np.arange(300)[::-1].copy()  # two batches: 256 + 44, in the order asked
    probs = predict_probs(model, sample_data.x_test, idx)
    expected = np.concatenate(
        [
            model.predict_on_batch(sample_data.x_test[idx[i : i + 256]].astype(np.float32) / 255)
            for i in (0, 256)
        ]
    )
    assert probs.shape == (300, 10)
    np.testing.assert_allclose(probs, expected, rtol=0, atol=1e-6)
    empty = predict_probs(model, sample_data.x_test, np.array([], dtype=np.int64))
    assert empty.shape == (0, 10) and empty.dtype == np.float32


def test_pipeline_shapes_and_documented_per_pass_keys(sample_data):
    """Pass k reads the rows in the order stateless_shuffle(rows, (seed, k)) gives: the order
    of every epoch is fixed by the run's seed alone (saved runs stay reproducible)."""
    import tensorflow as tf

    rows = np.arange(0, 400, 2)  # 200 real training images
    ds = make_dataset(sample_data.x_train, sample_data.y_train, rows, 64, shuffle_seed=11)
    x_spec, y_spec = ds.element_spec
    assert x_spec.shape.as_list() == [None, 32, 32, 3] and x_spec.dtype == tf.float32
    assert y_spec.shape.as_list() == [None, 10] and y_spec.dtype == tf.float32
    row_of = {sample_data.x_train[r].tobytes(): r for r in rows}
    for k in range(3):
        images = np.concatenate([x.numpy() for x, _ in ds])
        read = [row_of[np.rint(image * 255).astype(np.uint8).tobytes()] for image in images]
        order = tf.random.experimental.stateless_shuffle(tf.constant(rows), [11, k]).numpy()
        np.testing.assert_array_equal(read, order)


# --- a job before it runs, and jobs that fail -----------------------------------------------


class RecordingMonitor(TrainingMonitor):
    """A real monitor that also keeps every status it was given, in order."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.statuses: list[str] = []
        self.on_run_id = None  # called with the run id once the job has one

    def set_status(self, status: str, message: str = "") -> None:
        self.statuses.append(status)
        super().set_status(status, message)

    def set_run_id(self, run_id: str) -> None:
        super().set_run_id(run_id)
        if self.on_run_id is not None:
            self.on_run_id(run_id)


@pytest.fixture
def float32(monkeypatch):
    monkeypatch.setenv(settings.PRECISION.name, "float32")


def test_a_new_job_has_not_started(sample_data, tmp_store):
    monitor = RecordingMonitor()
    job = TrainingJob(TrainConfig(model="shallow"), sample_data, tmp_store, monitor)
    assert job.monitor is monitor and monitor.snapshot().status == QUEUED
    assert job.run_id is None and job.thread is None and job.precision is None
    assert wait_for(job, timeout=0.05) is False  # not started: it has not ended either


def test_too_many_images_fails_before_any_run_folder(sample_data, tmp_store, float32):
    monitor = RecordingMonitor()
    job = TrainingJob(
        TrainConfig(model="shallow", train_size=6000), sample_data, tmp_store, monitor
    )
    job.run()
    snap = monitor.snapshot()
    assert snap.status == FAILED and monitor.statuses == [PREPARING, FAILED]
    assert snap.message == (
        "ValueError: Asked for 6,000 training images but the data set has only 5,085. "
        "Choose a smaller training-set size."
    )
    assert job.run_id is None and not tmp_store.root.exists()


def test_run_folder_removed_mid_run_is_reported_in_words(sample_data, tmp_store, float32):
    """Someone deletes the run's folder while it trains: the student reads what happened,
    and that the failure could not be written either, instead of a bare traceback line."""
    monitor = RecordingMonitor()
    monitor.on_run_id = lambda run_id: shutil.rmtree(tmp_store.path(run_id))
    job = TrainingJob(TrainConfig(model="shallow", train_size=100), sample_data, tmp_store, monitor)
    job.run()
    snap = monitor.snapshot()
    assert snap.status == FAILED and monitor.statuses == [PREPARING, FAILED]
    assert snap.run_id == job.run_id is not None
    said = f"Run {job.run_id} could not be saved in {tmp_store.root}: No such file or directory."
    assert snap.message.startswith(said + " (The run folder could not record this either: ")
    assert snap.message.endswith(".)") and "status.json" in snap.message


def test_runs_folder_that_is_a_file_is_reported_in_words(sample_data, tmp_path, float32):
    (tmp_path / "runs").write_text("not a folder")
    store = RunStore(tmp_path / "runs")
    job = TrainingJob(TrainConfig(model="shallow", train_size=100), sample_data, store)
    job.run()
    snap = job.monitor.snapshot()
    assert snap.status == FAILED
    assert snap.message.startswith(
        f"The runs folder {store.root} cannot be used: a file stands where a folder should be, "
        f"so run {job.run_id} could not be saved."
    )


# --- a finished run: everything it reports and saves -----------------------------------------

# Seed 6: epoch 1 has the best validation accuracy, epoch 2 the lowest validation loss, so the
# best-weights file tells "best accuracy" from "last" and from "lowest loss".
FINISHED_RUN = dict(model="shallow", train_size=1300, epochs=2, batch_size=128, seed=6)


# One test per real run, its checks in helpers: mutation testing runs, for each changed
# function, only the tests that ran it, and a shared fixture runs it for the first test only.


def test_a_finished_run_reports_and_saves_everything(sample_data, tmp_path):
    """Shallow net, 1,300 real images (1,040 trained on: 9 batches an epoch), 2 epochs."""
    finished = _finished_run(sample_data, tmp_path)
    _check_statuses_and_progress(finished)
    _check_result_fields(finished)
    _check_phases_add_up(finished)
    _check_predictions(finished, sample_data)
    _check_best_weights_are_the_best_validation_epochs(finished, sample_data)


def _finished_run(sample_data, tmp_path) -> SimpleNamespace:
    store = RunStore(tmp_path / "runs")
    monitor = RecordingMonitor()
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setenv(settings.PRECISION.name, "float32")
        start = time.perf_counter()
        job = TrainingJob(TrainConfig(**FINISHED_RUN), sample_data, store, monitor)
        job.run()
        wall = time.perf_counter() - start
    assert monitor.snapshot().status == FINISHED, monitor.snapshot().message
    return SimpleNamespace(
        job=job, monitor=monitor, run=store.load(job.run_id), wall=wall, printed=printed.getvalue()
    )


def _check_statuses_and_progress(finished):
    snap = finished.monitor.snapshot()
    assert finished.monitor.statuses == [PREPARING, EVALUATING, SAVING, FINISHED]
    assert snap.run_id == finished.job.run_id and snap.message == ""
    assert (snap.steps_done, snap.total_steps) == (18, 18)  # ceil(1040 / 128) = 9 an epoch
    assert finished.run.status["status"] == FINISHED and finished.run.status["message"] == ""
    assert finished.printed == ""  # no Keras progress bars in the server's console


def _check_result_fields(finished):
    import keras
    import tensorflow as tf

    result, epochs = finished.run.result, finished.run.history["epochs"]
    assert set(result) >= {
        "class_names", "params", "n_train", "n_val", "epochs_completed", "steps_completed",
        "train_seconds", "seconds_per_epoch", "images_per_second", "best_epoch",
        "best_val_accuracy", "data_source", "versions", "precision", "precision_reason",
        "phases",
    }  # fmt: skip
    assert result["class_names"] == list(C.CLASS_NAMES)
    assert result["params"] == count_params("shallow")
    assert (result["n_train"], result["n_val"]) == (1040, 260)
    assert (result["epochs_completed"], result["steps_completed"]) == (2, 18)
    seconds = result["train_seconds"]
    assert seconds > 0 and result["seconds_per_epoch"] == pytest.approx(seconds / 2)
    assert result["images_per_second"] == pytest.approx(2 * 1040 / seconds)
    val_accs = [e["val_accuracy"] for e in epochs]
    assert result["best_epoch"] == int(np.argmax(val_accs)) + 1
    assert result["best_val_accuracy"] == max(val_accs)
    assert result["data_source"].startswith("local files in ")
    assert result["versions"] == {"tensorflow": tf.__version__, "keras": keras.__version__}
    assert (result["precision"], result["precision_reason"]) == ("float32", "forced")


def _check_phases_add_up(finished):
    phases = finished.run.result["phases"]
    assert list(phases) == list(PHASES)  # every phase, in order
    assert all(seconds >= 0 for seconds in phases.values())
    assert phases["first_batch"] > 0 and phases["training"] > 0 and phases["validation"] > 0
    # Disjoint parts of the job's wall time: they add up to at most that.
    assert sum(phases.values()) <= finished.wall + 0.01


def _check_predictions(finished, sample_data):
    import keras

    config = TrainConfig(**FINISHED_RUN)
    train_idx, _ = split_indices(len(sample_data.x_train), config)
    preds = finished.run.predictions()
    seen = preds["train_indices"]
    # The "does it remember?" sample: 1,000 distinct training rows drawn with the run's seed.
    expected = np.sort(
        np.random.default_rng(config.seed).choice(train_idx, MEMBERSHIP_SAMPLE, replace=False)
    )
    np.testing.assert_array_equal(seen, expected)
    assert len(np.unique(seen)) == MEMBERSHIP_SAMPLE and np.isin(seen, train_idx).all()
    np.testing.assert_array_equal(preds["train_labels"], sample_data.y_train[seen])
    np.testing.assert_array_equal(preds["test_labels"], sample_data.y_test)
    # Compact on disk: float16 probabilities, int16 labels.
    assert preds["test_probs"].dtype == preds["train_probs"].dtype == np.float16
    assert preds["test_labels"].dtype == preds["train_labels"].dtype == np.int16
    model = keras.saving.load_model(finished.run.path / R.MODEL_FILE, safe_mode=True)
    some = slice(0, 64)
    again = model.predict_on_batch(sample_data.x_train[seen[some]].astype(np.float32) / 255)
    np.testing.assert_allclose(preds["train_probs"][some].astype(np.float32), again, atol=2e-3)


def _check_best_weights_are_the_best_validation_epochs(finished, sample_data):
    """best.weights.h5 scores the best epoch's validation accuracy; model.weights.h5 the last's."""
    config = TrainConfig(**FINISHED_RUN)
    _, val_idx = split_indices(len(sample_data.x_train), config)
    val_accs = [e["val_accuracy"] for e in finished.run.history["epochs"]]
    model = build_compiled(config)
    x = sample_data.x_train[val_idx].astype(np.float32) / 255
    y = np.eye(10, dtype=np.float32)[sample_data.y_train[val_idx]]
    scored = {}
    for name in (R.BEST_WEIGHTS_FILE, R.WEIGHTS_FILE):
        model.load_weights(finished.run.path / name)
        scored[name] = model.evaluate(x, y, batch_size=config.batch_size, verbose=0)[1]
    assert scored[R.BEST_WEIGHTS_FILE] == pytest.approx(max(val_accs), abs=0.5 / len(val_idx))
    assert scored[R.WEIGHTS_FILE] == pytest.approx(val_accs[-1], abs=0.5 / len(val_idx))


# --- the server's time limit, in bfloat16 ----------------------------------------------------


def test_a_time_limited_bfloat16_run(sample_data, tmp_path):
    """Shallow net in mixed bfloat16, 6 ms time limit: it stops after its first batch."""
    time_limited = _time_limited_run(sample_data, tmp_path)
    _check_time_limit_stops_and_says_so(time_limited)
    _check_bfloat16_run_saves_a_float32_model_with_its_optimizer_state(time_limited, sample_data)


def _time_limited_run(sample_data, tmp_path) -> SimpleNamespace:
    store = RunStore(tmp_path / "runs")
    config = TrainConfig(model="shallow", train_size=300, epochs=2, batch_size=64, seed=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(settings.PRECISION.name, "bfloat16")
        job = TrainingJob(config, store=store, data=sample_data, time_limit_s=0.006)
        job.run()
    return SimpleNamespace(job=job, config=config, run=store.load(job.run_id))


def _check_time_limit_stops_and_says_so(time_limited):
    snap = time_limited.job.monitor.snapshot()
    note = (
        "Stopped at this server's time limit of 0.0001 min per run, after 1 of 8 batches; "
        "everything learned so far is saved. Ask for fewer images or epochs to finish within it."
    )
    assert (snap.status, snap.message) == (STOPPED, note)
    assert time_limited.run.status["status"] == STOPPED
    assert time_limited.run.status["message"] == note
    result = time_limited.run.result
    assert (result["epochs_completed"], result["steps_completed"]) == (1, 1)
    assert result["seconds_per_epoch"] == pytest.approx(result["train_seconds"])
    assert (result["precision"], result["precision_reason"]) == ("bfloat16", "forced")


def _check_bfloat16_run_saves_a_float32_model_with_its_optimizer_state(time_limited, sample_data):
    import keras

    path = time_limited.run.path
    model = keras.saving.load_model(path / R.MODEL_FILE, safe_mode=True)
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    assert int(model.optimizer.iterations) == 1  # it trained one batch and goes on from there
    assert any(np.abs(v.numpy()).sum() > 0 for v in model.optimizer.variables[2:])
    weights = build_compiled(time_limited.config)
    weights.load_weights(path / R.WEIGHTS_FILE)
    for a, b in zip(weights.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    saved = time_limited.run.predictions()["test_probs"][:32].astype(np.float32)
    again = model.predict_on_batch(sample_data.x_test[:32].astype(np.float32) / 255)
    np.testing.assert_allclose(again, saved, atol=0.03)  # bfloat16 vs float32 arithmetic


def test_a_config_with_augmentation_is_saved_with_it_and_read_back_equal():
    # What the run store saves (to_dict) must carry the augmentation, or a reloaded run would
    # claim it trained without; and it is a different run from the plain one.
    config = TrainConfig(augment={"rotation_range": 15.0, "horizontal_flip": True})
    saved = config.to_dict()
    assert saved["augment"]["rotation_range"] == 15.0 and saved["augment"]["horizontal_flip"]
    assert json.loads(json.dumps(saved)) == saved  # plain JSON
    assert TrainConfig.from_dict(saved) == config
    assert config.key() != TrainConfig().key()
