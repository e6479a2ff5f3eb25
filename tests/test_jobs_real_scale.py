"""Job queue at real scale: limits, stopping runs, dead jobs, finalizers and one manager.

Each fault test here failed on the code before the "Real scale" issue (see its docstring).
"""

from __future__ import annotations

import errno
import gc
import threading

import pytest

from cifar_core.training import TrainConfig, TrainingJob
from cifar_core.training.limits import LimitError, Limits
from cifar_core.training.monitor import CANCELLED, FAILED, QUEUED, STOPPED
from cifar_core.training.queue import JobManager, wait_for
from tests.conftest import wait_until

TINY = dict(model="shallow", train_size=200, epochs=1, batch_size=64, seed=1)


class Blocker(TrainingJob):
    """Holds the only training slot until released, so the jobs behind it stay queued."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.release = threading.Event()

    def run(self) -> None:
        self.monitor.set_status("training")
        self.release.wait(60)
        self.monitor.set_status(STOPPED, "released")


@pytest.fixture()
def blocked(sample_data, tmp_store):
    """A one-slot manager whose slot is held; yields (manager, blocker); frees it after."""
    manager = JobManager(1)
    blocker = Blocker(TrainConfig(**{**TINY, "seed": 999}), sample_data, tmp_store)
    manager.submit(blocker)
    wait_until(lambda: blocker.monitor.snapshot().status == "training")
    yield manager, blocker
    blocker.release.set()
    assert wait_for(blocker, 30)


def test_joining_right_after_the_last_watchers_stop_trains_anew(blocked, sample_data, tmp_store):
    # Before: the stopping job was still "queued"/"training", so the next Train joined it and
    # got a stopped (or cancelled) result instead of the run it asked for.
    manager, _ = blocked
    config = TrainConfig(**TINY)
    job, _ = manager.start(config, sample_data, tmp_store)
    assert manager.stop(job) is True  # the only watcher: the job is asked to stop
    again, attached = manager.start(config, sample_data, tmp_store)
    assert again is not job and not attached
    assert wait_for(job, 30) and job.monitor.snapshot().status == CANCELLED
    again.monitor.request_stop()
    assert wait_for(again, 30)


def test_a_failure_that_cannot_be_written_still_ends_the_job(sample_data, tmp_store, monkeypatch):
    # Before: writing status.json raised inside the failure handler, the job stayed "saving"
    # forever, and everyone asking for the same settings joined the dead job.
    from cifar_core.runs import RunStore

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    real_set_status = RunStore.set_status

    def set_status(self, run_id, status, message="", **extra):
        if status == FAILED:
            disk_full()
        return real_set_status(self, run_id, status, message, **extra)

    monkeypatch.setattr(RunStore, "write_predictions", disk_full)
    monkeypatch.setattr(RunStore, "set_status", set_status)
    manager = JobManager(1)
    config = TrainConfig(**TINY)
    job, _ = manager.start(config, sample_data, tmp_store)
    assert wait_for(job, 180)
    snap = job.monitor.snapshot()
    assert snap.status == FAILED, snap
    assert "disk is full" in snap.message and "could not record" in snap.message
    again, attached = manager.start(config, sample_data, tmp_store)
    assert again is not job and not attached  # a failed job is never joined
    again.monitor.request_stop()
    assert wait_for(again, 120)


def test_a_session_release_never_waits_for_the_managers_lock(sample_data, tmp_store):
    # Garbage collection may run a session's finalizer in a training thread that holds a
    # monitor's lock while a page holds the manager's lock waiting for that monitor. Before,
    # the finalizer took the manager's lock: deadlock. Now it must return at once.
    from ui.common import _Watch

    manager = JobManager(1)
    blocker = Blocker(TrainConfig(**TINY), sample_data, tmp_store)
    manager.submit(blocker)
    job, _ = manager.start(TrainConfig(**{**TINY, "seed": 2}), sample_data, tmp_store)
    manager.start(TrainConfig(**{**TINY, "seed": 2}), sample_data, tmp_store)
    token = _Watch([job], manager)
    held, release = threading.Event(), threading.Event()

    def hold_lock():
        with manager._cond:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    held.wait(5)
    finished = threading.Event()

    def collect():
        nonlocal token
        del token
        gc.collect()  # runs the session's finalizer here, with the lock held elsewhere
        finished.set()

    collector = threading.Thread(target=collect)
    collector.start()
    try:
        assert finished.wait(5), "the finalizer blocked on the manager's lock"
    finally:
        release.set()
        holder.join(10)
        collector.join(10)
    assert manager.watchers(job) == 2 - 1  # the release is applied at the next step
    job.monitor.request_stop()
    blocker.release.set()
    assert wait_for(blocker, 30) and wait_for(job, 60)


def test_a_queued_job_nobody_watches_any_more_is_cancelled(blocked, sample_data, tmp_store):
    manager, _ = blocked
    job, _ = manager.start(TrainConfig(**TINY), sample_data, tmp_store)
    manager.release_later(job)  # its only session ended (tab closed)
    assert manager.watchers(job) == 0
    assert wait_for(job, 30) and job.monitor.snapshot().status == CANCELLED


def test_per_run_budget_says_what_fits(sample_data, tmp_store):
    manager = JobManager(1, Limits(max_image_epochs=10_000))
    config = TrainConfig(**{**TINY, "train_size": 5000, "epochs": 3})
    with pytest.raises(LimitError, match="15,000 image-passes") as exc:
        manager.start(config, sample_data, tmp_store)
    assert "at most 2 epochs with 5,000 images" in str(exc.value)
    assert "at most 3,300 images with 3 epochs" in str(exc.value)
    assert manager.counts() == (0, 0)  # nothing was queued
    assert manager.limits.check_config(TrainConfig(**TINY)) is None


def test_one_request_per_session_and_a_queue_cap(blocked, sample_data, tmp_store):
    manager, _ = blocked
    manager.limits = Limits(max_queue=2)
    mine, _ = manager.start(TrainConfig(**TINY), sample_data, tmp_store, owner="a")
    with pytest.raises(LimitError, match="already have a training"):
        manager.start(TrainConfig(**{**TINY, "seed": 5}), sample_data, tmp_store, owner="a")
    # Asking again for the run it already has is fine (a second click, a reload).
    same, attached = manager.start(TrainConfig(**TINY), sample_data, tmp_store, owner="a")
    assert same is mine and attached
    other, _ = manager.start(TrainConfig(**{**TINY, "seed": 6}), sample_data, tmp_store, owner="b")
    assert manager.counts() == (1, 2)
    with pytest.raises(LimitError, match="queue is full"):
        manager.start(TrainConfig(**{**TINY, "seed": 7}), sample_data, tmp_store, owner="c")
    # Joining a queued run never counts against the queue.
    joined, attached = manager.start(TrainConfig(**TINY), sample_data, tmp_store, owner="c")
    assert joined is mine and attached
    for job in (mine, other):
        job.monitor.request_stop()
        assert wait_for(job, 30)
    # Once its request ended, a session may ask again.
    again, _ = manager.start(TrainConfig(**{**TINY, "seed": 8}), sample_data, tmp_store, owner="a")
    again.monitor.request_stop()
    assert wait_for(again, 30)


def test_a_pair_is_all_or_nothing(blocked, sample_data, tmp_store):
    manager, _ = blocked
    manager.limits = Limits(max_queue=1)
    pair = [TrainConfig(**TINY), TrainConfig(**{**TINY, "model": "deep"})]
    with pytest.raises(LimitError, match="queue is full"):
        manager.start_request(pair, sample_data, tmp_store, owner="a")
    assert manager.counts() == (1, 0)  # neither half was queued
    manager.limits = Limits(max_queue=2)
    started = manager.start_request(pair, sample_data, tmp_store, owner="a")
    assert [attached for _, attached in started] == [False, False]
    assert [job.monitor.snapshot().status for job, _ in started] == [QUEUED, QUEUED]
    for job, _ in started:
        job.monitor.request_stop()
        assert wait_for(job, 30)


@pytest.mark.slow
def test_a_run_stops_and_is_saved_at_the_time_limit(sample_data, tmp_store):
    manager = JobManager(1, Limits(max_run_minutes=1.5 / 60))  # 1.5 s of training
    config = TrainConfig(**{**TINY, "train_size": 4000, "epochs": 5, "batch_size": 32})
    job, _ = manager.start(config, sample_data, tmp_store)
    assert wait_for(job, 180)
    snap = job.monitor.snapshot()
    assert snap.status == STOPPED and snap.steps_done < snap.total_steps
    run = tmp_store.load(job.run_id)
    assert run.status["status"] == STOPPED and "time limit of 0.025 min" in run.status["message"]
    assert run.has("model.keras") and run.result["test_accuracy"] >= 0


def test_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv("CIFAR_MAX_IMAGE_EPOCHS", "50000")
    monkeypatch.setenv("CIFAR_MAX_RUN_MINUTES", "2.5")
    monkeypatch.setenv("CIFAR_MAX_QUEUE", "3")
    assert Limits.from_env() == Limits(max_image_epochs=50_000, max_run_minutes=2.5, max_queue=3)
    monkeypatch.setenv("CIFAR_MAX_QUEUE", "lots")
    with pytest.raises(ValueError, match="CIFAR_MAX_QUEUE must be a number"):
        Limits.from_env()
    monkeypatch.setenv("CIFAR_MAX_QUEUE", "0")
    with pytest.raises(ValueError, match="above 0"):
        Limits.from_env()


def test_one_manager_and_one_data_set_whatever_the_caches_do(cifar_dir, monkeypatch):
    # Before: both were st.cache_resource values, and "Clear caches" in the app menu made a
    # second manager (two trainings at once despite CIFAR_MAX_TRAININGS=1) and a second copy
    # of the data set.
    import streamlit as st

    from ui.common import get_data, get_manager

    monkeypatch.setenv("CIFAR10_DIR", str(cifar_dir))
    manager, data = get_manager(), get_data()
    st.cache_resource.clear()
    st.cache_data.clear()
    assert get_manager() is manager and get_data() is data


def test_leaving_a_shared_run_frees_the_session_to_train_something_else(
    blocked, sample_data, tmp_store
):
    manager, _ = blocked
    shared, _ = manager.start(TrainConfig(**TINY), sample_data, tmp_store, owner="a")
    manager.start(TrainConfig(**TINY), sample_data, tmp_store, owner="b")
    assert manager.stop(shared, owner="a") is False  # "Leave this shared run": b still watches
    mine, attached = manager.start(
        TrainConfig(**{**TINY, "seed": 3}), sample_data, tmp_store, owner="a"
    )
    assert not attached and mine is not shared
    for job in (shared, mine):
        job.monitor.request_stop()
        assert wait_for(job, 30)


def test_the_queue_prunes_the_run_store_but_never_a_watched_run(sample_data, tmp_path, monkeypatch):
    from cifar_core.runs import RunStore

    store = RunStore(tmp_path / "runs")
    manager = JobManager(1)
    watched, _ = manager.start(TrainConfig(**TINY), sample_data, store)
    assert wait_for(watched, 180)
    for seed in (2, 3):
        job = manager.submit(TrainingJob(TrainConfig(**{**TINY, "seed": seed}), sample_data, store))
        assert wait_for(job, 180)
    assert len(store.list_runs()) == 3
    monkeypatch.setenv("CIFAR_RUNS_MAX_COUNT", "1")
    newest, _ = manager.start(TrainConfig(**{**TINY, "seed": 4}), sample_data, store)
    assert wait_for(newest, 180)
    # Over budget: the oldest runs nobody watches went; the watched ones stay (even over it).
    assert {info.run_id for info in store.list_runs()} == {watched.run_id, newest.run_id}


@pytest.mark.parametrize(
    ("watchers", "seconds"), [(1, 1.0), (5, 1.0), (6, 2.0), (15, 3.0), (21, 5.0), (200, 5.0)]
)
def test_a_class_polls_a_shared_run_less_often_each(
    blocked, sample_data, tmp_store, watchers, seconds
):
    manager, _ = blocked
    for _ in range(watchers):
        job, _ = manager.start(TrainConfig(**TINY), sample_data, tmp_store)
    assert manager.poll_seconds(job) == seconds
    assert manager.poll_seconds([job]) == seconds
    job.monitor.request_stop()
    assert wait_for(job, 30)
