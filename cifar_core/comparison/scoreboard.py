"""Scoreboard: the numbers of two runs side by side, with the better one of each line marked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cifar_core.comparison.analysis import _finite, final_gap

WINNER_MARK = "🏆"


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
