"""Estimates: how long a run should train here, how long a queued one waits, how often to poll.

Plain arithmetic on what the job manager knows (speeds, the runs ahead, the audience), and the
speeds the finished runs measured (`MeasuredSpeeds`, which the manager owns); the manager
gathers the rest under its lock and asks here (`JobManager.estimate_seconds`, `estimate_wait`,
`poll_seconds`).
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


class MeasuredSpeeds:
    """Training speed per model (images/s), measured by the runs that finished here.

    Until a run of a model finished, its speed is `expected_speed`. The job manager owns one:
    it calls `learn` under its lock when a run ends; `images_per_second` takes no lock (one
    dict lookup).
    """

    def __init__(self) -> None:
        self._measured: dict[str, float] = {}

    def learn(self, job: TrainingJob) -> None:
        """Keep the speed of a run that finished (a stopped or failed run's is not kept)."""
        snap = job.monitor.snapshot()
        if snap.status == FINISHED and snap.images_per_second:
            self._measured[job.config.model] = snap.images_per_second

    def images_per_second(self, model: str) -> float:
        """The measured speed of `model`, else the expected one."""
        return self._measured.get(model) or expected_speed(model)
