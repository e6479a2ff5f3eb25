"""Bench: every lesson experiment (cifar_core/lessons.py) on the real sample — time and outcome.

Each experiment is requested as the "See it: run this" button does (one request, identical
configs sharing one run) on a fresh job manager and run store; its time is from the request
until every run is saved. Prints each experiment's runs, its time, whether it showed its claim
and the numbers; the last line is `lessons_shown=<shown>/<all> slowest_s=<seconds>` (target:
all shown, each ≤ 120 s on 2 cores).

Run from the repo root: `python -m bench.lessons`.
"""

from __future__ import annotations

import tempfile
import time

from cifar_core import lessons as L
from cifar_core.data import load_local
from cifar_core.runs import RunStore
from cifar_core.training.precision import precision_for
from cifar_core.training.queue import JobManager, wait_for
from harness.sample import sample_dir


def main() -> None:
    data = load_local(sample_dir()).make_read_only()
    print(f"precision: deep {precision_for('deep').precision}, "
          f"shallow {precision_for('shallow').precision}")  # fmt: skip
    shown_count, slowest = 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for key, experiment in L.EXPERIMENTS.items():
            store = RunStore(f"{tmp}/{key}")
            start = time.perf_counter()
            started = JobManager(1).start_request(list(experiment.configs), data, store)
            jobs = [job for job, _ in started]
            for job in jobs:
                assert wait_for(job, 1800)
            seconds = time.perf_counter() - start
            outcomes = []
            for label, job in zip(experiment.labels, jobs, strict=True):
                run = store.load(job.monitor.snapshot().run_id)
                outcomes.append(
                    L.Outcome(label, run.result["test_accuracy"], run.history["epochs"])
                )
            shown, text = L.evaluate(key, outcomes)
            shown_count += shown
            slowest = max(slowest, seconds)
            runs = len({id(j) for j in jobs})
            print(f"{key}: {runs} run(s), {seconds:.0f} s, shown={shown}: {text}", flush=True)
    print(f"lessons_shown={shown_count}/{len(L.EXPERIMENTS)} slowest_s={slowest:.0f}")


if __name__ == "__main__":
    main()
