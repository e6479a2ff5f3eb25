"""Evaluation helpers, checked against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

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


# --- learning_problem: a run that learned nothing must not look like any other ----------------


def guessing_result(sample_data, answer: int = 2, n_train: int = 800) -> dict:
    """The result of a run that says `answer` for every real test image (as a dead net does)."""
    y = sample_data.y_test.astype(np.int64)
    probs = np.full((len(y), 10), 0.05)
    probs[:, answer] = 0.55
    result = E.summarize_predictions(probs, y)
    return {
        **result,
        "class_names": list(sample_data.class_names),
        "n_train": n_train,
        "epochs_completed": 2,
    }


def learned_result(sample_data, right: float = 0.6) -> dict:
    """A run that gets about `right` of the real test images right, its mistakes spread out."""
    y = sample_data.y_test.astype(np.int64)
    rng = np.random.default_rng(0)
    pred = np.where(rng.random(len(y)) < right, y, rng.integers(0, 10, len(y)))
    probs = np.full((len(y), 10), 0.02)
    probs[np.arange(len(y)), pred] = 0.82
    return {
        **E.summarize_predictions(probs, y),
        "class_names": list(sample_data.class_names),
        "n_train": 4000,
        "epochs_completed": 3,
    }


FLAT = [
    {"epoch": 1, "loss": 2.30, "val_accuracy": 0.12},
    {"epoch": 2, "loss": 2.29, "val_accuracy": 0.11},
]
RISING = [{"epoch": e, "loss": 2.0 - e / 5, "val_accuracy": 0.3 + e / 10} for e in (1, 2, 3)]


def test_a_run_that_answers_one_class_is_flagged_with_what_to_change(sample_data):
    result = guessing_result(sample_data)
    share_birds = float(np.mean(sample_data.y_test == 2))
    assert result["test_accuracy"] == share_birds  # only the birds are right
    problem = E.learning_problem(result, FLAT)
    assert problem is not None and E.is_guessing(result, FLAT)
    assert problem.startswith("This run did not learn to tell the classes apart.")
    assert f"{share_birds:.1%}" in problem and "guessing" in problem
    assert "“bird” for every test image" in problem
    assert "No later epoch beat the first epoch's validation accuracy (12.0%)" in problem
    assert "more images or for more epochs (this one: 800 images × 2 epochs)" in problem
    assert "learning rate" in problem


def test_a_run_that_learned_is_not_flagged(sample_data):
    result = learned_result(sample_data)
    assert result["test_accuracy"] > 0.5
    assert E.learning_problem(result, RISING) is None
    assert not E.is_guessing(result, RISING)


def test_near_chance_threshold_is_chance_plus_five_points():
    spread = (np.ones((10, 10)) * 10).tolist()  # answers spread evenly: no "one class"
    at, above = (
        {"test_accuracy": 0.15, "confusion_matrix": spread},
        {"test_accuracy": 0.16, "confusion_matrix": spread},
    )
    assert set(E.learning_findings(at, [])) == {"chance"}
    assert E.learning_findings(above, []) == {}
    two_classes = {"test_accuracy": 0.54, "confusion_matrix": [[30, 20], [26, 24]]}
    assert set(E.learning_findings(two_classes, [])) == {"chance"}  # chance is 1/2 here


def test_almost_one_class_counts_from_the_threshold():
    m = np.zeros((10, 10), int)
    m[:, 6] = 80  # 800 of the 1,000 answers are "frog"
    for i in range(10):
        m[i, 7 if (i + 1) % 10 == 6 else (i + 1) % 10] += 20  # the rest elsewhere
    assert m.sum() == 1000 and m[:, 6].sum() == 800
    found = E.learning_findings({"test_accuracy": 0.28, "confusion_matrix": m.tolist()}, [])
    assert set(found) == {"one_class"} and "“frog” for 80% of the test images" in found["one_class"]
    m[0, 6] -= 1  # 799: just under the threshold
    m[0, 0] += 1
    assert E.learning_findings({"test_accuracy": 0.28, "confusion_matrix": m.tolist()}, []) == {}


def test_no_progress_after_the_first_epoch_is_not_called_guessing(sample_data):
    result = learned_result(sample_data, 0.45)
    epochs = [
        {"epoch": 1, "val_accuracy": 0.47},
        {"epoch": 2, "val_accuracy": 0.44},
        {"epoch": 3, "val_accuracy": float("nan")},
    ]
    problem = E.learning_problem(result, epochs)
    assert problem.startswith("This run stopped improving after its first epoch.")
    assert "(47.0%)" in problem and not E.is_guessing(result, epochs)
    assert "more training images" in problem
    assert E.learning_problem(result, epochs[:1]) is None  # one epoch: nothing to compare


def test_a_diverged_run_is_told_to_lower_the_learning_rate(sample_data):
    result = {**guessing_result(sample_data, answer=0), "test_loss": float("nan")}
    epochs = [{"epoch": 1, "loss": float("nan"), "val_accuracy": 0.1}]
    problem = E.learning_problem(result, epochs, {"learning_rate": 0.1, "optimizer": "adam"})
    assert "NaN" in problem and "smaller learning rate" in problem
    assert "more epochs" not in problem  # more of a diverging run does not help


@pytest.mark.parametrize(
    ("optimizer", "lr", "expected"),
    [
        ("sgd", 0.001, "Try a larger learning rate: 0.001 is small for this optimizer; 0.01"),
        ("rmsprop", 0.03, "Try a smaller learning rate: 0.03 is large for this optimizer; 0.001"),
        ("rmsprop", 0.001, "Try a different learning rate"),
    ],
)
def test_learning_rate_advice_follows_the_config(sample_data, optimizer, lr, expected):
    config = {"optimizer": optimizer, "learning_rate": lr}
    assert expected in E.learning_problem(guessing_result(sample_data), FLAT, config)
