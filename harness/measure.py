"""Bench measurements: own peak memory, a training job's speed, alternating repeats, spread."""

from __future__ import annotations

import resource


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def job_images_per_s(data, config, store) -> float:
    """Images/s of one app TrainingJob over its own fit time (no evaluation, no saving)."""
    from cifar_core.training import TrainingJob
    from cifar_core.training.queue import JobManager, wait_for

    job = JobManager(1).submit(TrainingJob(config, data, store))
    assert wait_for(job, 1800), "job did not finish"
    snap = job.monitor.snapshot()
    assert snap.status == "finished", snap.message
    return config.split_sizes()[0] * config.epochs / job.monitor.train_seconds()


def alternating(work: dict, repeats: int) -> dict[str, list[float]]:
    """Run each named measurement `repeats` times, alternating the order every round (A B,
    B A, A B, …) so that drift on a shared machine — and whatever the first one leaves warm —
    hits every measurement alike. Returns name → the measured values, in round order.

    Args:
        work: name → a callable returning one measurement (a float).
        repeats: rounds; at least 5 for a ratio worth printing on this noisy machine.
    """
    names = list(work)
    values: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        for name in names if round_ % 2 == 0 else reversed(names):
            values[name].append(float(work[name]()))
    return values


def spread(values: list[float], unit: str = "") -> str:
    """'median 385 img/s (min 370, max 401, spread ±4.0% of the median, n=5)'."""
    import statistics

    mid = statistics.median(values)
    half = (max(values) - min(values)) / 2
    pct = 100 * half / mid if mid else float("nan")
    u = f" {unit}" if unit else ""
    return (
        f"median {mid:,.1f}{u} (min {min(values):,.1f}, max {max(values):,.1f}, "
        f"spread ±{pct:.1f}% of the median, n={len(values)})"
    )
