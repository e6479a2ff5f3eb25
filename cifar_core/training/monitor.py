"""Monitor: a thread-safe record of one training run, written by Keras, read by the UI.

Per-batch logs are kept at bounded resolution (`curve_points.BatchSeries`): a run of 62,500 batches holds
at most `constants.MAX_CURVE_POINTS` points, each the mean, minimum and maximum of a group of
neighbouring batches, so every read of the monitor costs the same however long the run.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cifar_core import constants as C
from cifar_core.curve_points import BatchSeries

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

_NAN = float("nan")
_monitor_ids = itertools.count(1)  # tells monitors apart in caches (id() can be reused)


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

    def stop_note(self, steps_per_epoch: int) -> str:
        """Where a stopped run stopped, exactly: see `stop_note`."""
        return stop_note(self.steps_done, steps_per_epoch, self.total_steps)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def stop_note(steps_done: int, steps_per_epoch: int, total_steps: int = 0) -> str:
    """Where a stopped run stopped, in full epochs and batches of the unfinished one.

    Keras ends a stopped epoch early and still validates it, so the run's history has one
    epoch row more than the full epochs it trained: "Stopped after 2 epochs" would overstate
    a run that did 1 full epoch and 1 batch of the next.

    Args:
        steps_done: training batches done.
        steps_per_epoch: batches in a full epoch.
        total_steps: batches the run asked for (0: unknown), for "of N" epochs.

    Returns:
        e.g. "Stopped during epoch 2 of 5: 1 full epoch and 1 of 13 batches of the next."
    """
    spe = max(1, int(steps_per_epoch))
    planned = total_steps // spe if total_steps else 0
    of = f" of {planned}" if planned else ""
    full, part = divmod(max(0, int(steps_done)), spe)
    if full == 0 and part == 0:
        return "Stopped before the first batch finished: nothing was trained."
    if part == 0:
        return f"Stopped after {_plural(full, 'full epoch')}{of}."
    if full == 0:
        return f"Stopped during epoch 1{of}: {part} of {spe} batches."
    return (
        f"Stopped during epoch {full + 1}{of}: {_plural(full, 'full epoch')} and {part} of "
        f"{spe} batches of the next."
    )


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
