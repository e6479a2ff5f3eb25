"""Mistakes: which test images a run got wrong, how sure it was, and which classes it mixes up.

Everything here works from a run's saved predictions (`Run.predictions()`: test_probs (N, C)
float16/float32 and test_labels (N,) int) with plain, vectorised numpy: no model, no
TensorFlow, and every call takes a few milliseconds on the full 10,000-image test split.
A prediction is the class with the highest probability (the first one on a tie, as
`evaluation.summarize_predictions` counts it), so the cells here match the run's confusion
matrix computed from the same probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cifar_core.constants import TOP_K

MISTAKE_ORDERS = ("true", "predicted")  # what `mistakes(class_filter=…)` filters on


# slots: three times faster to create, which counts when a list holds thousands of them.
@dataclass(frozen=True, slots=True)
class Example:
    """One test image with what the network answered.

    Attributes:
        index: position in the test split (the row of test_probs).
        true: the true class.
        predicted: the class with the highest probability.
        confidence: the probability of the predicted class.
        true_probability: the probability the network gave the true class.
        top3: the TOP_K most likely classes as (class index, probability), highest first.
    """

    index: int
    true: int
    predicted: int
    confidence: float
    true_probability: float
    top3: tuple[tuple[int, float], ...]

    @property
    def correct(self) -> bool:
        """Whether the prediction is the true class."""
        return self.predicted == self.true


# --- Input checks -----------------------------------------------------------------------------


def check_same_length(*arrays: np.ndarray) -> None:
    """A clear ValueError when arrays that describe the same test images differ in length."""
    lengths = {len(a) for a in arrays}
    if len(lengths) > 1:
        raise ValueError(f"Arrays of different lengths {sorted(lengths)}: not the same test set.")


def check_predictions(probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and labels of one test split, checked and converted.

    Args:
        probs: (N, C) probabilities (float16 as saved, or float32; NaN rows of a diverged
            run are allowed).
        labels: (N,) integer true classes in 0…C-1.

    Returns:
        (probs as float32 (N, C), labels as int64 (N,)).

    Raises:
        ValueError: shapes disagree, labels are not integers or a label is out of range.
    """
    probs, labels = np.asarray(probs), np.asarray(labels)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(f"Expected probabilities of shape (N, classes), got {probs.shape}.")
    if labels.ndim != 1 or len(labels) != len(probs):
        raise ValueError(
            f"Labels of shape {labels.shape} do not match probabilities of shape "
            f"{probs.shape}: expected ({len(probs)},), one label per image."
        )
    if len(labels) and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"Labels must be integer class indices, got dtype {labels.dtype}.")
    if len(labels) and (labels.min() < 0 or labels.max() >= probs.shape[1]):
        bad = labels[(labels < 0) | (labels >= probs.shape[1])][0]
        raise ValueError(f"Label {bad} is out of range: classes are 0…{probs.shape[1] - 1}.")
    # float32 once: numpy has no fast float16 arithmetic, and float32 holds float16 exactly.
    return probs.astype(np.float32, copy=False), labels.astype(np.int64, copy=False)


def _check_class(value: int, num_classes: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{what} must be a class index (an int), got {value!r}.")
    if not 0 <= value < num_classes:
        raise ValueError(f"{what} {value} is out of range: classes are 0…{num_classes - 1}.")
    return int(value)


def _check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or limit < 0):
        raise ValueError(f"limit must be None or a count ≥ 0, got {limit!r}.")


# --- Predictions and examples -----------------------------------------------------------------


def predicted_classes(probs: np.ndarray) -> np.ndarray:
    """The class with the highest probability for each image: (N, C) → (N,) int64."""
    return np.asarray(probs).argmax(axis=1).astype(np.int64)


def _examples(
    probs: np.ndarray, labels: np.ndarray, pred: np.ndarray, chosen: np.ndarray, limit: int | None
) -> list[Example]:
    # Most confident first; a stable sort of ascending indices breaks ties by index.
    confidence = probs[chosen, pred[chosen]]
    order = chosen[np.argsort(-confidence, kind="stable")][:limit]
    rows = probs[order]  # (k, C): only the images returned
    top = np.argsort(-rows, axis=1, kind="stable")[:, :TOP_K]  # (k, TOP_K)
    top_p = np.take_along_axis(rows, top, axis=1)
    true, predicted = labels[order], pred[order]
    k = np.arange(len(order))
    # Python numbers (tolist) and zip/map, not a loop over numpy scalars: thousands of
    # Examples (every mistake of a weak run) still take a few milliseconds.
    ranked = [
        zip(top[:, j].tolist(), top_p[:, j].tolist(), strict=True) for j in range(top.shape[1])
    ]  # one (class, probability) column per rank
    top3 = zip(*ranked, strict=True)  # → one tuple of TOP_K pairs per image
    columns = (order, true, predicted, rows[k, predicted], rows[k, true])
    return list(map(Example, *(c.tolist() for c in columns), top3))


def cell_examples(
    probs: np.ndarray,
    labels: np.ndarray,
    true_class: int,
    predicted_class: int,
    limit: int | None = None,
) -> list[Example]:
    """The test images behind one confusion-matrix cell, most confident first.

    For an off-diagonal cell these are the most confident mistakes first (the most
    instructive ones: the network was sure and wrong); for a diagonal cell, the most
    confident right answers first.

    Args:
        probs: (N, C) test probabilities.
        labels: (N,) true classes.
        true_class: the cell's row.
        predicted_class: the cell's column.
        limit: return at most this many (None: all).

    Returns:
        Examples ordered by confidence (highest first), ties by index.

    Raises:
        ValueError: bad shapes, a class out of range or a negative limit.
    """
    probs, labels = check_predictions(probs, labels)
    true_class = _check_class(true_class, probs.shape[1], "true_class")
    predicted_class = _check_class(predicted_class, probs.shape[1], "predicted_class")
    _check_limit(limit)
    pred = predicted_classes(probs)
    chosen = np.flatnonzero((labels == true_class) & (pred == predicted_class))
    return _examples(probs, labels, pred, chosen, limit)


def mistakes(
    probs: np.ndarray,
    labels: np.ndarray,
    class_filter: int | None = None,
    limit: int | None = None,
    by: str = "true",
) -> list[Example]:
    """Every wrong prediction, most confident first.

    Args:
        probs: (N, C) test probabilities.
        labels: (N,) true classes.
        class_filter: keep only the mistakes whose true class (by="true") or predicted
            class (by="predicted") is this class; None keeps all.
        limit: return at most this many (None: all).
        by: "true" or "predicted": which class `class_filter` looks at.

    Returns:
        Examples ordered by confidence (highest first), ties by index.

    Raises:
        ValueError: bad shapes, a class out of range, an unknown `by` or a negative limit.
    """
    probs, labels = check_predictions(probs, labels)
    if by not in MISTAKE_ORDERS:
        raise ValueError(f"by must be one of {', '.join(MISTAKE_ORDERS)}, got {by!r}.")
    _check_limit(limit)
    pred = predicted_classes(probs)
    keep = pred != labels
    if class_filter is not None:
        class_filter = _check_class(class_filter, probs.shape[1], "class_filter")
        keep &= (labels if by == "true" else pred) == class_filter
    return _examples(probs, labels, pred, np.flatnonzero(keep), limit)


# --- Cells and pairs of the confusion matrix --------------------------------------------------


def cell_indices(
    y_true: np.ndarray, y_pred: np.ndarray, true_class: int, pred_class: int
) -> np.ndarray:
    """The test images behind one confusion-matrix cell: true = i and predicted = j."""
    check_same_length(y_true, y_pred)
    return np.flatnonzero(
        (np.asarray(y_true) == true_class) & (np.asarray(y_pred) == pred_class)
    ).astype(np.int64)


def largest_mistake_cell(matrix: np.ndarray | Sequence[Sequence[int]]) -> tuple[int, int]:
    """(true, predicted) of the biggest off-diagonal count: a good first cell to look at."""
    m = np.array(matrix, dtype=np.int64)
    np.fill_diagonal(m, -1)
    i, j = np.unravel_index(int(m.argmax()), m.shape)
    return int(i), int(j)


def top_classes(
    probs: np.ndarray, class_names: Sequence[str], k: int = 3
) -> list[tuple[str, float]]:
    """The k most likely classes of one prediction, as (class name, probability), best first."""
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)
    order = np.argsort(-probs, kind="stable")[:k]
    return [(class_names[i], float(probs[i])) for i in order]


@dataclass(frozen=True)
class ConfusedPair:
    """Two classes a model mixes up, counted both ways.

    Attributes:
        a, b: class indices (a < b).
        a_as_b: images of class a predicted as b.
        b_as_a: images of class b predicted as a.
    """

    a: int
    b: int
    a_as_b: int
    b_as_a: int

    @property
    def total(self) -> int:
        """Mistakes between the two classes, both directions."""
        return self.a_as_b + self.b_as_a


def most_confused_pairs(
    matrix: np.ndarray | Sequence[Sequence[int]], top: int = 3
) -> list[ConfusedPair]:
    """The class pairs with the most mistakes between them (off-diagonal counts, both ways).

    Args:
        matrix: confusion matrix, counts[true, predicted].
        top: how many pairs to return.

    Returns:
        Up to `top` ConfusedPair, most mistakes first (ties: lower class indices first);
        pairs with no mistakes are left out.
    """
    m = np.asarray(matrix, dtype=np.int64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"Expected a square confusion matrix, got shape {m.shape}.")
    pairs = [
        ConfusedPair(i, j, int(m[i, j]), int(m[j, i]))
        for i in range(m.shape[0])
        for j in range(i + 1, m.shape[1])
    ]
    pairs = [p for p in pairs if p.total > 0]
    pairs.sort(key=lambda p: (-p.total, p.a, p.b))
    return pairs[:top]


def choice_count(
    matrix: np.ndarray | Sequence[Sequence[int]],
    true_class: int | None = None,
    predicted_class: int | None = None,
) -> int:
    """How many test images a choice of the explorer holds, from the confusion matrix alone.

    Both classes given: that cell (the diagonal counts the right answers). One given: the
    mistakes of that true (or predicted) class. Neither: every mistake. The explorer builds
    Examples only for the images it shows; counting here keeps a rerun from making one object
    per mistake (7,900 of them at 10,000 test images), which set off full garbage collections.
    """
    m = np.asarray(matrix, dtype=np.int64)
    wrong = m - np.diag(np.diag(m))
    if true_class is not None and predicted_class is not None:
        return int(m[true_class, predicted_class])
    if true_class is not None:
        return int(wrong[true_class].sum())
    if predicted_class is not None:
        return int(wrong[:, predicted_class].sum())
    return int(wrong.sum())
