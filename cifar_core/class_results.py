"""The class together: every run of the same settings on one chart, and who got furthest.

"30 of you, 30 seeds: look at the spread." Runs are grouped by everything that defines them
except the seed (`comparison.verdict.budget_key`, plus the network), so a group is one
experiment repeated with different seeds. For a group this module gives each run's
per-epoch validation curve (long rows for Altair), the spread across runs at each epoch
(lowest, median, highest), a leaderboard by best validation accuracy, and the chart,
sized for a projector. Students appear only as anonymous labels (`identity.owner_label`).
A run that cannot be read, or has no validation history, is left out, never raised.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from cifar_core import constants as C
from cifar_core.charts import readable, value_axis, value_scale
from cifar_core.comparison.analysis import USABLE_STATUSES
from cifar_core.comparison.verdict import budget_key
from cifar_core.identity import owner_label
from cifar_core.runs import STATUS_FILE, RunStore, RunStoreError

NO_OWNER = "—"  # a run nobody asked for through a page (benches, tests)
ONE_RUN = "one run (one seed)"
MEDIAN = "median"
SPREAD = "spread (lowest to highest)"
METRICS = {"val_accuracy": "validation accuracy", "val_loss": "validation loss"}


def group_key(config: Mapping) -> str:
    """The settings of a run without its seed: runs with equal keys are seeds of one experiment.

    The training budget is `comparison.verdict.budget_key` (one definition of "same budget
    except seed"); the network is added, as a group compares runs of one network. Who asked
    for the run is not in its config, so it never splits a group.
    """
    return json.dumps({"model": config.get("model"), "budget": budget_key(config)})


@dataclass(frozen=True)
class Group:
    """Saved runs of one experiment: the same settings, different seeds.

    Attributes:
        key: `group_key` of its runs.
        config: the settings, as a run saved them (its seed dropped).
        run_ids: its runs, newest first.
    """

    key: str
    config: dict
    run_ids: tuple[str, ...]

    @property
    def label(self) -> str:
        """One line naming the settings and how many runs share them."""
        c = self.config
        size = c.get("train_size")
        images = f"{size:,} images" if isinstance(size, int) else "? images"
        augment = "augmented" if c.get("augment") else "no augmentation"
        runs = f"{len(self.run_ids)} run" + ("s" if len(self.run_ids) != 1 else "")
        return (
            f"{c.get('model', '?')} · {images} × {c.get('epochs', '?')} epochs · "
            f"batch {c.get('batch_size', '?')} · {c.get('optimizer', '?')} lr "
            f"{c.get('learning_rate', '?')} · {augment} — {runs}"
        )


def groups(infos: Sequence) -> list[Group]:
    """The saved runs grouped by settings without the seed, the biggest group first.

    Args:
        infos: RunInfo-like objects (run_id, status, config), newest first as
            `RunStore.list_runs` gives them. Only finished or stopped runs count (a damaged,
            failed or running one has no complete curve to show).

    Returns:
        Groups, most runs first; equal sizes keep the order of their newest run.
    """
    found: dict[str, list] = {}
    for info in infos:
        if info.status in USABLE_STATUSES and isinstance(info.config, Mapping) and info.config:
            found.setdefault(group_key(info.config), []).append(info)
    made = [
        Group(
            key,
            {k: v for k, v in members[0].config.items() if k != "seed"},
            tuple(i.run_id for i in members),
        )
        for key, members in found.items()
    ]
    return sorted(made, key=lambda g: -len(g.run_ids))  # stable: newest first among equals


def default_group(found: Sequence[Group], preset_config: Mapping | None = None) -> Group | None:
    """The group the section opens on: the current preset's if it has runs, else the biggest."""
    if not found:
        return None
    if preset_config:
        key = group_key(preset_config)
        for group in found:
            if group.key == key:
                return group
    return found[0]


@dataclass(frozen=True)
class ClassRun:
    """One run of a group, as the chart and the leaderboard read it.

    Attributes:
        run_id: the saved run.
        student: the anonymous label of its first owner ("—" if none).
        seed: its seed.
        epochs: its per-epoch history rows (epoch, loss, accuracy, val_loss, val_accuracy).
        test_accuracy: once evaluated.
    """

    run_id: str
    student: str
    seed: int | None
    epochs: tuple[dict, ...]
    test_accuracy: float | None = None


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def student_of(owners: Sequence[str] | frozenset[str]) -> str:
    """The anonymous label of a run's first owner (sorted hashes), "—" if it has none."""
    first = sorted(owners)[:1]
    return owner_label(first[0]) if first else NO_OWNER


def class_run(info, history: Mapping) -> ClassRun | None:
    """A run of a group from its listing and its history; None if it has no validation curve."""
    rows = history.get("epochs") if isinstance(history, Mapping) else None
    if not isinstance(rows, list):
        return None
    epochs = tuple(r for r in rows if isinstance(r, dict) and isinstance(r.get("epoch"), int))
    if not any(_finite(r.get("val_accuracy")) is not None for r in epochs):
        return None
    seed = info.config.get("seed")
    return ClassRun(
        run_id=info.run_id,
        student=student_of(getattr(info, "owners", ())),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        epochs=epochs,
        test_accuracy=_finite(info.test_accuracy),
    )


def load_group(store: RunStore, group: Group, infos: Sequence) -> list[ClassRun]:
    """The group's runs with their histories; a run that cannot be read is left out."""
    by_id = {i.run_id: i for i in infos}
    out = []
    for run_id in group.run_ids:
        info = by_id.get(run_id)
        if info is None:
            continue
        try:
            history = store.load(run_id).history
        except (RunStoreError, OSError, ValueError):
            continue  # damaged or gone since it was listed: the others still show
        run = class_run(info, history)
        if run is not None:
            out.append(run)
    return out


def versions(store: RunStore, group: Group) -> tuple[tuple[str, int], ...]:
    """(run id, status file's modification time) per run: the cache key of a group's charts.

    A run's status file is rewritten whenever the run changes (as ui.common's loader uses).
    """
    out = []
    for run_id in group.run_ids:
        try:
            out.append((run_id, (Path(store.root) / run_id / STATUS_FILE).stat().st_mtime_ns))
        except (OSError, ValueError):
            out.append((run_id, 0))
    return tuple(out)


# --- the numbers ---


def curve_rows(runs: Sequence[ClassRun], metric: str = "val_accuracy") -> pd.DataFrame:
    """Each run's per-epoch `metric` as long rows: run, student, seed, epoch, value."""
    rows = [
        {
            "run": run.run_id,
            "student": run.student,
            "seed": run.seed,
            "epoch": int(e["epoch"]),
            "value": value,
        }
        for run in runs
        for e in run.epochs
        if (value := _finite(e.get(metric))) is not None
    ]
    columns = ["run", "student", "seed", "epoch", "value"]
    return pd.DataFrame(rows, columns=columns)


def spread_rows(curves: pd.DataFrame) -> pd.DataFrame:
    """Per epoch across runs: lowest, median, highest value and how many runs reached it."""
    if curves.empty:
        return pd.DataFrame(columns=["epoch", "lo", "median", "hi", "runs"])
    by_epoch = curves.groupby("epoch")["value"]
    frame = pd.DataFrame(
        {
            "lo": by_epoch.min(),
            "median": by_epoch.median(),
            "hi": by_epoch.max(),
            "runs": by_epoch.count(),
        }
    )
    return frame.reset_index()


@dataclass(frozen=True)
class LeaderRow:
    """One line of the leaderboard."""

    rank: int
    student: str
    seed: int | None
    best_val_accuracy: float
    best_epoch: int
    test_accuracy: float | None
    run_id: str


def best_val(run: ClassRun) -> tuple[float, int]:
    """A run's best validation accuracy and the (first) epoch it was reached."""
    scored = [
        (v, int(e["epoch"]))
        for e in run.epochs
        if (v := _finite(e.get("val_accuracy"))) is not None
    ]
    best = max(v for v, _ in scored)
    return best, min(epoch for v, epoch in scored if v == best)


def _test_or_low(run: ClassRun) -> float:
    return run.test_accuracy if run.test_accuracy is not None else -1.0


def leaderboard(runs: Sequence[ClassRun]) -> list[LeaderRow]:
    """Runs ranked by best validation accuracy; ties by test accuracy (none counts lowest).

    Equal on both, runs share a rank (1, 2, 2, 4) and keep a fixed order (by run id).
    """
    scored = [(run, *best_val(run)) for run in runs]
    scored.sort(key=lambda s: (-s[1], -_test_or_low(s[0]), s[0].run_id))
    out: list[LeaderRow] = []
    for i, (run, best, epoch) in enumerate(scored):
        tied = (
            out
            and out[-1].best_val_accuracy == best
            and _test_or_low(run) == _test_or_low(scored[i - 1][0])
        )
        rank = out[-1].rank if tied else i + 1
        out.append(
            LeaderRow(rank, run.student, run.seed, best, epoch, run.test_accuracy, run.run_id)
        )
    return out


# --- the chart ---


def chart_frame(curves: pd.DataFrame, spread: pd.DataFrame) -> pd.DataFrame:
    """The runs' rows (kind "run") and the spread's (kind "spread": value = median) in one frame."""
    runs = curves.assign(kind="run", lo=np.nan, hi=np.nan)
    band = spread.rename(columns={"median": "value"}).assign(
        kind="spread", run=MEDIAN, student="", seed=None
    )
    columns = ["kind", "run", "student", "seed", "epoch", "value", "lo", "hi"]
    frame = pd.concat([runs[columns], band[columns]], ignore_index=True)
    frame["seed"] = frame["seed"].astype("Int64")
    frame["epoch"] = frame["epoch"].astype(np.int64)
    return frame


def describe(curves: pd.DataFrame, spread: pd.DataFrame, metric: str = "val_accuracy") -> str:
    """The chart in words (its caption and its accessible description)."""
    n = curves["run"].nunique() if not curves.empty else 0
    what = METRICS.get(metric, metric)
    head = (
        f"{n} runs with the same settings, different seeds: each thin line is one run's {what} "
        "after each epoch, the band is the spread (lowest to highest run), the thick line the "
        "median."
    )
    if spread.empty:
        return head
    last = spread.iloc[-1]
    fmt = (lambda v: f"{v:.1%}") if metric == "val_accuracy" else (lambda v: f"{v:.3f}")
    return (
        f"{head} After epoch {int(last['epoch'])} the runs range from {fmt(last['lo'])} to "
        f"{fmt(last['hi'])} (median {fmt(last['median'])}): that spread is what the seed "
        "alone does."
    )


def projector_config(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Fonts a projector shows from the back of the room: the app's one chart style
    (charts.readable), with thicker legend strokes for thin lines."""
    return readable(chart, symbolStrokeWidth=3)


def class_curves_chart(
    curves: pd.DataFrame, spread: pd.DataFrame, metric: str = "val_accuracy"
) -> alt.LayerChart:
    """Every run of a group as one thin line, the spread as a band, the median on top."""
    frame = chart_frame(curves, spread)
    title = METRICS.get(metric, metric)
    short = "accuracy" if metric.endswith("accuracy") else "loss"
    last = int(frame["epoch"].max()) if not frame.empty else 1
    x = alt.X(
        "epoch:Q",
        title="epoch",
        scale=alt.Scale(domain=[1, max(2, last)]),
        axis=alt.Axis(tickMinStep=1, format="d"),
    )
    y_title = title[0].upper() + title[1:]
    y = alt.Y("value:Q", title=y_title, scale=value_scale(short), axis=value_axis(short))
    colour = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(domain=[ONE_RUN, MEDIAN, SPREAD], range=["#7f8c9b", "#d62728", "#1f77b4"]),
        # Strokes, not dots, in the legend: it names lines and a band.
        legend=alt.Legend(orient="bottom", symbolType="stroke", symbolOpacity=1),
    )
    fmt = ".1%" if short == "accuracy" else ".3f"
    base = alt.Chart(frame)
    band = (
        base.transform_filter(alt.datum.kind == "spread")
        .transform_calculate(series=f"'{SPREAD}'")
        .mark_area(opacity=0.25)
        .encode(
            x=x, y=alt.Y("lo:Q", title=y_title, scale=value_scale(short)), y2="hi:Q", color=colour
        )
    )
    lines = (
        base.transform_filter(alt.datum.kind == "run")
        .transform_calculate(series=f"'{ONE_RUN}'")
        .mark_line(strokeWidth=1.5, opacity=0.7, point=alt.OverlayMarkDef(size=25))
        .encode(
            x=x,
            y=y,
            detail="run:N",
            color=colour,
            tooltip=[
                alt.Tooltip("student:N"),
                alt.Tooltip("seed:Q"),
                alt.Tooltip("epoch:Q"),
                alt.Tooltip("value:Q", title=title, format=fmt),
            ],
        )
    )
    median = (
        base.transform_filter(alt.datum.kind == "spread")
        .transform_calculate(series=f"'{MEDIAN}'")
        .mark_line(strokeWidth=4)
        .encode(
            x=x,
            y=y,
            color=colour,
            tooltip=[
                alt.Tooltip("epoch:Q"),
                alt.Tooltip("value:Q", title=f"median {title}", format=fmt),
                alt.Tooltip("lo:Q", title="lowest", format=fmt),
                alt.Tooltip("hi:Q", title="highest", format=fmt),
            ],
        )
    )
    chart = alt.layer(band, lines, median).properties(
        title=f"The class together: {title} per epoch",
        height=C.CLASS_CHART_HEIGHT,
        description=describe(curves, spread, metric),
    )
    return projector_config(chart)
