"""A compared pair: two saved runs' test predictions, lined up image by image.

Shallow vs deep shows two runs side by side. What it shows is computed here from the runs'
saved predictions (no TensorFlow, no Streamlit): each run's answers and confusion matrix,
whether the two were scored on the same test images (and whether those are the images the
server has loaded, so the page can show them), how often both or only one is right, and the
one-line caption of a test image under both answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cifar_core.comparison.analysis import Disagreements, disagreements, per_class_rows
from cifar_core.evaluation import confusion_matrix, is_guessing, per_class_accuracy
from cifar_core.explain.mistakes import predicted_classes


@dataclass(frozen=True)
class ComparedPair:
    """Two runs' test predictions, in the order shown (A, B).

    Attributes:
        labels: each run's name on the page ("shallow", "deep", or with run ids).
        names: the class names, in label order.
        y_true: each run's test labels, int64.
        probs: each run's test probabilities (N, classes), float32.
        preds: each run's answers (argmax), int64.
        matrices: each run's confusion matrix, counts[true, predicted].
        guessing: whether each run learned nothing (its matrix shows a guess).
    """

    labels: list[str]
    names: list[str]
    y_true: list[np.ndarray]
    probs: list[np.ndarray]
    preds: list[np.ndarray]
    matrices: list[np.ndarray]
    guessing: list[bool]

    @property
    def same_test(self) -> bool:
        """Both runs were scored on the same test labels, image by image."""
        a, b = self.y_true
        return len(a) == len(b) and bool(np.array_equal(a, b))

    def shows_images_of(self, y_test: np.ndarray | None) -> bool:
        """The loaded test split is the one both runs were scored on (so images can be shown)."""
        return (
            y_test is not None
            and self.same_test
            and len(y_test) == len(self.y_true[0])
            and bool(np.array_equal(y_test, self.y_true[0]))
        )

    def per_class_rows(self) -> list[dict]:
        """Long rows (class, model, accuracy) of both runs, for grouped bars."""
        accuracies = {
            label: per_class_accuracy(m)
            for label, m in zip(self.labels, self.matrices, strict=True)
        }
        return per_class_rows(accuracies, self.names)

    def agreement(self) -> dict[str, int]:
        """How many test images both got right, both wrong, and only A or only B right."""
        y, (a, b) = self.y_true[0], self.preds
        split = self.disagreements()
        return {
            "total": len(y),
            "both_right": int(((a == y) & (b == y)).sum()),
            "both_wrong": int(((a != y) & (b != y)).sum()),
            "a_only": len(split.a_only),
            "b_only": len(split.b_only),
        }

    def disagreements(self) -> Disagreements:
        """The images only A got right, and those only B got right."""
        return disagreements(self.y_true[0], self.preds[0], self.preds[1])

    def caption(self, index: int) -> str:
        """'cat · shallow: dog ✗ · deep ✓' for one test image: its class, then each answer."""
        y = self.y_true[0]
        parts = [self.names[y[index]]]
        for label, pred in zip(self.labels, self.preds, strict=True):
            right = pred[index] == y[index]
            parts.append(f"{label} ✓" if right else f"{label}: {self.names[pred[index]]} ✗")
        return " · ".join(parts)


def compare(
    labels: Sequence[str],
    predictions: Sequence[Mapping[str, np.ndarray]],
    results: Sequence[Mapping],
    histories: Sequence[Mapping],
    names: Sequence[str],
) -> ComparedPair:
    """Line up two runs' saved predictions (Run.predictions()) for the page.

    Args:
        labels: the runs' names on the page.
        predictions: each run's saved arrays (test_probs, test_labels).
        results: each run's result.json (for the "guessing" check).
        histories: each run's history (its "epochs" rows).
        names: the class names.
    """
    if not len(labels) == len(predictions) == len(results) == len(histories) == 2:
        raise ValueError("A comparison needs exactly two runs.")
    y_true = [np.asarray(p["test_labels"]).astype(np.int64) for p in predictions]
    probs = [np.asarray(p["test_probs"], dtype=np.float32) for p in predictions]
    preds = [predicted_classes(p) for p in probs]
    return ComparedPair(
        labels=list(labels),
        names=list(names),
        y_true=y_true,
        probs=probs,
        preds=preds,
        matrices=[confusion_matrix(y, p, len(names)) for y, p in zip(y_true, preds, strict=True)],
        guessing=[
            is_guessing(r, h.get("epochs", [])) for r, h in zip(results, histories, strict=True)
        ],
    )
