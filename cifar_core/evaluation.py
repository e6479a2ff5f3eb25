"""Evaluation: test metrics, confusion matrix, per-class accuracy and the result grid (numpy)."""

from __future__ import annotations

import numpy as np

from cifar_core.constants import NUM_CLASSES

CORRECT_RGB = (0, 150, 60)  # green frame: the model got it right
WRONG_RGB = (220, 20, 20)  # red frame: a mistake (the caption also says ✗, not colour alone)


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
