"""The training queue under cancels and crowds: no gap, no stale place, nobody waits forever.

The jobs here do not train: `Quick` jobs "run" at once and `Blocker` holds the only slot, so
the queue's own logic (JobManager.start_request, stop, _work, _renumber, estimate_wait) is
tested in well under a second per test, with real threads.
"""

from __future__ import annotations

import sys
import threading

import pytest

import cifar_core.training.queue as jobs_module
from cifar_core.training import TrainConfig, TrainingJob
from cifar_core.training.limits import LimitError, Limits
from cifar_core.training.monitor import CANCELLED, FINISHED, QUEUED, TRAINING
from cifar_core.training.queue import JobManager, wait_for
from tests.conftest import wait_until
from tests.test_jobs_real_scale import Blocker

TINY = dict(model="shallow", train_size=200, epochs=1, batch_size=64, seed=1)


def config(seed: int) -> TrainConfig:
    return TrainConfig(**{**TINY, "seed": seed})


class Quick(TrainingJob):
    """A job that 'trains' at once, without TensorFlow, and notes that it ran (and in which order).

    `made` counts the jobs built, `ran` lists them in the order they ran. `build_delay`
    stretches construction, which the manager does between looking a config up and recording
    its job: a lookup outside the manager's lock then lets two requests make two jobs.
    """

    made: list[Quick] = []
    ran: list[Quick] = []
    build_delay = 0.0

    def __init__(self, *args, **kwargs) -> None:
        if self.build_delay:
            threading.Event().wait(self.build_delay)
        super().__init__(*args, **kwargs)
        type(self).made.append(self)

    def run(self) -> None:
        self.monitor.set_status(TRAINING)
        type(self).ran.append(self)
        self.monitor.set_status(FINISHED)


@pytest.fixture()
def quick(monkeypatch):
    """The manager builds Quick jobs (a fresh subclass per test, so the logs start empty)."""
    cls = type("QuickJob", (Quick,), {"made": [], "ran": [], "build_delay": 0.0})
    monkeypatch.setattr(jobs_module, "TrainingJob", cls)
    return cls


@pytest.fixture()
def held(sample_data, tmp_store, quick):
    """A one-slot manager whose slot a Blocker holds; yields (manager, blocker), frees it after."""
    manager = JobManager(1)
    blocker = Blocker(config(999), sample_data, tmp_store)
    manager.submit(blocker)
    wait_until(lambda: blocker.monitor.snapshot().status == "training", timeout=10)
    yield manager, blocker
    blocker.release.set()
    assert wait_for(blocker, 10)


def positions(jobs: list[TrainingJob]) -> list[int | None]:
    return [j.monitor.snapshot().queue_position for j in jobs]


def cancel(manager: JobManager, job: TrainingJob, how: str) -> None:
    """The three ways a waiting job loses its last watcher."""
    if how == "stop":  # its only session pressed Stop
        assert manager.stop(job, owner="someone") is True
    elif how == "closed tab":  # its only session ended: the finalizer's deferred detach
        manager.release_later(job)
        assert manager.watchers(job) == 0
    else:  # the monitor itself (what the time limit and older code paths do)
        job.monitor.request_stop()


@pytest.mark.parametrize("how", ["stop", "closed tab", "request_stop"])
def test_cancelling_from_the_middle_renumbers_and_every_other_job_runs(
    held, quick, sample_data, tmp_store, how
):
    manager, blocker = held
    queued = [manager.start(config(seed), sample_data, tmp_store)[0] for seed in range(4)]
    assert positions(queued) == [1, 2, 3, 4]
    assert manager.counts() == (1, 4)
    waits = [manager.estimate_wait(j) for j in queued]
    assert all(w is not None for w in waits) and waits == sorted(waits) and waits[0] < waits[3]

    middle = queued[1]
    cancel(manager, middle, how)
    assert wait_for(middle, 5), "a cancelled waiting job must end at once"
    snap = middle.monitor.snapshot()
    assert snap.status == CANCELLED and snap.queue_position is None
    rest = [queued[0], *queued[2:]]
    # No gap and no stale place: the ones behind the cancelled job move up at once.
    wait_until(lambda: positions(rest) == [1, 2, 3], timeout=5)
    assert manager.counts() == (1, 3)
    assert manager.estimate_wait(middle) is None
    after = [manager.estimate_wait(j) for j in rest]
    assert after == sorted(after)
    assert after[-1] < waits[-1]  # the last one no longer waits for the cancelled run
    assert after[0] == waits[0]  # nothing changed ahead of the first

    blocker.release.set()
    for job in rest:
        assert wait_for(job, 10), "a job behind a cancelled one never ran"
        assert job.monitor.snapshot().status == FINISHED
    assert quick.ran == rest  # in queue order; the cancelled job never ran
    assert manager.counts() == (0, 0)


@pytest.mark.parametrize("how", ["stop", "closed tab", "request_stop"])
def test_cancelling_the_head_of_the_queue_lets_the_next_one_start(
    held, quick, sample_data, tmp_store, how
):
    manager, blocker = held
    queued = [manager.start(config(seed), sample_data, tmp_store)[0] for seed in range(3)]
    head = queued[0]
    cancel(manager, head, how)
    assert wait_for(head, 5) and head.monitor.snapshot().status == CANCELLED
    wait_until(lambda: positions(queued[1:]) == [1, 2], timeout=5)
    blocker.release.set()
    for job in queued[1:]:
        assert wait_for(job, 10), "the queue stalled behind a cancelled head"
        assert job.monitor.snapshot().status == FINISHED
    assert quick.ran == queued[1:]
    assert manager.counts() == (0, 0)


# A job stopped while it waited never trains, even when its slot frees at the moment of the
# Stop (JobManager._work looks at stop_requested before "may it start?"; it used not to).
def test_a_head_cancelled_as_the_slot_frees_does_not_train(held, quick, sample_data, tmp_store):
    # The head's session presses Stop (or its tab closes) just before the running job ends.
    manager, blocker = held
    # Workers re-check every 0.2 s; here they only wake when notified, so the order of events
    # is fixed: Stop first, then the slot frees (in real life: within one 0.2 s wait).
    cond = manager._cond
    cond.wait = lambda timeout=None: threading.Condition.wait(cond, 5.0)
    head, _ = manager.start(config(1), sample_data, tmp_store)
    second, _ = manager.start(config(2), sample_data, tmp_store)
    wait_until(lambda: positions([head, second]) == [1, 2], timeout=5)
    assert manager.stop(head) is True
    blocker.release.set()
    assert wait_for(head, 10) and wait_for(second, 10)
    assert head.monitor.snapshot().status == CANCELLED, head.monitor.snapshot()
    assert quick.ran == [second]
    assert second.monitor.snapshot().status == FINISHED


def test_a_job_stopped_before_its_worker_looked_never_trains(quick, sample_data, tmp_store):
    # Train, then Stop (or a closed tab) before the new job's worker thread first got the
    # manager's lock: the queue is empty, so the worker finds a free slot at once.
    manager = JobManager(1)
    with manager._cond:  # the worker waits for this lock before it looks at anything
        job, _ = manager.start(config(1), sample_data, tmp_store)
        assert manager.stop(job) is True
    assert wait_for(job, 10)
    assert job.monitor.snapshot().status == CANCELLED, job.monitor.snapshot()
    assert quick.ran == []
    assert manager.counts() == (0, 0)


@pytest.mark.parametrize("round_", range(3))
def test_many_sessions_at_once_share_jobs_and_respect_the_queue_cap(
    held, quick, sample_data, tmp_store, round_
):
    # 20 sessions press Train in the same instant; 8 distinct settings, so some share.
    manager, blocker = held
    manager.limits = Limits(max_queue=5)
    quick.build_delay = 0.005  # a wide window between a config's lookup and its job's record
    seeds = [i % 8 for i in range(20)]
    barrier = threading.Barrier(len(seeds))
    results: dict[int, tuple[int, TrainingJob | None, bool | Exception]] = {}

    def press_train(i: int) -> None:
        barrier.wait(5)
        try:
            [(job, attached)] = manager.start_request(
                [config(seeds[i])], sample_data, tmp_store, owner=f"session-{i}"
            )
            results[i] = (seeds[i], job, attached)
        except LimitError as exc:
            results[i] = (seeds[i], None, exc)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: races show up if there are any
    try:
        threads = [threading.Thread(target=press_train, args=(i,)) for i in range(len(seeds))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        sys.setswitchinterval(old_interval)
    assert len(results) == len(seeds), "a request never returned"

    by_seed: dict[int, list] = {}
    for seed, job, outcome in results.values():
        by_seed.setdefault(seed, []).append((job, outcome))
    jobs = []
    for seed, answers in by_seed.items():
        got = {id(job) for job, _ in answers}
        # A config either got ONE job for every request, or was refused for every request
        # (the queue only grows here: once full, a new config can never get in).
        assert len(got) == 1, f"seed {seed}: {len(got)} different answers {answers}"
        job = answers[0][0]
        if job is None:
            assert all("queue is full" in str(outcome) for _, outcome in answers)
            continue
        jobs.append(job)
        assert sum(outcome is False for _, outcome in answers) == 1  # made once, joined after
        assert manager.watchers(job) == len(answers)
        assert job.config.seed == seed
    assert len(jobs) == manager.limits.max_queue  # the cap holds, and is reached
    assert len(quick.made) == len(jobs)  # no job built beside the queue
    assert manager.counts() == (1, len(jobs))
    assert sorted(positions(jobs)) == list(range(1, len(jobs) + 1))  # a permutation of 1..n
    assert all(j.monitor.snapshot().status == QUEUED for j in jobs)

    # The queue drains in its own order, every job to the end.
    order = sorted(jobs, key=lambda j: j.monitor.snapshot().queue_position)
    blocker.release.set()
    for job in jobs:
        assert wait_for(job, 10) and job.monitor.snapshot().status == FINISHED
    assert quick.ran == order
    assert manager.counts() == (0, 0)
