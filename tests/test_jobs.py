"""Job queue: shared jobs for identical configs, watchers, estimates and the teacher preset."""

from __future__ import annotations

import gc
import json

import pytest

from cifar_core.training import TrainConfig
from cifar_core.training.limits import load_preset
from cifar_core.training.monitor import FINISHED, QUEUED, STOPPED
from cifar_core.training.queue import JobManager, wait_for
from tests.conftest import wait_until

TINY = dict(model="deep", train_size=300, epochs=1, batch_size=64, seed=1)


@pytest.mark.slow
def test_identical_configs_share_one_job_and_one_run(sample_data, tmp_store):
    manager = JobManager(1)
    config = TrainConfig(**{**TINY, "epochs": 2})
    first, attached_first = manager.start(config, sample_data, tmp_store)
    second, attached_second = manager.start(
        TrainConfig(**{**TINY, "epochs": 2}), sample_data, tmp_store
    )
    assert (attached_first, attached_second) == (False, True)
    assert second is first and manager.watchers(first) == 2
    other, attached_other = manager.start(
        TrainConfig(**{**TINY, "seed": 9}), sample_data, tmp_store
    )
    assert other is not first and not attached_other
    wait_until(lambda: first.monitor.snapshot().status != QUEUED)
    assert other.monitor.snapshot().queue_position == 1
    wait = manager.estimate_wait(other)
    assert wait is not None and wait > 0
    assert manager.estimate_wait(first) is None  # it is not waiting
    assert wait_for(first, 180) and wait_for(other, 180)
    # After it finished, the same config gets the finished job (and its saved run) at once.
    late, attached_late = manager.start(config, sample_data, tmp_store)
    assert late is first and attached_late and late.monitor.snapshot().status == FINISHED
    assert len(tmp_store.list_runs()) == 2  # one per distinct config, not per request


@pytest.mark.slow
def test_stop_from_one_watcher_only_leaves_a_shared_job(sample_data, tmp_store):
    manager = JobManager(1)
    config = TrainConfig(**{**TINY, "train_size": 2000, "epochs": 4})
    job, _ = manager.start(config, sample_data, tmp_store)
    manager.start(config, sample_data, tmp_store)
    wait_until(lambda: job.monitor.snapshot().steps_done >= 2)
    assert manager.stop(job) is False  # another session still watches: just leave
    assert not job.monitor.stop_requested and manager.watchers(job) == 1
    assert manager.stop(job) is True  # the last watcher stops it
    assert wait_for(job, 120) and job.monitor.snapshot().status == STOPPED
    # A stopped run did not do what the config asks: the next request trains anew.
    again, attached = manager.start(config, sample_data, tmp_store)
    assert again is not job and not attached
    again.monitor.request_stop()
    assert wait_for(again, 120)


@pytest.mark.slow
def test_queue_positions_cancel_and_failure(sample_data, tmp_store):
    from cifar_core.training import TrainingJob
    from cifar_core.training.monitor import CANCELLED, FAILED

    manager = JobManager(1)
    first = manager.submit(
        TrainingJob(TrainConfig(**{**TINY, "epochs": 3}), sample_data, tmp_store)
    )
    too_big = manager.submit(
        TrainingJob(TrainConfig(**{**TINY, "train_size": 9000}), sample_data, tmp_store)
    )
    cancelled = manager.submit(TrainingJob(TrainConfig(**TINY), sample_data, tmp_store))
    wait_until(lambda: first.monitor.snapshot().status != QUEUED)
    assert too_big.monitor.snapshot().queue_position == 1
    assert cancelled.monitor.snapshot().queue_position == 2
    assert manager.counts() == (1, 2)
    cancelled.monitor.request_stop()
    assert wait_for(cancelled, 30) and cancelled.monitor.snapshot().status == CANCELLED
    assert too_big.monitor.snapshot().queue_position == 1
    assert wait_for(first, 180) and wait_for(too_big, 60)
    failed = too_big.monitor.snapshot()
    assert failed.status == FAILED and "only 5,085" in failed.message  # the queue moved on
    assert first.monitor.snapshot().status == FINISHED
    assert [i.status for i in tmp_store.list_runs()] == [FINISHED]  # nothing saved for the others


def test_a_closed_session_releases_its_watch(sample_data, tmp_store):
    from ui.common import _Watch

    manager = JobManager(1)
    config = TrainConfig(**TINY)
    job, _ = manager.start(config, sample_data, tmp_store)
    manager.start(config, sample_data, tmp_store)
    token = _Watch([job], manager)  # what a session keeps in its state
    assert manager.watchers(job) == 2
    del token  # Streamlit dropped the session (tab closed)
    gc.collect()
    assert manager.watchers(job) == 1
    assert wait_for(job, 180) and job.monitor.snapshot().status == FINISHED  # still saved


def test_estimates_use_the_config():
    manager = JobManager(1)
    small = manager.estimate_seconds(TrainConfig(train_size=1000, epochs=1))
    big = manager.estimate_seconds(TrainConfig(train_size=1000, epochs=4))
    assert 0 < small < big


def test_teacher_preset_from_json_or_file(tmp_path, monkeypatch):
    assert load_preset("") == {}
    assert load_preset('{"model": "shallow", "epochs": 3}') == {"model": "shallow", "epochs": 3}
    path = tmp_path / "preset.json"
    path.write_text(json.dumps({"train_size": 2000}))
    monkeypatch.setenv("CIFAR_PRESET", str(path))
    assert load_preset() == {"train_size": 2000}
    with pytest.raises(ValueError, match="not valid JSON"):
        load_preset("{oops")
    with pytest.raises(ValueError, match="unknown settings: colour"):
        load_preset('{"colour": "red"}')
    with pytest.raises(ValueError, match="Epochs must be"):
        load_preset('{"epochs": 500}')
    with pytest.raises(ValueError, match="not a file"):
        load_preset(str(tmp_path / "missing.json"))


class Clock:
    """A hand-moved clock for the presence bookkeeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_watching_now_drops_a_closed_tab_within_a_few_polls(sample_data, tmp_store):
    from tests.test_jobs_real_scale import Blocker

    clock = Clock()
    manager = JobManager(1, clock=clock)
    blocker = manager.submit(Blocker(TrainConfig(**{**TINY, "seed": 99}), sample_data, tmp_store))
    try:
        config = TrainConfig(**TINY)
        job, _ = manager.start(config, sample_data, tmp_store, owner="alice")
        manager.start(config, sample_data, tmp_store, owner="bob")
        assert manager.watchers(job) == 2 and manager.watching_now(job) == 0  # nobody polled yet
        manager.seen(job, "alice", 1.0)
        manager.seen(job, "bob", 1.0)
        assert manager.watching_now(job) == 2
        # Bob closes his tab: his polls stop, but Streamlit has not dropped his session yet.
        for _ in range(5):
            clock.now += 1.0
            manager.seen(job, "alice", 1.0)
        assert manager.watching_now(job) == 2  # 5 s: within the shortest window still
        clock.now += 1.0
        manager.seen(job, "alice", 1.0)
        assert manager.watching_now(job) == 1  # bob's last poll is over 5 s old
        assert manager.watchers(job) == 2  # Stop still goes by who asked and did not leave
        assert manager.stop(job, "alice") is False  # so alice only leaves the shared run
        assert manager.watching_now(job) == 0  # and stops counting at once
        assert not job.monitor.stop_requested
        manager.release_later(job)  # bob's session is garbage-collected at last
        assert manager.watchers(job) == 0
        assert wait_for(job, 30)  # nobody wanted the queued job any more: cancelled
    finally:
        blocker.release.set()
        assert wait_for(blocker, 30)


def test_a_slow_poller_counts_for_a_few_of_its_intervals():
    from cifar_core.training.presence import PRESENCE_MIN_SECONDS, PRESENCE_POLLS, Presence

    clock = Clock()
    presence = Presence(clock)
    presence.seen("job", "slow", every=5.0)  # a session polling a crowded run every 5 s
    presence.seen("job", "fast", every=1.0)
    presence.seen("other job", "fast", every=1.0)
    clock.now += PRESENCE_MIN_SECONDS + 0.5
    assert presence.count("job") == 1 and presence.count("other job") == 0
    clock.now = 1000.0 + PRESENCE_POLLS * 5.0 + 0.5
    assert presence.count("job") == 0
    assert presence._until == {}  # forgotten jobs leave nothing behind


def test_a_setting_problem_is_logged_once_and_the_preset_falls_back(monkeypatch, caplog):
    from cifar_core.training import limits as L

    monkeypatch.setattr(L, "_reported", set())
    with caplog.at_level("WARNING", logger="cifar_core.training.limits"):
        assert L.preset_or_defaults('{"epochs": 0}') == ({}, False)
        assert L.preset_or_defaults('{"epochs": 0}') == ({}, False)  # every page view
        assert L.preset_or_defaults('{"model": "shallow"}') == ({"model": "shallow"}, True)
        assert L.preset_or_defaults("") == ({}, True)
    (record,) = [r for r in caplog.records if r.name == "cifar_core.training.limits"]
    assert record.levelname == "WARNING"
    assert (
        "CIFAR_PRESET is ignored" in record.getMessage() and "Epochs must be" in record.getMessage()
    )
    assert L.report_setting_problem("") is False


def test_a_bad_max_trainings_setting_is_named(monkeypatch):
    import cifar_core.training.queue as J

    monkeypatch.setattr(J, "_shared_manager", None)
    monkeypatch.setenv("CIFAR_MAX_TRAININGS", "two")
    manager = J.shared_manager()
    assert manager.max_concurrent == 1
    assert (
        "CIFAR_MAX_TRAININGS must be a whole number above 0, got 'two'" in manager.setting_problem
    )
    monkeypatch.setattr(J, "_shared_manager", None)
    monkeypatch.setenv("CIFAR_MAX_TRAININGS", "2")
    assert (
        J.shared_manager().max_concurrent == 2
        and "MAX_TRAININGS" not in J.shared_manager().setting_problem
    )
