"""Training wiring: what TrainingJob really trains on, validates on, shuffles and seeds.

The unit tests of make_dataset and split_indices check the parts; these tests check that the job
connects them as promised, by watching a real TrainingJob: make_dataset is spied on and
keras.Model.fit is replaced by a recorder that keeps the model, the training data and the
validation data it was given and stops the job there (no training). Then the datasets are read
and compared with the real CIFAR-10 rows. A last, slow test trains for real and must clearly
beat chance.

Bugs these tests must catch (each checked by injecting it): different seeds giving the same
initial weights or the same seed different ones; the lab's augmentation silently dropped (or
seeded/parametrised wrongly); validation rows trained on; no reshuffling between epochs; a
training that learns nothing.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from cifar_core.augmentation import AugmentParams
from cifar_core.augmentation.params import LESSON_PRESET
from cifar_core.augmentation.pipeline import make_tf_augment
from cifar_core.training import (
    TrainConfig,
    TrainingJob,
    build_compiled,
    make_augment_fn,
    make_dataset,
    split_indices,
)
from cifar_core.training import job as training_job
from cifar_core.training.monitor import FAILED, FINISHED

WIRING = dict(model="shallow", train_size=400, epochs=2, batch_size=64, seed=5)


class _StopBeforeTraining(Exception):
    """Raised by the fit recorder: the job has wired everything, nothing needs to train."""


@pytest.fixture(autouse=True)
def _float32(monkeypatch: pytest.MonkeyPatch) -> None:
    # No precision calibration in these tests (it trains both nets for a few batches).
    monkeypatch.setenv("CIFAR_PRECISION", "float32")


@pytest.fixture
def watch_job(sample_data, tmp_store, monkeypatch):
    """Runs a TrainingJob up to model.fit; returns what it built, and the make_dataset calls."""
    import keras

    def watch(config: TrainConfig) -> dict:
        calls: list[dict] = []
        seen: dict = {"datasets": calls}
        real = training_job.make_dataset
        signature = inspect.signature(real)

        def spy(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            ds = real(*bound.args, **bound.kwargs)
            calls.append({**bound.arguments, "ds": ds})
            return ds

        def fit(model, x=None, y=None, **kwargs):
            seen.update(model=model, x=x, y=y, **kwargs)
            raise _StopBeforeTraining("recorded")

        monkeypatch.setattr(training_job, "make_dataset", spy)  # what the job calls
        monkeypatch.setattr(keras.Model, "fit", fit)
        job = TrainingJob(config, sample_data, tmp_store)
        job.run()
        snap = job.monitor.snapshot()
        assert snap.status == FAILED and "_StopBeforeTraining" in snap.message, snap.message
        return seen

    return watch


@pytest.fixture(scope="module")
def row_of(sample_data) -> dict[bytes, int]:
    """Training-split row number of every image, by its bytes (the sample has no duplicates)."""
    keys = {image.tobytes(): i for i, image in enumerate(sample_data.x_train)}
    assert len(keys) == len(sample_data.x_train)
    return keys


def read_pass(ds) -> tuple[np.ndarray, np.ndarray]:
    """One full pass of a pipeline: float images (N, 32, 32, 3) and integer labels (N,)."""
    xs, ys = zip(*((x.numpy(), y.numpy()) for x, y in ds), strict=True)
    return np.concatenate(xs), np.concatenate(ys).argmax(axis=1)


def rows_read(images: np.ndarray, row_of: dict[bytes, int]) -> np.ndarray:
    """Which training rows a pass of un-augmented float images [0, 1] showed, in order."""
    as_uint8 = np.rint(images * 255).astype(np.uint8)
    rows = [row_of.get(image.tobytes(), -1) for image in as_uint8]
    assert -1 not in rows, "a pass showed images that are no training row as stored (changed?)"
    return np.array(rows)


def plain_pass(data, indices: np.ndarray, batch_size: int, shuffle_seed=None):
    return read_pass(make_dataset(data.x_train, data.y_train, indices, batch_size, shuffle_seed))


# --- (a) seeds -------------------------------------------------------------------------------


def test_initial_weights_and_dropout_follow_the_config_seed() -> None:
    import keras

    def built(seed: int, global_seed: int):
        keras.utils.set_random_seed(global_seed)  # what another session may do at any time
        return build_compiled(TrainConfig(**{**WIRING, "seed": seed}))

    first, again, other = built(1, 10), built(1, 20), built(2, 10)
    for a, b, c in zip(first.get_weights(), again.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # same seed: the same network
        if a.ndim > 1:  # every kernel (biases start at zero whatever the seed)
            assert not np.array_equal(a, c)
    x = np.random.default_rng(0).random((8, 32, 32, 3), dtype=np.float32)
    masked = [np.asarray(m(x, training=True)) for m in (first, again, other)]
    np.testing.assert_array_equal(masked[0], masked[1])  # the same dropout masks
    assert not np.allclose(masked[0], masked[2])


def test_split_follows_the_config_seed() -> None:
    one = split_indices(5085, TrainConfig(train_size=1000, seed=1))
    two = split_indices(5085, TrainConfig(train_size=1000, seed=2))
    assert not np.array_equal(one[0], two[0]) and not np.array_equal(one[1], two[1])


def test_the_job_builds_the_model_of_its_seed(watch_job) -> None:
    config = TrainConfig(**WIRING)
    model = watch_job(config)["model"]
    expected = build_compiled(config).get_weights()
    for a, b in zip(model.get_weights(), expected, strict=True):
        np.testing.assert_array_equal(a, b)
    other = build_compiled(TrainConfig(**{**WIRING, "seed": 6})).get_weights()
    assert not np.array_equal(model.get_weights()[0], other[0])


# --- (b) the lab's augmentation reaches training ---------------------------------------------


def test_augment_fn_is_the_labs_augmentation_with_the_run_seed(sample_data) -> None:
    config = TrainConfig(**{**WIRING, "augment": LESSON_PRESET.to_dict()})
    augment = make_augment_fn(config)
    assert augment is not None
    rows = np.arange(64)
    plain, labels = plain_pass(sample_data, rows, 64)
    ds = make_dataset(sample_data.x_train, sample_data.y_train, rows, 64, None, augment)
    augmented, augmented_labels = read_pass(ds)
    np.testing.assert_array_equal(augmented_labels, labels)
    change = np.abs(augmented - plain).mean(axis=(1, 2, 3))
    assert (change > 0.01).mean() > 0.9, "most training images must be augmented"
    # Exactly the Augmentation lab's transform (tests/test_oracle_augmentation.py checks that
    # one against the legacy ImageDataGenerator), drawn from the run's seed.
    lab = make_tf_augment(LESSON_PRESET, seed=config.seed)(plain).numpy()
    np.testing.assert_allclose(augmented, lab, atol=1e-5)  # graph vs eager float rounding
    other = make_augment_fn(TrainConfig(**{**WIRING, "seed": 6, "augment": config.augment}))
    ds = make_dataset(sample_data.x_train, sample_data.y_train, rows, 64, None, other)
    assert not np.allclose(read_pass(ds)[0], augmented, atol=1e-3)


def test_no_augmentation_means_none() -> None:
    assert make_augment_fn(TrainConfig(**WIRING)) is None
    identity = AugmentParams(fill_mode="reflect").to_dict()
    assert make_augment_fn(TrainConfig(**{**WIRING, "augment": identity})) is None


def test_the_job_trains_on_augmented_batches_and_validates_on_plain_ones(
    watch_job, sample_data, row_of
) -> None:
    config = TrainConfig(**{**WIRING, "augment": LESSON_PRESET.to_dict()})
    seen = watch_job(config)
    train_idx, val_idx = split_indices(len(sample_data.x_train), config)
    # The data fit trains on: the shuffled training rows, each augmented by the lab's transform.
    trained, labels = read_pass(seen["x"])
    # The same shuffle without augmentation: the rows the job's first pass must show.
    plain, plain_labels = plain_pass(sample_data, train_idx, config.batch_size, config.seed)
    order = rows_read(plain, row_of)
    np.testing.assert_array_equal(labels, plain_labels)
    np.testing.assert_array_equal(np.sort(order), train_idx)
    change = np.abs(trained - plain).mean(axis=(1, 2, 3))
    assert (change > 0.01).mean() > 0.9, "the job dropped the augmentation"
    augment = make_tf_augment(LESSON_PRESET, seed=config.seed)
    expected = np.concatenate(
        [
            augment(plain[i : i + config.batch_size]).numpy()
            for i in range(0, len(plain), config.batch_size)
        ]
    )
    np.testing.assert_allclose(trained, expected, atol=1e-5)  # graph vs eager float rounding
    # Validation: exactly the held-out rows, in order, never augmented.
    val_images, val_labels = read_pass(seen["validation_data"])
    np.testing.assert_array_equal(rows_read(val_images, row_of), val_idx)
    np.testing.assert_array_equal(val_labels, sample_data.y_train[val_idx])


# --- (c) validation rows are never trained on ------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(train_size=1000, seed=5),
        dict(train_size=5085, val_split=0.1, seed=0),
        dict(train_size=123, val_split=0.5, seed=9),
    ],
)
def test_split_is_disjoint_and_complete(kwargs: dict) -> None:
    config = TrainConfig(**kwargs)
    train_idx, val_idx = split_indices(5085, config)
    assert (len(train_idx), len(val_idx)) == config.split_sizes()
    assert len(np.unique(train_idx)) == len(train_idx) and len(np.unique(val_idx)) == len(val_idx)
    assert not np.intersect1d(train_idx, val_idx).size
    both = np.concatenate([train_idx, val_idx])
    assert both.min() >= 0 and both.max() < 5085


def test_the_job_trains_and_validates_on_the_split_rows_only(watch_job, sample_data, row_of):
    config = TrainConfig(**WIRING)
    seen = watch_job(config)
    train_idx, val_idx = split_indices(len(sample_data.x_train), config)
    trained_images, trained_labels = read_pass(seen["x"])
    trained_rows = rows_read(trained_images, row_of)
    np.testing.assert_array_equal(np.sort(trained_rows), train_idx)  # each training row once
    np.testing.assert_array_equal(trained_labels, sample_data.y_train[trained_rows])
    val_images, val_labels = read_pass(seen["validation_data"])
    val_rows = rows_read(val_images, row_of)
    np.testing.assert_array_equal(val_rows, val_idx)
    np.testing.assert_array_equal(val_labels, sample_data.y_train[val_rows])
    assert not np.intersect1d(trained_rows, val_rows).size
    assert seen["epochs"] == config.epochs


# --- (d) a new order every epoch -------------------------------------------------------------


def test_the_job_reshuffles_every_epoch(watch_job, sample_data, row_of) -> None:
    config = TrainConfig(**WIRING)
    seen = watch_job(config)
    train_idx, _ = split_indices(len(sample_data.x_train), config)
    orders = [rows_read(read_pass(seen["x"])[0], row_of) for _ in range(3)]  # three epochs
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), train_idx)  # a permutation of the rows
        assert not np.array_equal(order, train_idx)  # not the split's sorted order
    assert len({order.tobytes() for order in orders}) == 3  # a new order every epoch
    # The order follows the run's seed: another seed, another order.
    other, _ = plain_pass(sample_data, train_idx, config.batch_size, config.seed + 1)
    assert not np.array_equal(rows_read(other, row_of), orders[0])


# --- (e) it learns -------------------------------------------------------------------------


@pytest.mark.slow
def test_short_real_training_clearly_beats_chance(sample_data, tmp_store) -> None:
    """Shallow net, 2,000 real images (1,600 trained on), 3 epochs, about 5 s.

    Measured with seeds 1-6: test accuracy 0.30-0.41 (chance: 0.10; the largest class of the
    1,017 test images is 11 %). Wrong labels, no learning or a broken pipeline stay near 0.10.
    """
    config = TrainConfig(model="shallow", train_size=2000, epochs=3, batch_size=32, seed=1)
    job = TrainingJob(config, sample_data, tmp_store)
    job.run()
    snap = job.monitor.snapshot()
    assert snap.status == FINISHED, snap.message
    result = tmp_store.load(job.run_id).result
    assert (result["n_train"], result["n_val"]) == (1600, 400)
    assert result["test_accuracy"] >= 0.25, result["test_accuracy"]
    losses = [epoch["loss"] for epoch in snap.epochs]
    assert len(losses) == 3 and losses[-1] < losses[0]
    # The result names the epoch with the best validation accuracy (1-based) and its value.
    val_accs = [epoch["val_accuracy"] for epoch in snap.epochs]
    assert result["best_epoch"] == int(np.argmax(val_accs)) + 1
    assert result["best_val_accuracy"] == max(val_accs)
