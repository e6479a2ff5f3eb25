"""Evaluation: test metrics, confusion matrix, per-class accuracy, result grid, did it learn."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cifar_core.constants import (
    CLASS_NAMES,
    CORRECT_RGB,
    GOOD_START_LR,
    NEAR_CHANCE_MARGIN,
    NUM_CLASSES,
    ONE_CLASS_SHARE,
    WRONG_RGB,
)


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = NUM_CLASSES
) -> np.ndarray:
    """Counts[i, j] = how many images of true class i were predicted as class j."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return counts


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Recall per true class (NaN for a class with no test images)."""
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / np.maximum(totals, 1), np.nan)


def cross_entropy(probs: np.ndarray, y_true: np.ndarray) -> float:
    """Mean categorical cross-entropy of predicted probabilities (what Keras reports as loss)."""
    eps = 1e-7  # Keras clips probabilities the same way before taking the log
    p_true = np.clip(probs[np.arange(len(y_true)), y_true].astype(np.float64), eps, 1 - eps)
    return float(-np.log(p_true).mean())


def summarize_predictions(probs: np.ndarray, y_true: np.ndarray) -> dict:
    """Test loss, accuracy, confusion matrix and per-class accuracy from probabilities.

    Args:
        probs: (N, 10) softmax outputs.
        y_true: (N,) integer labels.

    Returns:
        A JSON-ready dict.
    """
    y_pred = probs.argmax(axis=1)
    matrix = confusion_matrix(y_true, y_pred, probs.shape[1])
    return {
        "test_loss": cross_entropy(probs, y_true),
        "test_accuracy": float((y_pred == y_true).mean()) if len(y_true) else float("nan"),
        "n_test": int(len(y_true)),
        "confusion_matrix": matrix.tolist(),
        "per_class_accuracy": [float(a) for a in per_class_accuracy(matrix)],
    }


def pick_grid(y_true: np.ndarray, y_pred: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Indices of test images for the result grid: a fixed random sample, mistakes included.

    Half the grid (or as many as exist) shows mistakes, so there is always something to
    discuss; the rest are correct predictions. Same seed → same grid.
    """
    rng = np.random.default_rng(seed)
    wrong = np.flatnonzero(y_true != y_pred)
    right = np.flatnonzero(y_true == y_pred)
    n_wrong = min(len(wrong), size // 2)
    n_right = min(len(right), size - n_wrong)
    n_wrong = min(len(wrong), size - n_right)
    chosen = np.concatenate(
        [rng.choice(wrong, n_wrong, replace=False), rng.choice(right, n_right, replace=False)]
    )
    return np.sort(chosen).astype(np.int64)


def framed(image: np.ndarray, correct: bool, scale: int = 3, border: int = 3) -> np.ndarray:
    """Upscale a 32×32 image (nearest neighbour, so pixels stay visible) inside a coloured frame."""
    big = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    colour = np.array(CORRECT_RGB if correct else WRONG_RGB, dtype=np.uint8)
    h, w = big.shape[:2]
    out = np.empty((h + 2 * border, w + 2 * border, 3), dtype=np.uint8)
    out[:] = colour
    out[border : border + h, border : border + w] = big
    return out


# --- Did the run learn anything? --------------------------------------------------------------

# Its thresholds (NEAR_CHANCE_MARGIN, ONE_CLASS_SHARE, GOOD_START_LR) are in constants.
# Findings that mean the run's per-class numbers describe guessing, not learning.
GUESSING_KINDS = frozenset({"chance", "one_class", "diverged"})


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def learning_findings(result: Mapping[str, Any], epochs: Sequence[Mapping[str, Any]]) -> dict:
    """What in a run's result says it learned (almost) nothing, kind → one sentence.

    Kinds: "chance" (test accuracy within NEAR_CHANCE_MARGIN of guessing), "one_class" (at
    least ONE_CLASS_SHARE of the test images get the same answer), "diverged" (a loss that is
    not a number) and "no_progress" (no later epoch beat the first epoch's validation accuracy).

    Args:
        result: a run's result.json (test_accuracy, test_loss, confusion_matrix, class_names).
        epochs: the run's per-epoch history (val_accuracy, loss).

    Returns:
        {} when nothing is wrong, else the findings in the order above.
    """
    found: dict[str, str] = {}
    matrix = np.asarray(result.get("confusion_matrix") or [], dtype=np.int64)
    n_classes = len(matrix) or NUM_CLASSES
    chance = 1 / n_classes
    accuracy = result.get("test_accuracy")
    if _finite(accuracy) and accuracy <= chance + NEAR_CHANCE_MARGIN:
        found["chance"] = (
            f"Its test accuracy, {accuracy:.1%}, is about what guessing scores "
            f"({chance:.0%} with {n_classes} classes)."
        )
    if matrix.ndim == 2 and matrix.sum() > 0:
        answers = matrix.sum(axis=0)  # how often each class was the answer
        top = int(answers.argmax())
        share = answers[top] / answers.sum()
        if share >= ONE_CLASS_SHARE:
            names = result.get("class_names") or CLASS_NAMES
            name = names[top] if top < len(names) else str(top)
            how_many = "every test image" if share == 1 else f"{share:.0%} of the test images"
            found["one_class"] = f"It answered “{name}” for {how_many}."
    losses = [result.get("test_loss"), *(e.get("loss") for e in epochs)]
    if any(isinstance(v, float) and not math.isfinite(v) for v in losses):
        found["diverged"] = (
            "Its loss became NaN or infinite: the weights blew up (the training diverged)."
        )
    vals = [e.get("val_accuracy") for e in epochs]
    vals = [v for v in vals if _finite(v)]
    if len(vals) >= 2 and max(vals[1:]) <= vals[0]:
        found["no_progress"] = (
            f"No later epoch beat the first epoch's validation accuracy ({vals[0]:.1%})."
        )
    return found


def is_guessing(result: Mapping[str, Any], epochs: Sequence[Mapping[str, Any]]) -> bool:
    """True when the run's confusion matrix and per-class accuracy describe guessing."""
    return bool(GUESSING_KINDS & learning_findings(result, epochs).keys())


def _lr_advice(found: Mapping[str, str], config: Mapping[str, Any] | None) -> str:
    """What to do with the learning rate, as specific as the config allows."""
    lr = (config or {}).get("learning_rate")
    optimizer = (config or {}).get("optimizer")
    good = GOOD_START_LR.get(optimizer) if optimizer else None
    if "diverged" in found:
        return "Use a smaller learning rate (try 10 times smaller): the steps were too big."
    if _finite(lr) and good is not None and not math.isclose(lr, good):
        way = "smaller" if lr > good else "larger"
        return (
            f"Try a {way} learning rate: {lr:g} is {'large' if lr > good else 'small'} for "
            f"this optimizer; {good:g} is a good start."
        )
    return (
        "Try a different learning rate: too large and the network jumps past good weights "
        "(it often ends up answering one class); too small and it barely moves in a short run."
    )


def learning_problem(
    result: Mapping[str, Any],
    epochs: Sequence[Mapping[str, Any]],
    config: Mapping[str, Any] | None = None,
) -> str | None:
    """A warning for a run that learned (almost) nothing, with what to change; None if it learned.

    Flags a test accuracy near chance (≤ 15% for 10 classes), (almost) one answer for every
    image, a loss that blew up, or no epoch better than the first on validation. Pure: reads
    only its arguments.

    Args:
        result: the run's result.json (test_accuracy, test_loss, confusion_matrix,
            class_names, n_train, epochs_completed).
        epochs: the run's per-epoch history (history.json "epochs": val_accuracy, loss).
        config: the run's config (learning_rate, optimizer), for specific learning-rate advice.

    Returns:
        Plain-text sentences (no markdown): what happened, then what to change; or None.
    """
    found = learning_findings(result, epochs)
    if not found:
        return None
    guessing = bool(GUESSING_KINDS & found.keys())
    headline = (
        "This run did not learn to tell the classes apart."
        if guessing
        else "This run stopped improving after its first epoch."
    )
    advice = []
    n_train = result.get("n_train")
    n_epochs = result.get("epochs_completed", len(epochs))
    if guessing and "diverged" not in found:
        budget = (
            f" (this one: {n_train:,} images × {n_epochs} epoch{'s' if n_epochs != 1 else ''})"
            if isinstance(n_train, int) and isinstance(n_epochs, int)
            else ""
        )
        advice.append(f"Train on more images or for more epochs{budget}.")
    advice.append(_lr_advice(found, config))
    if not guessing:
        advice.append(
            "If training accuracy kept rising meanwhile, the network was overfitting its "
            "training images: "
            "more training images (or augmentation) help."
        )
    return " ".join([headline, *found.values(), "What to change:", *advice])
