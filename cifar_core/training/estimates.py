"""Estimates: how long a run should train here, how long a queued one waits, how often to poll.

Plain arithmetic on what the job manager knows (speeds, the runs ahead, the audience); the
manager gathers those under its lock and asks here (`JobManager.estimate_seconds`,
`estimate_wait`, `poll_seconds`).
"""

from __future__ import annotations

import math

from cifar_core import constants as C
from cifar_core.training import precision
from cifar_core.training.config import TrainConfig


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
