"""Comparison: two runs side by side — gaps, per-class accuracy, disagreements.

A run's confusions (confused pairs, cells, top classes) are `explain.mistakes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cifar_core.constants import MODEL_NAMES
from cifar_core.curve_points import batch_x
from cifar_core.explain.mistakes import check_same_length
from cifar_core.models import layer_table

# Runs that were evaluated on the test split (their predictions are saved).
USABLE_STATUSES: tuple[str, ...] = ("finished", "stopped")


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

    A batch sits at curve_points.batch_x (x in epochs), as on the Train page.
    Bounded points (curve_points.BatchSeries) sit at their last batch and carry loss_min/loss_max
    and accuracy_min/accuracy_max; a plain batch gets its own value for both.
    """
    return [
        {
            "model": label,
            "kind": "batch",
            "epoch": batch_x(b, steps_per_epoch),
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


# --- Per-class accuracy, disagreements -----------------------------------------------------------


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
    check_same_length(y_true, pred_a, pred_b)
    y_true, pred_a, pred_b = (np.asarray(a) for a in (y_true, pred_a, pred_b))
    right_a, right_b = pred_a == y_true, pred_b == y_true
    return Disagreements(
        np.flatnonzero(right_a & ~right_b).astype(np.int64),
        np.flatnonzero(right_b & ~right_a).astype(np.int64),
    )


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
