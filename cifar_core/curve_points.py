"""Curve points: per-batch training logs at bounded resolution, for live and saved curves.

A run of 62,500 batches holds at most `constants.MAX_CURVE_POINTS` points, each the mean,
minimum and maximum of a group of neighbouring batches (`BatchSeries`), so charting or
copying the curve costs the same however long the run. `downsample_batches` turns a full
per-batch list (runs saved before this existed) into the same points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from cifar_core import constants as C

# The per-batch metrics a point summarises (each gets <name>, <name>_min and <name>_max).
BATCH_METRICS: tuple[str, ...] = ("loss", "accuracy")

_NAN = float("nan")


class _Bucket:
    """Neighbouring batches merged into one point: sums, finite counts, minima and maxima.

    Values that are not finite (a diverged loss) are left out of the mean, minimum and maximum,
    as the charts leave them out too.
    """

    __slots__ = (
        "first_step",
        "step",
        "epoch",
        "batch",
        "seconds",
        "size",
        "count",
        "sums",
        "finite",
        "lows",
        "highs",
        "_row",
    )

    def __init__(self, first_step: int) -> None:
        self.first_step = first_step
        self.step = first_step
        self.epoch = self.batch = 0
        self.seconds = 0.0
        self.size = self.count = 0
        self.sums = [0.0] * len(BATCH_METRICS)
        self.finite = [0] * len(BATCH_METRICS)
        self.lows = [math.inf] * len(BATCH_METRICS)
        self.highs = [-math.inf] * len(BATCH_METRICS)
        self._row: dict | None = None

    def add(
        self, step: int, epoch: int, batch: int, values: Sequence[float], seconds: float, size: int
    ) -> None:
        """Fold one batch (1-based epoch and batch) into this point."""
        self.step, self.epoch, self.batch, self.seconds = step, epoch, batch, seconds
        self.size += size
        self.count += 1
        for i, value in enumerate(values):
            if math.isfinite(value):
                self.sums[i] += value
                self.finite[i] += 1
                if value < self.lows[i]:
                    self.lows[i] = value
                if value > self.highs[i]:
                    self.highs[i] = value
        self._row = None

    def merged(self, later: _Bucket) -> _Bucket:
        """A new point covering this one and the `later` one that follows it."""
        out = _Bucket(self.first_step)
        out.step, out.epoch, out.batch, out.seconds = (
            later.step,
            later.epoch,
            later.batch,
            later.seconds,
        )
        out.size, out.count = self.size + later.size, self.count + later.count
        out.sums = [a + b for a, b in zip(self.sums, later.sums, strict=True)]
        out.finite = [a + b for a, b in zip(self.finite, later.finite, strict=True)]
        out.lows = [min(a, b) for a, b in zip(self.lows, later.lows, strict=True)]
        out.highs = [max(a, b) for a, b in zip(self.highs, later.highs, strict=True)]
        return out

    @classmethod
    def from_row(cls, row: Mapping) -> _Bucket:
        """A point back from its row (a saved one, or an old per-batch row: count 1)."""
        count = int(row.get("count", 1))
        out = cls(int(row.get("first_step", row.get("step", 1))))
        out.step, out.epoch, out.batch = int(row["step"]), int(row["epoch"]), int(row["batch"])
        out.seconds = float(row.get("seconds", _NAN))
        out.size, out.count = int(row.get("size", 0)), count
        for i, name in enumerate(BATCH_METRICS):
            mean = float(row.get(name, _NAN))
            if math.isfinite(mean):
                out.sums[i], out.finite[i] = mean * count, count
                out.lows[i] = float(row.get(f"{name}_min", mean))
                out.highs[i] = float(row.get(f"{name}_max", mean))
        return out

    def row(self) -> dict:
        """The point as a plain dict; built once per change and then shared, so never mutate it."""
        if self._row is None:
            row = {
                "step": self.step,
                "first_step": self.first_step,
                "epoch": self.epoch,
                "batch": self.batch,
                "count": self.count,
                "seconds": self.seconds,
                "size": self.size,
            }
            for i, name in enumerate(BATCH_METRICS):
                n = self.finite[i]
                row[name] = self.sums[i] / n if n else _NAN
                row[f"{name}_min"] = self.lows[i] if n else _NAN
                row[f"{name}_max"] = self.highs[i] if n else _NAN
            self._row = row
        return self._row


class BatchSeries:
    """Per-batch logs at bounded resolution: at most `max_points` points, whatever the run length.

    Points start one per batch. When a new point would exceed the cap, neighbouring pairs merge
    (their width doubles), so a point always covers a whole, aligned group of `width` batches
    and each batch costs O(1) amortised. A point keeps the mean, minimum and maximum of loss and
    accuracy over its batches, its first and last step, the epoch and batch (1-based) and the
    training seconds of its last step, its images (`size`) and its batches (`count`).

    Not thread-safe on its own: TrainingMonitor guards it with its lock.

    Args:
        max_points: the cap (at least 2; even, so that pairs merge evenly).
    """

    def __init__(self, max_points: int = C.MAX_CURVE_POINTS) -> None:
        if max_points < 2:
            raise ValueError("max_points must be at least 2")
        self.max_points = max_points
        self.width = 1  # batches per full point
        self.steps = 0  # batches seen
        self.images = 0  # images seen
        self.last_seconds = 0.0  # training seconds at the last batch
        self._buckets: list[_Bucket] = []

    def __len__(self) -> int:
        return len(self._buckets)

    def add(
        self,
        epoch: int,
        batch: int,
        loss: float,
        accuracy: float,
        seconds: float,
        size: int,
    ) -> bool:
        """Record one batch (epoch and batch 1-based).

        Returns:
            True when the plotted points changed in number or width (a new point was started,
            or pairs were merged); False when the batch only went into the open last point.
        """
        self.steps += 1
        self.images += size
        self.last_seconds = seconds
        started = not self._buckets or self._buckets[-1].count >= self.width
        if started:
            if len(self._buckets) >= self.max_points:
                self._merge_pairs()
            if not self._buckets or self._buckets[-1].count >= self.width:
                self._buckets.append(_Bucket(self.steps))
        self._buckets[-1].add(self.steps, epoch, batch, (loss, accuracy), seconds, size)
        return started

    def _merge_pairs(self) -> None:
        old = self._buckets
        merged = [old[i].merged(old[i + 1]) for i in range(0, len(old) - 1, 2)]
        if len(old) % 2:
            merged.append(old[-1])  # an unpaired last point stays and keeps filling
        self._buckets = merged
        self.width *= 2

    def rows(self) -> list[dict]:
        """The points as dicts (keys: step, first_step, epoch, batch, count, seconds, size,
        loss, loss_min, loss_max, accuracy, accuracy_min, accuracy_max). O(points)."""
        return [b.row() for b in self._buckets]


def batch_x(point: Mapping, steps_per_epoch: int) -> float:
    """Where a batch point sits on an epochs axis: step b of epoch e at (e − 1) + b / steps.

    Every training curve (Train page, live and saved, and the comparison charts) places its
    batch points with this, so batches and end-of-epoch values share one x axis.
    """
    return (point["epoch"] - 1) + point["batch"] / max(1, steps_per_epoch)


def downsample_batches(rows: Sequence[Mapping], max_points: int = C.MAX_CURVE_POINTS) -> list[dict]:
    """Per-batch rows at the bounded resolution of `BatchSeries`, e.g. a saved run's history.

    Runs saved before the monitor kept a bounded series hold every batch (step, epoch, batch,
    loss, accuracy, seconds, size); this gives the points the monitor would have kept for them
    (the same groups and values, up to float rounding), vectorised: about 30 ms for 62,500
    rows. Rows already bounded (with a `count` above 1) pass through if they fit, else
    neighbouring pairs merge until they do.

    Args:
        rows: per-batch rows in step order (old full lists or bounded points).
        max_points: the cap (at least 2).

    Returns:
        At most `max_points` point dicts, with the keys of `BatchSeries.rows`.
    """
    if max_points < 2:
        raise ValueError("max_points must be at least 2")
    if any(int(r.get("count", 1)) != 1 for r in rows):
        buckets = [_Bucket.from_row(r) for r in rows]
        while len(buckets) > max_points:
            merged = [buckets[i].merged(buckets[i + 1]) for i in range(0, len(buckets) - 1, 2)]
            buckets = merged + ([buckets[-1]] if len(buckets) % 2 else [])
        return [b.row() for b in buckets]
    n = len(rows)
    if not n:
        return []
    # The monitor's groups: aligned runs of `width` batches, the smallest power of two that
    # keeps the points within the cap (BatchSeries doubles it exactly when it would not).
    width = 1
    while n > max_points * width:
        width *= 2
    starts = np.arange(0, n, width)
    ends = np.minimum(starts + width, n) - 1
    sizes = np.add.reduceat(np.fromiter((int(r.get("size", 0)) for r in rows), np.int64, n), starts)
    stats = {}
    for name in BATCH_METRICS:
        values = np.fromiter((float(r.get(name, _NAN)) for r in rows), np.float64, n)
        finite = np.isfinite(values)
        counts = np.add.reduceat(finite.astype(np.int64), starts)
        sums = np.add.reduceat(np.where(finite, values, 0.0), starts)
        lows = np.minimum.reduceat(np.where(finite, values, np.inf), starts)
        highs = np.maximum.reduceat(np.where(finite, values, -np.inf), starts)
        seen = counts > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(seen, sums / np.maximum(counts, 1), np.nan)
        stats[name] = (means, np.where(seen, lows, np.nan), np.where(seen, highs, np.nan))
    points = []
    for k, (first, last) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        end_row = rows[last]
        point = {
            "step": last + 1,
            "first_step": first + 1,
            "epoch": int(end_row["epoch"]),
            "batch": int(end_row["batch"]),
            "count": last - first + 1,
            "seconds": float(end_row.get("seconds", _NAN)),
            "size": int(sizes[k]),
        }
        for name, (means, lows, highs) in stats.items():
            point[name] = float(means[k])
            point[f"{name}_min"] = float(lows[k])
            point[f"{name}_max"] = float(highs[k])
        points.append(point)
    return points
