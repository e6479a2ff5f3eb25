"""BestWeights: the lesson's ModelCheckpoint(save_best_only) rule, kept in memory.

The job writes best.weights.h5 once, at saving (tests/test_training_edges.py checks the file
scores the best validation epoch on a real run); these pin the rule itself on a tiny model.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from cifar_core.training.callbacks import BestWeights  # noqa: E402


@pytest.fixture()
def tracked():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    best = BestWeights("val_accuracy")
    best.set_model(model)
    return model, best


def _set(model, value: float) -> None:
    model.set_weights([np.full(w.shape, value, dtype=np.float32) for w in model.get_weights()])


def test_keeps_the_first_scored_epoch_and_only_strictly_better_ones(tracked) -> None:
    model, best = tracked
    assert best.weights is None and best.epoch is None
    for epoch, (value, accuracy) in enumerate([(1.0, 0.3), (2.0, 0.5), (3.0, 0.5), (4.0, 0.4)]):
        _set(model, value)
        best.on_epoch_end(epoch, {"val_accuracy": accuracy, "val_loss": 9.0})
    # epoch 2 (0.5) is not beaten by epoch 3's equal 0.5, as ModelCheckpoint's np.greater
    assert best.epoch == 2 and best.accuracy == 0.5
    assert all(np.all(w == 2.0) for w in best.weights)


def test_the_kept_weights_are_a_copy_not_the_live_variables(tracked) -> None:
    model, best = tracked
    _set(model, 1.0)
    best.on_epoch_end(0, {"val_accuracy": 0.2})
    _set(model, 7.0)  # training goes on
    assert all(np.all(w == 1.0) for w in best.weights)


@pytest.mark.parametrize("logs", [None, {}, {"accuracy": 0.9}, {"val_accuracy": math.nan}])
def test_an_epoch_without_a_validation_accuracy_keeps_what_was_kept(tracked, logs) -> None:
    model, best = tracked
    _set(model, 1.0)
    best.on_epoch_end(0, {"val_accuracy": 0.1})
    _set(model, 5.0)
    best.on_epoch_end(1, logs)
    assert best.epoch == 1 and all(np.all(w == 1.0) for w in best.weights)


def test_nothing_scored_means_nothing_kept(tracked) -> None:
    _, best = tracked
    best.on_epoch_end(0, {"val_accuracy": math.nan})
    assert best.weights is None and best.epoch is None
