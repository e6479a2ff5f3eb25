"""Estimates: how long a run should train here, how long a queued one waits, how often to poll.

Plain arithmetic on what the job manager knows (speeds, the runs ahead, the audience); the
manager gathers those under its lock and asks here (`JobManager.estimate_seconds`,
`estimate_wait`, `poll_seconds`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from cifar_core import constants as C
from cifar_core.training import precision
from cifar_core.training.config import TrainConfig
from cifar_core.training.monitor import FINISHED

if TYPE_CHECKING:  # the job module imports TensorFlow lazily; annotations only
    from cifar_core.training.job import TrainingJob


def expected_speed(model: str) -> float:
    """Images/s a network should train at here before any run measured it: the float32 figure
    of a 2-core CPU, times the speed-up of bfloat16 where this server measured and chose it."""
    speed = C.EXPECTED_IMAGES_PER_SECOND[model]
    decision = precision.known(model)
    if decision is not None and decision.precision == precision.BFLOAT16:
        speed *= decision.speedup or 1.0
    return speed


def training_seconds(config: TrainConfig, speed: float, max_run_minutes: float) -> float:
    """Expected training time of a config at `speed` images/s, test pass included.

    Capped at the per-run time limit (`max_run_minutes`) plus the test pass: no run trains
    longer.
    """
    n_train, n_val = config.split_sizes()
    # validation and test passes cost about a third of a training step per image
    seconds = (n_train * config.epochs + (n_val * config.epochs + C.FULL_TEST_SIZE) / 3) / speed
    return min(seconds, max_run_minutes * 60 + C.FULL_TEST_SIZE / 3 / speed)


def wait_seconds(remaining: list[float], ahead: list[float], slots: int) -> float:
    """Seconds until a queued run gets one of `slots` training slots.

    Args:
        remaining: seconds each running run still needs.
        ahead: expected seconds of each run queued ahead of it, in queue order.
        slots: how many runs train at once.
    """
    # The first free slot frees up when the earliest running job ends; then queue order.
    remaining = sorted(remaining)
    free = remaining[:slots] + [0.0] * (slots - len(remaining))
    for seconds in ahead:
        free.sort()
        free[0] += seconds
    return min(free)


def poll_interval(audience: int) -> float:
    """How often a session should poll a job `audience` sessions watch: 1 s, slower as more do.

    Whole seconds, so the interval changes only when the audience grows or shrinks by
    about POLL_BUDGET_PER_SECOND sessions.
    """
    seconds = math.ceil(audience / C.POLL_BUDGET_PER_SECOND) * C.POLL_SECONDS
    return float(min(C.MAX_POLL_SECONDS, max(C.POLL_SECONDS, seconds)))


class QueueEstimates:
    """The job manager's estimates for the pages: expected training time, wait and poll rate.

    A part of `queue.JobManager` (its base class): it reads the manager's measured speeds
    (`_speed`), queue (`_waiting`, `_running` under `_cond`), limits and watcher counts, and
    feeds them to the arithmetic above.
    """

    _speed: dict[str, float]

    def _learn_speed(self, job: TrainingJob) -> None:
        snap = job.monitor.snapshot()
        if snap.status == FINISHED and snap.images_per_second:
            self._speed[job.config.model] = snap.images_per_second

    def estimate_seconds(self, config: TrainConfig) -> float:
        """Expected training time of a config on this machine (from measured speeds).

        Capped at the per-run time limit: no run trains longer.
        """
        speed = self._speed.get(config.model) or expected_speed(config.model)
        return training_seconds(config, speed, self.limits.max_run_minutes)

    def estimate_wait(self, job: TrainingJob) -> float | None:
        """Seconds until a waiting job should start (None if it is not waiting)."""
        with self._cond:
            if job not in self._waiting:
                return None
            ahead = self._waiting[: self._waiting.index(job)]
            running = list(self._running)
        remaining = []
        for other in running:
            eta = other.monitor.snapshot().eta_seconds
            remaining.append(eta if eta is not None else self.estimate_seconds(other.config))
        ahead_seconds = [self.estimate_seconds(other.config) for other in ahead]
        return wait_seconds(remaining, ahead_seconds, self.max_concurrent)

    def poll_seconds(self, jobs: TrainingJob | list[TrainingJob]) -> float:
        """How often a session should poll these jobs: 1 s, slower as more sessions watch."""
        jobs = jobs if isinstance(jobs, list) else [jobs]
        return poll_interval(max((self.watchers(job) for job in jobs), default=1))
