"""Monitor: a thread-safe record of one training run, written by Keras, read by the UI.

Per-batch logs are kept at bounded resolution (`BatchSeries`): a run of 62,500 batches holds
at most `constants.MAX_CURVE_POINTS` points, each the mean, minimum and maximum of a group of
neighbouring batches, so every read of the monitor costs the same however long the run.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from cifar_core import constants as C

# Statuses a job goes through, in order; the last three are final.
QUEUED, PREPARING, TRAINING, EVALUATING, SAVING = (
    "queued",
    "preparing",
    "training",
    "evaluating",
    "saving",
)
FINISHED, STOPPED, FAILED, CANCELLED = "finished", "stopped", "failed", "cancelled"
FINAL_STATUSES = frozenset({FINISHED, STOPPED, FAILED, CANCELLED})

# The per-batch metrics a point summarises (each gets <name>, <name>_min and <name>_max).
BATCH_METRICS: tuple[str, ...] = ("loss", "accuracy")

_NAN = float("nan")
_monitor_ids = itertools.count(1)  # tells monitors apart in caches (id() can be reused)


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


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of a monitor at one moment, safe to read without locks.

    Attributes:
        status: one of the statuses above.
        queue_position: 1 = next to start; None when not waiting.
        batches: the per-batch curve at bounded resolution (`BatchSeries.rows`): at most
            constants.MAX_CURVE_POINTS points, each with step, epoch, batch, loss, accuracy,
            seconds and size (images) like one batch, plus first_step, count and the
            min/max of loss and accuracy over the batches it covers. Read-only.
        epochs: per-epoch logs (epoch, loss, accuracy, val_loss, val_accuracy, seconds).
        steps_done, total_steps: progress in batches.
        images_done: training images seen so far.
        images_per_second: training throughput so far (None before the first batch).
        eta_seconds: estimated time left (None when unknown).
        message: the error message of a failed run, or a status note.
        run_id: the run store id, once the run has one.
        monitor_id: tells monitors apart (for caches keyed by monitor and version).
        version: changes whenever anything in the snapshot changes (except elapsed time).
        chart_version: changes only when the plotted curves change: a new or merged point, a
            new epoch, or the end of training; cache charts on (monitor_id, chart_version).
    """

    status: str
    queue_position: int | None
    batches: tuple[dict, ...]
    epochs: tuple[dict, ...]
    steps_done: int
    total_steps: int
    images_per_second: float | None
    eta_seconds: float | None
    elapsed_seconds: float
    message: str
    run_id: str | None
    stop_requested: bool
    images_done: int = 0
    monitor_id: int = 0
    version: int = 0
    chart_version: int = 0

    @property
    def is_final(self) -> bool:
        """True once the job will not change any more."""
        return self.status in FINAL_STATUSES

    @property
    def progress(self) -> float:
        """Fraction of training batches done, 0–1."""
        return min(1.0, self.steps_done / self.total_steps) if self.total_steps else 0.0

    @property
    def chart_key(self) -> tuple[int, int]:
        """(monitor_id, chart_version): equal keys mean equal curves, so a chart can be reused."""
        return (self.monitor_id, self.chart_version)


@dataclass
class TrainingMonitor:
    """What a training thread reports and a UI thread polls; every access holds the lock.

    The training side calls `begin`, `add_batch`, `add_epoch` and `set_status`; the UI side
    calls `snapshot` and `request_stop`. Neither side knows about the other. Every read costs
    O(points), never O(batches): see `BatchSeries`.

    Attributes:
        uid: unique per monitor in this process.
        version: bumped on every change a snapshot shows.
        chart_version: bumped only when the plotted curves change.
        clock: the time source (seconds); tests and benches inject their own.
    """

    status: str = QUEUED
    queue_position: int | None = None
    message: str = ""
    run_id: str | None = None
    total_steps: int = 0
    batch_size: int = 0
    max_points: int = C.MAX_CURVE_POINTS
    uid: int = field(default_factory=lambda: next(_monitor_ids))
    version: int = 0
    chart_version: int = 0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _series: BatchSeries = field(init=False, repr=False)
    _epochs: list[dict] = field(default_factory=list)
    _created: float = field(init=False)
    _train_start: float | None = None
    _train_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        self._series = BatchSeries(self.max_points)
        self._created = self.clock()

    def _changed(self, chart: bool = False) -> None:
        # Callers hold the lock.
        self.version += 1
        if chart:
            self.chart_version += 1

    # --- written by the training thread ---

    def set_status(self, status: str, message: str = "") -> None:
        """Move to a new status (and drop the queue position once it leaves the queue)."""
        with self._lock:
            self.status = status
            self.message = message or self.message
            if status != QUEUED:
                self.queue_position = None
            self._changed()

    def set_queue_position(self, position: int | None) -> None:
        """1 = next in line."""
        with self._lock:
            if position != self.queue_position:
                self.queue_position = position
                self._changed()

    def set_run_id(self, run_id: str) -> None:
        """Remember the run store id (the UI reopens the run from it at the end)."""
        with self._lock:
            self.run_id = run_id
            self._changed()

    def begin(self, total_steps: int, batch_size: int) -> None:
        """Training starts now: fixes the total for the progress bar."""
        with self._lock:
            self.status = TRAINING
            self.total_steps = total_steps
            self.batch_size = batch_size
            self._train_start = self.clock()
            self._changed()

    def add_batch(self, epoch: int, batch: int, logs: dict[str, float], size: int) -> None:
        """Record one batch (Keras gives running means since the start of the epoch).

        Args:
            epoch, batch: 0-based, as Keras counts them.
            logs: Keras' batch logs (loss, accuracy).
            size: images in this batch.
        """
        loss = float(logs.get("loss", _NAN))
        accuracy = float(logs.get("accuracy", _NAN))
        with self._lock:
            now = self.clock()
            seconds = now - (self._train_start if self._train_start is not None else now)
            new_point = self._series.add(epoch + 1, batch + 1, loss, accuracy, seconds, size)
            self._changed(chart=new_point)

    def add_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        """Record the end-of-epoch training and validation metrics."""
        with self._lock:
            now = self.clock()
            start = self._train_start if self._train_start is not None else now
            row = {"epoch": epoch + 1, "seconds": now - start}
            for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
                row[key] = float(logs[key]) if key in logs else _NAN
            self._epochs.append(row)
            self._changed(chart=True)

    def end_training(self) -> None:
        """Freeze the training clock (evaluation and saving are not training time)."""
        with self._lock:
            if self._train_start is not None:
                self._train_seconds = self.clock() - self._train_start
            # The last point may have filled since the last chart: draw it once more.
            self._changed(chart=True)

    # --- read or poked by the UI ---

    def request_stop(self) -> None:
        """Ask the job to stop after the current batch (or not to start, if queued)."""
        self._stop.set()
        with self._lock:
            self._changed()

    @property
    def stop_requested(self) -> bool:
        """True once someone pressed Stop."""
        return self._stop.is_set()

    def snapshot(self) -> Snapshot:
        """Copy the state under the lock; the UI reads only snapshots. O(points)."""
        with self._lock:
            series = self._series
            steps, images, seconds = series.steps, series.images, series.last_seconds
            speed = images / seconds if seconds > 0 else None
            eta = None
            if speed and self.total_steps and self.status == TRAINING:
                eta = max(0.0, (self.total_steps - steps) * self.batch_size / speed)
            return Snapshot(
                status=self.status,
                queue_position=self.queue_position,
                batches=tuple(series.rows()),
                epochs=tuple(self._epochs),
                steps_done=steps,
                total_steps=self.total_steps,
                images_per_second=speed,
                eta_seconds=eta,
                elapsed_seconds=self.clock() - self._created,
                message=self.message,
                run_id=self.run_id,
                stop_requested=self._stop.is_set(),
                images_done=images,
                monitor_id=self.uid,
                version=self.version,
                chart_version=self.chart_version,
            )

    def history(self) -> dict[str, list[dict]]:
        """What to save as the run's history.json: the bounded batch points and the epochs.

        Returns:
            {"batches": [point dicts, as Snapshot.batches], "epochs": [epoch dicts]}; fresh
            lists of fresh dicts, safe to serialise or change.
        """
        with self._lock:
            return {
                "batches": [dict(r) for r in self._series.rows()],
                "epochs": [dict(e) for e in self._epochs],
            }

    def train_seconds(self) -> float:
        """Seconds spent in model.fit (validation passes included)."""
        with self._lock:
            return self._train_seconds
