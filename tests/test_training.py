"""Training job: config checks, the data pipeline, real tiny trainings, stop, queue, failure."""

from __future__ import annotations

import numpy as np
import pytest

from cifar_core import runs as R
from cifar_core.training import TrainConfig, TrainingJob, make_dataset, split_indices
from cifar_core.training.monitor import FAILED, FINISHED, STOPPED
from cifar_core.training.queue import JobManager, wait_for
from tests.conftest import wait_until

TINY = dict(model="deep", train_size=300, epochs=1, batch_size=64, seed=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "vgg"}, "Unknown model"),
        ({"optimizer": "lbfgs"}, "Unknown optimizer"),
        ({"epochs": 0}, "Epochs must be"),
        ({"learning_rate": 0}, "Learning rate"),
        ({"train_size": 10}, "at least 100"),
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_config_round_trip_and_key():
    cfg = TrainConfig(**TINY)
    assert TrainConfig.from_dict({**cfg.to_dict(), "unknown_future_key": 1}) == cfg
    assert cfg.key() == TrainConfig(**TINY).key() != TrainConfig(**{**TINY, "seed": 2}).key()
    assert cfg.split_sizes() == (240, 60)


def test_split_is_seeded_disjoint_and_checked():
    cfg = TrainConfig(train_size=1000, seed=5)
    train, val = split_indices(5085, cfg)
    assert (len(train), len(val)) == (800, 200)
    assert not set(train) & set(val)
    again, _ = split_indices(5085, cfg)
    assert np.array_equal(train, again)
    with pytest.raises(ValueError, match="only 5,085"):
        split_indices(5085, TrainConfig(train_size=6000))


def test_pipeline_scales_batches_and_one_hots(sample_data):
    idx = np.arange(10)
    ds = make_dataset(sample_data.x_train, sample_data.y_train, idx, batch_size=4)
    batches = list(ds.as_numpy_iterator())
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    x, y = batches[0]
    assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() <= 1.0
    assert np.allclose(x, sample_data.x_train[:4] / 255.0)
    assert np.array_equal(y.argmax(axis=1), sample_data.y_train[:4]) and y.shape == (4, 10)


def test_tiny_training_saves_everything(trained_store):
    (info,) = trained_store.list_runs()
    assert info.status == FINISHED
    run = trained_store.load(info.run_id)
    for name in (
        R.MODEL_FILE,
        R.WEIGHTS_FILE,
        R.BEST_WEIGHTS_FILE,
        R.ARCHITECTURE_FILE,
        R.PREDICTIONS_FILE,
    ):
        assert run.has(name), name
    assert len(run.history["epochs"]) == 1 and len(run.history["batches"]) == 4  # 240 / 64 → 4
    assert run.history["batches"][-1]["step"] == 4
    result = run.result
    assert result["n_test"] == 1017 and 0.0 <= result["test_accuracy"] <= 1.0
    assert np.array(result["confusion_matrix"]).sum() == 1017
    assert result["params"] == 1_676_842 and result["epochs_completed"] == 1
    preds = run.predictions()
    assert preds["test_probs"].shape == (1017, 10)
    assert preds["train_probs"].shape == (240, 10)
    assert np.allclose(preds["test_probs"].astype(np.float32).sum(axis=1), 1.0, atol=1e-2)


def test_saved_model_reloads_with_same_predictions(trained_store, sample_data):
    import keras

    run = trained_store.load(trained_store.list_runs()[0].run_id)
    model = keras.saving.load_model(run.path / R.MODEL_FILE, safe_mode=True)
    probs = model.predict_on_batch(sample_data.x_test[:8].astype(np.float32) / 255.0)
    saved = run.predictions()["test_probs"][:8].astype(np.float32)
    assert np.allclose(probs, saved, atol=2e-3)


@pytest.mark.slow
def test_stop_mid_run_keeps_what_was_learned(sample_data, tmp_store):
    job = TrainingJob(
        TrainConfig(**{**TINY, "train_size": 2000, "epochs": 5}), sample_data, tmp_store
    )
    JobManager(1).submit(job)
    wait_until(lambda: job.monitor.snapshot().steps_done >= 3)
    job.monitor.request_stop()
    assert wait_for(job, 120)
    snap = job.monitor.snapshot()
    assert snap.status == STOPPED
    assert snap.steps_done < snap.total_steps  # it did not run to the end
    run = tmp_store.load(job.run_id)
    # The note says exactly where it stopped: 1,600 images at batch 64 are 25 batches an epoch.
    spe = 25
    full, part = divmod(snap.steps_done, spe)
    if part == 0:
        expected = f"Stopped after {full} full epoch"
    elif full == 0:
        expected = f"Stopped during epoch 1 of 5: {part} of {spe} batches."
    else:
        expected = f"Stopped during epoch {full + 1} of 5: {full} full epoch"
    assert run.status["status"] == STOPPED and run.status["message"].startswith(expected)
    assert snap.message == run.status["message"]
    assert run.has(R.MODEL_FILE) and run.result["epochs_completed"] == 1


@pytest.mark.slow
def test_same_seed_same_result(sample_data, tmp_store):
    manager = JobManager(1)
    cfg = TrainConfig(**{**TINY, "model": "shallow", "train_size": 200})
    results = []
    for _ in range(2):
        job = manager.submit(TrainingJob(cfg, sample_data, tmp_store))
        assert wait_for(job, 120)
        results.append(tmp_store.load(job.run_id))
    assert results[0].history["epochs"][0]["loss"] == results[1].history["epochs"][0]["loss"]
    assert results[0].result["test_accuracy"] == results[1].result["test_accuracy"]


def test_error_after_start_marks_run_failed(sample_data, tmp_store, monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise MemoryError("simulated: not enough memory")

    monkeypatch.setattr(TrainingJob, "_summary", out_of_memory)
    job = JobManager(1).submit(
        TrainingJob(
            TrainConfig(**{**TINY, "model": "shallow", "train_size": 100}), sample_data, tmp_store
        )
    )
    assert wait_for(job, 120)
    snap = job.monitor.snapshot()
    assert snap.status == FAILED and "simulated: not enough memory" in snap.message
    (info,) = tmp_store.list_runs()
    assert info.status == FAILED
    assert "MemoryError" in tmp_store.load(info.run_id).status["message"]


def test_seeded_model_ignores_the_process_wide_seed():
    # Before: the job seeded Keras process-wide and then built the model, so another thread
    # (a second training, a look-inside call) could change a run's initial weights.
    import keras
    import numpy as np

    from cifar_core.models import build_model

    keras.utils.set_random_seed(1)
    first = build_model("deep", seed=7).get_weights()
    keras.utils.set_random_seed(12345)
    second = build_model("deep", seed=7).get_weights()
    other = build_model("deep", seed=8).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not np.array_equal(first[0], other[0])
    # Each layer draws from its own seed: no two kernels of the same shape are equal.
    kernels = [w for w in first if w.ndim > 1]
    assert not np.array_equal(kernels[0][..., :3, :], kernels[1][..., :3, :])


def test_shuffle_order_ignores_the_process_wide_seed(sample_data):
    import numpy as np
    import tensorflow as tf

    indices = np.arange(300)

    def epoch_orders():
        ds = make_dataset(sample_data.x_train, sample_data.y_train, indices, 64, shuffle_seed=3)
        return [np.concatenate([y.numpy().argmax(1) for _, y in ds]) for _ in range(2)]

    tf.random.set_seed(1)
    first = epoch_orders()
    tf.random.set_seed(999)
    second = epoch_orders()
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not np.array_equal(first[0], first[1])  # a new order every epoch
    ds = make_dataset(sample_data.x_train, sample_data.y_train, indices, 64, shuffle_seed=3)
    assert int(ds.cardinality()) == 5  # Keras still knows the epoch's length


@pytest.mark.slow
def test_same_seed_same_result_while_another_thread_reseeds(sample_data, tmp_store):
    import threading

    import keras

    stop = threading.Event()
    reseeds = []

    def reseed_all_the_time():  # what another session's training or look-inside did
        while not stop.is_set():
            keras.utils.set_random_seed(len(reseeds))
            reseeds.append(1)

    cfg = TrainConfig(**{**TINY, "model": "shallow", "train_size": 200})
    results = []
    for disturb in (False, True):
        noise = threading.Thread(target=reseed_all_the_time, daemon=True)
        if disturb:
            noise.start()
        job = JobManager(1).submit(TrainingJob(cfg, sample_data, tmp_store))
        assert wait_for(job, 120)
        if disturb:
            stop.set()
            noise.join(5)
        results.append(tmp_store.load(job.run_id))
    assert len(reseeds) > 10  # the other thread really reseeded while the run trained
    assert results[0].history["epochs"][0]["loss"] == results[1].history["epochs"][0]["loss"]
    assert results[0].result["test_accuracy"] == results[1].result["test_accuracy"]


def test_shuffle_is_a_fresh_seeded_permutation_per_pass_without_autotuning():
    """Every pass yields all rows once in a new order; the orders follow the seed only.

    Regression for the idle minute at epoch ends on the full data set: an autotuned
    iterator's teardown (Keras drops one at every epoch end and after every validation pass)
    could wait for its optimisation thread's next wake-up, up to 60 s away. The pipeline
    now runs without autotuning, so there is no such thread to wait for.
    """
    import tensorflow as tf

    n = 600
    images = np.zeros((n, 32, 32, 3), np.uint8)
    images[:, 0, 0, 0], images[:, 0, 0, 1] = np.arange(n) % 256, np.arange(n) // 256
    labels = np.arange(n) % 10
    indices = np.arange(1, n, 2)  # 300 rows, 5 batches of 64

    def one_pass(ds) -> np.ndarray:  # the rows a full pass read, in order
        pixels = [np.rint(x.numpy()[:, 0, 0, :2] * 255).astype(int) for x, _ in ds]
        return np.concatenate([p[:, 0] + 256 * p[:, 1] for p in pixels])

    def passes(seed: int, count: int, global_seed: int) -> tuple[object, list[np.ndarray]]:
        ds = make_dataset(images, labels, indices, 64, shuffle_seed=seed)
        orders = []
        for k in range(count):
            tf.random.set_seed(global_seed + k)  # what another session may do at any time
            orders.append(one_pass(ds))
        return ds, orders

    ds, first = passes(7, 3, global_seed=1)
    assert int(ds.cardinality()) == 5
    assert ds.options().autotune.enabled is False
    assert all(np.array_equal(np.sort(order), indices) for order in first)  # each row once
    assert len({order.tobytes() for order in first}) == 3  # a new order every pass
    _, again = passes(7, 3, global_seed=999)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(passes(8, 1, global_seed=1)[1][0], first[0])

    # As Keras uses it: iterators made and never read take no pass; a pass read only as far
    # as the epoch's batches (never to its end) still counts as one.
    ds = make_dataset(images, labels, indices, 64, shuffle_seed=7)
    unread = [iter(ds) for _ in range(3)]
    del unread
    assert np.array_equal(one_pass(ds), first[0])
    partial = iter(ds)
    next(partial)
    del partial
    assert np.array_equal(one_pass(ds), first[2])
