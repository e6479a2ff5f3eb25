"""Monitor: a thread-safe record of one training run, written by Keras, read by the UI."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of a monitor at one moment, safe to read without locks.

    Attributes:
        status: one of the statuses above.
        queue_position: 1 = next to start; None when not waiting.
        batches: per-batch logs (step, epoch, batch, loss, accuracy, seconds).
        epochs: per-epoch logs (epoch, loss, accuracy, val_loss, val_accuracy, seconds).
        steps_done, total_steps: progress in batches.
        images_per_second: training throughput so far (None before the first batch).
        eta_seconds: estimated time left (None when unknown).
        message: the error message of a failed run, or a status note.
        run_id: the run store id, once the run has one.
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

    @property
    def is_final(self) -> bool:
        """True once the job will not change any more."""
        return self.status in FINAL_STATUSES

    @property
    def progress(self) -> float:
        """Fraction of training batches done, 0–1."""
        return min(1.0, self.steps_done / self.total_steps) if self.total_steps else 0.0


@dataclass
class TrainingMonitor:
    """What a training thread reports and a UI thread polls; every access holds the lock.

    The training side calls `begin`, `add_batch`, `add_epoch` and `set_status`; the UI side
    calls `snapshot` and `request_stop`. Neither side knows about the other.
    """

    status: str = QUEUED
    queue_position: int | None = None
    message: str = ""
    run_id: str | None = None
    total_steps: int = 0
    batch_size: int = 0
    _batches: list[dict] = field(default_factory=list)
    _epochs: list[dict] = field(default_factory=list)
    _created: float = field(default_factory=time.monotonic)
    _train_start: float | None = None
    _train_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    # --- written by the training thread ---

    def set_status(self, status: str, message: str = "") -> None:
        """Move to a new status (and drop the queue position once it leaves the queue)."""
        with self._lock:
            self.status = status
            self.message = message or self.message
            if status != QUEUED:
                self.queue_position = None

    def set_queue_position(self, position: int | None) -> None:
        """1 = next in line."""
        with self._lock:
            self.queue_position = position

    def set_run_id(self, run_id: str) -> None:
        """Remember the run store id (the UI reopens the run from it at the end)."""
        with self._lock:
            self.run_id = run_id

    def begin(self, total_steps: int, batch_size: int) -> None:
        """Training starts now: fixes the total for the progress bar."""
        with self._lock:
            self.status = TRAINING
            self.total_steps = total_steps
            self.batch_size = batch_size
            self._train_start = time.monotonic()

    def add_batch(self, epoch: int, batch: int, logs: dict[str, float], size: int) -> None:
        """Record one batch (Keras gives running means since the start of the epoch)."""
        with self._lock:
            now = time.monotonic()
            self._batches.append(
                {
                    "step": len(self._batches) + 1,
                    "epoch": epoch + 1,
                    "batch": batch + 1,
                    "loss": float(logs.get("loss", float("nan"))),
                    "accuracy": float(logs.get("accuracy", float("nan"))),
                    "seconds": now - (self._train_start or now),
                    "size": size,
                }
            )

    def add_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        """Record the end-of-epoch training and validation metrics."""
        with self._lock:
            now = time.monotonic()
            row = {"epoch": epoch + 1, "seconds": now - (self._train_start or now)}
            for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
                row[key] = float(logs[key]) if key in logs else float("nan")
            self._epochs.append(row)

    def end_training(self) -> None:
        """Freeze the training clock (evaluation and saving are not training time)."""
        with self._lock:
            if self._train_start is not None:
                self._train_seconds = time.monotonic() - self._train_start

    # --- read or poked by the UI ---

    def request_stop(self) -> None:
        """Ask the job to stop after the current batch (or not to start, if queued)."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        """True once someone pressed Stop."""
        return self._stop.is_set()

    def snapshot(self) -> Snapshot:
        """Copy the state under the lock; the UI reads only snapshots."""
        with self._lock:
            steps = len(self._batches)
            images = sum(b["size"] for b in self._batches)
            seconds = self._batches[-1]["seconds"] if self._batches else 0.0
            speed = images / seconds if seconds > 0 else None
            eta = None
            if speed and self.total_steps and self.status == TRAINING:
                eta = max(0.0, (self.total_steps - steps) * self.batch_size / speed)
            return Snapshot(
                status=self.status,
                queue_position=self.queue_position,
                batches=tuple(self._batches),
                epochs=tuple(self._epochs),
                steps_done=steps,
                total_steps=self.total_steps,
                images_per_second=speed,
                eta_seconds=eta,
                elapsed_seconds=time.monotonic() - self._created,
                message=self.message,
                run_id=self.run_id,
                stop_requested=self._stop.is_set(),
            )

    def train_seconds(self) -> float:
        """Seconds spent in model.fit (validation passes included)."""
        with self._lock:
            return self._train_seconds
