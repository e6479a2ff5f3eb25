"""Jobs: the process-wide training queue, shared jobs for identical configs, wait estimates."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

from cifar_core import constants as C
from cifar_core.data import Cifar10
from cifar_core.memory import limit_malloc_arenas, release_free_memory
from cifar_core.monitor import CANCELLED, FAILED, FINISHED, STOPPED
from cifar_core.runs import RunStore
from cifar_core.training import TrainConfig, TrainingJob

# Finished jobs kept for attaching (a later identical request gets the saved result at once).
KEEP_FINISHED = 64


class JobManager:
    """Process-wide queue: at most `max_concurrent` trainings at once, the rest wait in order.

    Requests with an identical config share one job: while it waits, runs or after it
    finished, a second request attaches to it instead of training again, so a class of 30
    pressing Train on the teacher's settings costs one training. Each waiting job's monitor
    shows its place in the queue. A job stopped while waiting is cancelled without training.

    Who watches a job is counted (`attach` / `detach`): Stop from one of several watchers
    only detaches that watcher; the last watcher's Stop stops the job. A job nobody watches
    any more (its tabs were closed) still finishes and is saved: nothing is lost and the
    queue moves on.
    """

    def __init__(self, max_concurrent: int = C.DEFAULT_MAX_TRAININGS) -> None:
        limit_malloc_arenas()  # before any training thread allocates: less RSS per run
        self.max_concurrent = max(1, int(max_concurrent))
        self._cond = threading.Condition()
        self._waiting: list[TrainingJob] = []
        self._running: list[TrainingJob] = []
        self._shared: OrderedDict[str, TrainingJob] = OrderedDict()  # config key → job
        self._watchers: dict[int, int] = {}  # id(job) → sessions watching it
        # Measured training speed per model (images/s), for queue estimates.
        self._speed: dict[str, float] = dict(C.EXPECTED_IMAGES_PER_SECOND)

    # --- starting, sharing and watching ---

    def start(
        self, config: TrainConfig, data: Cifar10, store: RunStore
    ) -> tuple[TrainingJob, bool]:
        """Attach to an identical live or finished job, or queue a new one.

        Returns:
            (job, attached): attached is True when an existing job was reused.
        """
        # Same settings, same data, same run store: the same run (tests use several stores).
        key = f"{config.key()}|{data.source}|{store.root.resolve()}"
        with self._cond:
            job = self._shared.get(key)
            if job is not None and self._reusable(job):
                self._watchers[id(job)] = self._watchers.get(id(job), 0) + 1
                self._shared.move_to_end(key)
                return job, True
            job = TrainingJob(config, data, store)
            self._shared[key] = job
            self._watchers[id(job)] = 1
            self._forget_old()
        return self.submit(job), False

    @staticmethod
    def _reusable(job: TrainingJob) -> bool:
        # A stopped, failed or cancelled job did not do what the config asks: train anew.
        return job.monitor.snapshot().status not in (STOPPED, FAILED, CANCELLED)

    def _forget_old(self) -> None:
        finished = [k for k, j in self._shared.items() if j.monitor.snapshot().is_final]
        for key in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            self._watchers.pop(id(self._shared.pop(key)), None)

    def watchers(self, job: TrainingJob) -> int:
        """How many sessions watch this job now."""
        with self._cond:
            return self._watchers.get(id(job), 0)

    def detach(self, job: TrainingJob) -> int:
        """One session stops watching; returns how many still watch."""
        with self._cond:
            left = max(0, self._watchers.get(id(job), 0) - 1)
            self._watchers[id(job)] = left
            return left

    def stop(self, job: TrainingJob) -> bool:
        """Stop on behalf of one session: the job stops only if nobody else watches it.

        Returns:
            True if the job was asked to stop; False if the session just left a shared job.
        """
        if self.detach(job) > 0:
            return False
        job.monitor.request_stop()
        return True

    # --- the queue ---

    def submit(self, job: TrainingJob) -> TrainingJob:
        """Queue a job (not shared) and start its worker thread; returns the job."""
        with self._cond:
            self._waiting.append(job)
            self._renumber()
        job.thread = threading.Thread(target=self._work, args=(job,), name="training", daemon=True)
        job.thread.start()
        return job

    def _renumber(self) -> None:
        for position, waiting in enumerate(self._waiting, start=1):
            waiting.monitor.set_queue_position(position)

    def _work(self, job: TrainingJob) -> None:
        with self._cond:
            while not (self._waiting[0] is job and len(self._running) < self.max_concurrent):
                if job.monitor.stop_requested:
                    self._waiting.remove(job)
                    self._renumber()
                    job.monitor.set_status(CANCELLED, "Stopped before it started.")
                    self._cond.notify_all()
                    return
                self._cond.wait(timeout=0.2)  # wake up now and then to notice a Stop
            self._waiting.pop(0)
            self._running.append(job)
            self._renumber()
        try:
            job.run()
        finally:
            release_free_memory()  # the model and its buffers are gone: return the pages
            with self._cond:
                self._running.remove(job)
                self._learn_speed(job)
                self._cond.notify_all()

    def _learn_speed(self, job: TrainingJob) -> None:
        snap = job.monitor.snapshot()
        if snap.status == FINISHED and snap.images_per_second:
            self._speed[job.config.model] = snap.images_per_second

    # --- what the UI asks ---

    def estimate_seconds(self, config: TrainConfig) -> float:
        """Expected training time of a config on this machine (from measured speeds)."""
        n_train, n_val = config.split_sizes()
        speed = self._speed.get(config.model, min(self._speed.values()))
        # validation and test passes cost about a third of a training step per image
        return (n_train * config.epochs + (n_val * config.epochs + C.FULL_TEST_SIZE) / 3) / speed

    def estimate_wait(self, job: TrainingJob) -> float | None:
        """Seconds until a waiting job should start (None if it is not waiting)."""
        with self._cond:
            if job not in self._waiting:
                return None
            ahead = self._waiting[: self._waiting.index(job)]
            running = list(self._running)
        remaining = []
        for other in running:
            snap = other.monitor.snapshot()
            remaining.append(
                snap.eta_seconds
                if snap.eta_seconds is not None
                else self.estimate_seconds(other.config)
            )
        remaining.sort()
        # The first free slot frees up when the earliest running job ends; then queue order.
        slots = remaining[: self.max_concurrent] + [0.0] * (self.max_concurrent - len(remaining))
        for other in ahead:
            slots.sort()
            slots[0] += self.estimate_seconds(other.config)
        return min(slots)

    def active_run_ids(self) -> set[str]:
        """Run ids of jobs alive in this process (their "running" status is real)."""
        with self._cond:
            return {j.run_id for j in self._running if j.run_id}

    def counts(self) -> tuple[int, int]:
        """(running, waiting) right now."""
        with self._cond:
            return len(self._running), len(self._waiting)


def wait_for(job: TrainingJob, timeout: float = 600.0) -> bool:
    """Block until a job's thread ends (for tests and benches); True if it ended in time."""
    deadline = time.monotonic() + timeout
    while job.thread is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if job.thread is not None:
        job.thread.join(max(0.0, deadline - time.monotonic()))
    return job.thread is not None and not job.thread.is_alive()


def load_preset(value: str | None = None) -> dict:
    """The teacher's preset: default Train settings for everyone on this server.

    Set the environment variable CIFAR_PRESET to a JSON object, or to the path of a JSON
    file, with any TrainConfig fields, e.g. {"model": "deep", "train_size": 2000, "epochs": 3}.

    Args:
        value: the setting (default: $CIFAR_PRESET).

    Returns:
        The preset's fields ({} when unset), checked by TrainConfig.

    Raises:
        ValueError: naming what is wrong with the preset.
    """
    value = (os.environ.get(C.ENV_PRESET, "") if value is None else value).strip()
    if not value:
        return {}
    source = "CIFAR_PRESET"
    if not value.startswith("{"):
        path = Path(value).expanduser()
        if not path.is_file():
            raise ValueError(f"CIFAR_PRESET points to {path}, which is not a file.")
        source, value = str(path), path.read_text()
    try:
        preset = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source} is not valid JSON: {exc}") from exc
    if not isinstance(preset, dict):
        raise ValueError(f"{source} must be a JSON object of Train settings.")
    unknown = set(preset) - set(TrainConfig().to_dict())
    if unknown:
        raise ValueError(f"{source} has unknown settings: {', '.join(sorted(unknown))}.")
    TrainConfig(**preset)  # raises a clear ValueError for a bad value
    return preset
