"""Comparison: two runs side by side — gaps, per-class accuracy, confusions, disagreements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cifar_core.constants import MODEL_NAMES
from cifar_core.models import layer_table

# Runs that were evaluated on the test split (their predictions are saved).
USABLE_STATUSES: tuple[str, ...] = ("finished", "stopped")
WINNER_MARK = "🏆"


# --- Reference results: what others measured, with their budgets ------------------------------


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
    """

    source: str
    short: str
    model: str
    budget: str
    value: float
    metric: str
    approximate: bool = False

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
# The Keras example validates on the 10,000 test images (validation_data=(x_test, y_test)).
VAL_ON_TEST = "validation accuracy (on the test split)"

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
    ),
    ReferenceResult(
        KERAS_EXAMPLE,
        "Keras example",
        KERAS_VARIANT,
        "50 epochs, all 50,000 images, batch 32, 0.1 shifts + flips",
        0.79,
        VAL_ON_TEST,
        approximate=True,
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
            "source": r.source,
            "model": r.model,
            "budget": r.budget,
            "metric": r.metric,
            "accuracy": r.value,
            "value_text": r.value_text,
        }
        for r in references
    ]


# --- Architectures: where the parameters sit ---------------------------------------------------


def parameter_shares(name: str) -> list[dict]:
    """The layers that hold parameters, each with its share of the model's total.

    Args:
        name: "shallow" or "deep".

    Returns:
        Rows (layer, kind, params, share) in layer order; shares sum to 1.
    """
    rows = [r for r in layer_table(name) if r["params"]]
    total = sum(r["params"] for r in rows)
    return [
        {
            "layer": r["layer"],
            "kind": r["kind"],
            "params": r["params"],
            "share": r["params"] / total,
        }
        for r in rows
    ]


def dominant_layer(name: str) -> dict:
    """The layer holding the most parameters, with the width of the layer feeding it.

    Returns:
        {layer, params, share, fan_in}: fan_in is the number of inputs of that layer (for the
        shallow net's dense1, the 8,192 values of the Flatten before it).
    """
    table = layer_table(name)
    index = max(range(len(table)), key=lambda i: table[i]["params"])
    row = table[index]
    total = sum(r["params"] for r in table)
    previous = table[index - 1]["output_shape"] if index else ()
    fan_in = int(np.prod(previous)) if previous else 0
    return {
        "layer": row["layer"],
        "params": row["params"],
        "share": row["params"] / total,
        "fan_in": fan_in,
    }


# --- Curves and the train−validation gap -------------------------------------------------------


def _finite(value: object) -> float | None:
    if value is None:
        return None
    value = float(value)  # type: ignore[arg-type]
    return value if np.isfinite(value) else None


def epoch_gaps(epochs: Sequence[dict]) -> list[dict]:
    """Train accuracy − validation accuracy after every epoch.

    A gap that grows while validation accuracy stalls is overfitting: the network gets better
    at the images it trains on, not at new ones.

    Args:
        epochs: per-epoch logs (epoch, seconds, accuracy, val_accuracy, …).

    Returns:
        Rows (epoch, seconds, accuracy, val_accuracy, gap); gap is None when a value is missing.
    """
    rows = []
    for e in epochs:
        train, val = _finite(e.get("accuracy")), _finite(e.get("val_accuracy"))
        rows.append(
            {
                "epoch": int(e["epoch"]),
                "seconds": _finite(e.get("seconds")),
                "accuracy": train,
                "val_accuracy": val,
                "gap": train - val if train is not None and val is not None else None,
            }
        )
    return rows


def final_gap(epochs: Sequence[dict]) -> float | None:
    """The train − validation accuracy gap at the last epoch (None without epochs)."""
    gaps = epoch_gaps(epochs)
    return gaps[-1]["gap"] if gaps else None


def curve_rows(histories: Mapping[str, Sequence[dict]]) -> list[dict]:
    """Wide per-epoch rows of several runs, one dataset for the comparison curves.

    Args:
        histories: run label → per-epoch logs.

    Returns:
        Rows (model, kind="epoch", epoch, seconds, loss, accuracy, val_loss, val_accuracy);
        missing values are None so Vega-Lite leaves gaps instead of drawing zeros.
    """
    rows = []
    for label, epochs in histories.items():
        for e in epochs:
            rows.append(
                {
                    "model": label,
                    "kind": "epoch",
                    "epoch": float(e["epoch"]),
                    "seconds": _finite(e.get("seconds")),
                    **{
                        key: _finite(e.get(key))
                        for key in ("loss", "accuracy", "val_loss", "val_accuracy")
                    },
                }
            )
    return rows


def batch_rows(label: str, batches: Sequence[dict], steps_per_epoch: int) -> list[dict]:
    """Per-batch training rows (Keras' running means) for a live chart, x in epochs and seconds.

    A batch at step b of epoch e sits at x = (e − 1) + b / steps_per_epoch, as on the Train page.
    Bounded points (curve_points.BatchSeries) sit at their last batch and carry loss_min/loss_max
    and accuracy_min/accuracy_max; a plain batch gets its own value for both.
    """
    return [
        {
            "model": label,
            "kind": "batch",
            "epoch": (b["epoch"] - 1) + b["batch"] / max(1, steps_per_epoch),
            "seconds": _finite(b.get("seconds")),
            "loss": _finite(b.get("loss")),
            "accuracy": _finite(b.get("accuracy")),
            "val_loss": None,
            "val_accuracy": None,
            # A merged point (curve_points.BatchSeries) spans its lowest to highest batch.
            **{
                f"{m}_{end}": _finite(b.get(f"{m}_{end}", b.get(m)))
                for m in ("loss", "accuracy")
                for end in ("min", "max")
            },
        }
        for b in batches
    ]


# --- Per-class accuracy, confusions, disagreements ---------------------------------------------


def predicted_classes(probs: np.ndarray) -> np.ndarray:
    """The class with the highest probability for each image: (N, C) → (N,) int64."""
    return np.asarray(probs).argmax(axis=1).astype(np.int64)


def per_class_rows(
    accuracies: Mapping[str, Sequence[float]], class_names: Sequence[str]
) -> list[dict]:
    """Long rows (class, model, accuracy) for grouped bars; NaN classes are left out."""
    return [
        {"class": name, "model": label, "accuracy": float(acc)}
        for label, values in accuracies.items()
        for name, acc in zip(class_names, values, strict=True)
        if acc is not None and np.isfinite(acc)
    ]


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
    pairs = [
        ConfusedPair(i, j, int(m[i, j]), int(m[j, i]))
        for i in range(m.shape[0])
        for j in range(i + 1, m.shape[1])
    ]
    pairs = [p for p in pairs if p.total > 0]
    pairs.sort(key=lambda p: (-p.total, p.a, p.b))
    return pairs[:top]


@dataclass(frozen=True)
class Disagreements:
    """Test images on which exactly one of two runs is right.

    Attributes:
        a_only: indices where A is right and B is wrong.
        b_only: indices where B is right and A is wrong.
    """

    a_only: np.ndarray
    b_only: np.ndarray


def disagreements(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> Disagreements:
    """Where one model is right and the other wrong (sorted indices, int64)."""
    _check_same_length(y_true, pred_a, pred_b)
    y_true, pred_a, pred_b = (np.asarray(a) for a in (y_true, pred_a, pred_b))
    right_a, right_b = pred_a == y_true, pred_b == y_true
    return Disagreements(
        np.flatnonzero(right_a & ~right_b).astype(np.int64),
        np.flatnonzero(right_b & ~right_a).astype(np.int64),
    )


def cell_indices(
    y_true: np.ndarray, y_pred: np.ndarray, true_class: int, pred_class: int
) -> np.ndarray:
    """The test images behind one confusion-matrix cell: true = i and predicted = j."""
    _check_same_length(y_true, y_pred)
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


def _check_same_length(*arrays: np.ndarray) -> None:
    lengths = {len(a) for a in arrays}
    if len(lengths) > 1:
        raise ValueError(f"Arrays of different lengths {sorted(lengths)}: not the same test set.")


# --- Scoreboard --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    """The numbers of one run that the scoreboard compares.

    Attributes:
        label: how the page names the run ("shallow", "deep", …).
        model: "shallow" or "deep".
        params, seconds_per_epoch, images_per_second, best_val_accuracy, best_epoch,
        test_accuracy, final_gap: from the run's result and history (None when unknown).
        train_size, epochs: the run's budget, shown next to reference results.
    """

    label: str
    model: str
    params: int | None
    seconds_per_epoch: float | None
    images_per_second: float | None
    best_val_accuracy: float | None
    best_epoch: int | None
    test_accuracy: float | None
    final_gap: float | None
    train_size: int | None
    epochs: int | None


def summarize_run(
    label: str, config: Mapping, result: Mapping, epochs: Sequence[dict]
) -> RunSummary:
    """Collect a saved run's scoreboard numbers from its config, result and epoch history."""
    best_epoch = result.get("best_epoch")
    return RunSummary(
        label=label,
        model=str(config.get("model", "?")),
        params=result.get("params"),
        seconds_per_epoch=_finite(result.get("seconds_per_epoch")),
        images_per_second=_finite(result.get("images_per_second")),
        best_val_accuracy=_finite(result.get("best_val_accuracy")),
        best_epoch=int(best_epoch) if best_epoch is not None else None,
        test_accuracy=_finite(result.get("test_accuracy")),
        final_gap=final_gap(epochs),
        train_size=config.get("train_size"),
        epochs=config.get("epochs"),
    )


@dataclass(frozen=True)
class ScoreRow:
    """One line of the scoreboard.

    Attributes:
        metric: what the line measures, in words.
        values: one number per run (None when unknown).
        texts: the same numbers formatted for reading.
        lower_is_better: True for parameters, seconds per epoch and the gap.
        winners: indices of the best run(s); empty when all are equal or a value is missing.
    """

    metric: str
    values: tuple[float | None, ...]
    texts: tuple[str, ...]
    lower_is_better: bool
    winners: tuple[int, ...]


def winners(values: Sequence[float | None], lower_is_better: bool = False) -> tuple[int, ...]:
    """Indices of the best value(s); empty if any value is missing or all are equal.

    Args:
        values: one number per run.
        lower_is_better: pick the smallest instead of the largest.
    """
    if not values or any(v is None or not np.isfinite(v) for v in values):
        return ()
    array = np.asarray(values, dtype=np.float64)
    best = array.min() if lower_is_better else array.max()
    hits = np.isclose(array, best, rtol=1e-9, atol=1e-12)
    return () if hits.all() else tuple(int(i) for i in np.flatnonzero(hits))


def _fmt(value: float | None, pattern: str) -> str:
    return "—" if value is None else pattern.format(value)


def scoreboard(runs: Sequence[RunSummary]) -> list[ScoreRow]:
    """The scoreboard lines for some runs, with the winner of each line.

    Higher wins for speed and accuracy; lower wins for parameters, seconds per epoch and the
    final train − validation gap (less overfitting). A gap at or below zero (validation as
    good as training, common with dropout early on) is no overfitting at all, so two such
    gaps tie rather than the more negative one winning.
    """

    def best_val(r: RunSummary) -> str:
        if r.best_val_accuracy is None:
            return "—"
        at = f" (epoch {r.best_epoch})" if r.best_epoch is not None else ""
        return f"{r.best_val_accuracy:.1%}{at}"

    def gap(r: RunSummary) -> str:
        return "—" if r.final_gap is None else f"{r.final_gap * 100:+.1f} points"

    lines = [
        ("Parameters", [r.params for r in runs], [_fmt(r.params, "{:,}") for r in runs], True),
        (
            "Seconds per epoch",
            [r.seconds_per_epoch for r in runs],
            [_fmt(r.seconds_per_epoch, "{:.1f} s") for r in runs],
            True,
        ),
        (
            "Training speed (images/s)",
            [r.images_per_second for r in runs],
            [_fmt(r.images_per_second, "{:,.0f}") for r in runs],
            False,
        ),
        (
            "Best validation accuracy (epoch)",
            [r.best_val_accuracy for r in runs],
            [best_val(r) for r in runs],
            False,
        ),
        (
            "Test accuracy",
            [r.test_accuracy for r in runs],
            [_fmt(r.test_accuracy, "{:.1%}") for r in runs],
            False,
        ),
        (
            "Final gap (train − validation accuracy)",
            [r.final_gap for r in runs],
            [gap(r) for r in runs],
            True,
        ),
    ]
    overfitting = [None if r.final_gap is None else max(r.final_gap, 0.0) for r in runs]
    return [
        ScoreRow(
            metric,
            tuple(None if v is None else float(v) for v in values),
            tuple(texts),
            lower,
            winners(overfitting if metric.startswith("Final gap") else values, lower),
        )
        for metric, values, texts, lower in lines
    ]


def scoreboard_markdown(rows: Sequence[ScoreRow], labels: Sequence[str]) -> str:
    """The scoreboard as a Markdown table; each winner gets 🏆 and bold (not colour alone)."""

    def cell(row: ScoreRow, i: int) -> str:
        text = row.texts[i]
        return f"{WINNER_MARK} **{text}**" if i in row.winners else text

    def rule(row: ScoreRow) -> str:
        return "lower" if row.lower_is_better else "higher"

    header = "| | " + " | ".join(labels) + " | better |"
    lines = [header, "|---" * (len(labels) + 2) + "|"]
    for row in rows:
        cells = " | ".join(cell(row, i) for i in range(len(labels)))
        lines.append(f"| {row.metric} | {cells} | {rule(row)} |")
    return "\n".join(lines)


# --- Choosing and naming the runs --------------------------------------------------------------


def default_pair(infos: Sequence) -> tuple[str | None, str | None]:
    """Default runs to compare: the newest usable shallow run and the newest usable deep run.

    Args:
        infos: RunInfo-like objects (run_id, status, config, test_accuracy), newest first.

    Returns:
        (run A, run B). Without a run of one kind, the newest other runs fill in;
        None where there are not enough runs.
    """
    usable = [i for i in infos if i.status in USABLE_STATUSES and i.test_accuracy is not None]
    newest = {
        model: next((i.run_id for i in usable if i.config.get("model") == model), None)
        for model in MODEL_NAMES
    }
    picks = [newest["shallow"], newest["deep"]]
    spare = [i.run_id for i in usable if i.run_id not in picks]
    picks = [p if p is not None else (spare.pop(0) if spare else None) for p in picks]
    return picks[0], picks[1]


def series_labels(models: Sequence[str], run_ids: Sequence[str]) -> list[str]:
    """Names for the runs in charts: the model name, plus the run id when two share a model."""
    labels = list(models)
    if len(set(labels)) < len(labels):
        labels = [f"{m} ({rid[-6:]})" for m, rid in zip(models, run_ids, strict=True)]
    if len(set(labels)) < len(labels):  # the same run twice
        labels = [f"{label} [{k + 1}]" for k, label in enumerate(labels)]
    return labels
