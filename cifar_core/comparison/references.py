"""Reference results: published CIFAR-10 accuracies of the lesson's networks, with their budgets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ReferenceResult:
    """A published accuracy, kept apart from anything measured in this app.

    Attributes:
        source: who reported it, and where.
        short: a few words naming the source on a chart axis.
        model: "shallow" or "deep" (the lesson's network it corresponds to), or a short
            description when the source used a variant of it.
        budget: the training budget behind the number (data, epochs, batch, augmentation).
        value: the accuracy, 0–1.
        metric: what was measured ("test accuracy", "validation accuracy", …).
        approximate: True when the source gives a rounded "about" value.
        axis_model: the network in two words for the chart's row label, when `model` is a
            longer description ("" means `model` itself).
    """

    source: str
    short: str
    model: str
    budget: str
    value: float
    metric: str
    approximate: bool = False
    axis_model: str = ""

    @property
    def axis_lines(self) -> tuple[str, str, str]:
        """The chart's row label, one short line each: source, network, epochs."""
        return (self.short, self.axis_model or self.model, self.budget.split(",")[0])

    @property
    def value_text(self) -> str:
        """'66.4%' or '~75%'."""
        return f"~{self.value:.0%}" if self.approximate else f"{self.value:.1%}"


GULLI_PAL = "Gulli & Pal, Deep Learning with Keras (Packt, 2017)"
KERAS_EXAMPLE = "Keras examples/cifar10_cnn.py (docstring)"
NOTEBOOKS = "The lesson's notebooks (their printed outputs)"
NOTEBOOK_PROSE = "The lesson's notebook 003 (its text, not its printed output)"
# The Keras example is not the lesson's deep net: its second convolution is unpadded, it has
# 1,250,858 parameters, and it trains with RMSprop(1e-4, decay 1e-6) and 0.1 shifts + flips.
KERAS_VARIANT = "a variant of the deep net (unpadded 2nd conv, 1,250,858 parameters, RMSprop 1e-4)"
KERAS_VARIANT_SHORT = "deep variant"
# The Keras example validates on the 10,000 test images (validation_data=(x_test, y_test)).
VAL_ON_TEST = "validation accuracy (on the test split)"

# Between the lines of a row label on the published-results chart (charts.reference_chart).
AXIS_LINE_BREAK = "\n"


def axis_label(*lines: str) -> str:
    """A row label of the published-results chart: short lines, each on its own line."""
    return AXIS_LINE_BREAK.join(lines)


REFERENCE_RESULTS: tuple[ReferenceResult, ...] = (
    ReferenceResult(
        GULLI_PAL,
        "Gulli & Pal 2017",
        "shallow",
        # validation_split=0.2 in their code: 40,000 of the 50,000 images train the network
        "20 epochs, 40,000 images (validation_split=0.2 of 50,000), no augmentation",
        0.664,
        "test accuracy",
    ),
    ReferenceResult(
        KERAS_EXAMPLE,
        "Keras example",
        KERAS_VARIANT,
        "25 epochs, all 50,000 images, batch 32, 0.1 shifts + flips",
        0.75,
        VAL_ON_TEST,
        approximate=True,
        axis_model=KERAS_VARIANT_SHORT,
    ),
    ReferenceResult(
        KERAS_EXAMPLE,
        "Keras example",
        KERAS_VARIANT,
        "50 epochs, all 50,000 images, batch 32, 0.1 shifts + flips",
        0.79,
        VAL_ON_TEST,
        approximate=True,
        axis_model=KERAS_VARIANT_SHORT,
    ),
    ReferenceResult(
        NOTEBOOKS,
        "Lesson notebook",
        "deep",
        "25 epochs, batch 512, augmentation",
        0.640,
        "accuracy printed by the notebook",
    ),
    ReferenceResult(
        NOTEBOOK_PROSE,
        "Lesson notebook 003",
        "deep",
        "60 epochs, 40,000 images (validation_split=0.2), augmentation layers",
        0.75,
        "accuracy stated in the text (not said whether test or validation; the printed log "
        "stops at epoch 7, validation 61.4%)",
        approximate=True,
    ),
)


def reference_rows(references: Sequence[ReferenceResult] = REFERENCE_RESULTS) -> list[dict]:
    """One JSON-ready row per reference result (for a table and the reference chart)."""
    return [
        {
            "label": f"{r.short} · {r.model} · {r.budget}",
            "axis": axis_label(*r.axis_lines),
            "source": r.source,
            "model": r.model,
            "budget": r.budget,
            "metric": r.metric,
            "accuracy": r.value,
            "value_text": r.value_text,
        }
        for r in references
    ]


def measured_row(label: str, train_size: int, epochs: int, accuracy: float) -> dict:
    """One of the student's runs as a row of the published-results chart's second panel."""
    epochs_text = f"{epochs} epoch{'' if epochs == 1 else 's'}"
    return {
        "label": f"{label} · {train_size:,} training images · {epochs_text}",
        "axis": axis_label(label, f"{train_size:,} images", epochs_text),
        "model": label,
        "accuracy": accuracy,
    }
