"""Evaluation helpers, checked against hand computations."""

from __future__ import annotations

import math

import numpy as np

from cifar_core import evaluation as E


def test_confusion_and_per_class_by_hand():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 0, 2])
    m = E.confusion_matrix(y_true, y_pred, 4)
    assert m.tolist() == [[2, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    acc = E.per_class_accuracy(m)
    assert acc[:3].tolist() == [2 / 3, 0.5, 1.0] and math.isnan(acc[3])


def test_cross_entropy_and_summary():
    probs = np.array([[0.5, 0.5], [0.25, 0.75]])
    y = np.array([0, 1])
    assert math.isclose(E.cross_entropy(probs, y), -(math.log(0.5) + math.log(0.75)) / 2)
    s = E.summarize_predictions(probs, y)
    # argmax breaks the first row's tie towards class 0, which is right; the second is right too
    assert s["test_accuracy"] == 1.0 and s["confusion_matrix"] == [[1, 0], [0, 1]]


def test_summary_on_clear_predictions():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    s = E.summarize_predictions(probs, np.array([0, 1, 1]))
    assert s["test_accuracy"] == 2 / 3
    assert s["confusion_matrix"] == [[1, 0], [1, 1]]
    assert s["per_class_accuracy"] == [1.0, 0.5]


def test_grid_mixes_mistakes_and_is_seeded():
    y_true = np.zeros(100, dtype=int)
    y_pred = np.zeros(100, dtype=int)
    y_pred[:5] = 1  # only five mistakes exist
    grid = E.pick_grid(y_true, y_pred, 24, seed=3)
    assert len(grid) == 24 and len(set(grid.tolist())) == 24
    assert set(range(5)) <= set(grid.tolist())  # all mistakes shown
    assert np.array_equal(grid, E.pick_grid(y_true, y_pred, 24, seed=3))
    assert len(E.pick_grid(y_true[:10], y_pred[:10], 24)) == 10


def test_framed_marks_with_colour():
    img = np.full((32, 32, 3), 7, np.uint8)
    out = E.framed(img, correct=False, scale=2, border=1)
    assert out.shape == (66, 66, 3)
    assert tuple(out[0, 0]) == E.WRONG_RGB and tuple(out[1, 1]) == (7, 7, 7)
    assert tuple(E.framed(img, correct=True)[0, 0]) == E.CORRECT_RGB
