"""The teacher's class view and actions on a real queue, without training (Quick and Blocker
jobs as in test_queue_cancel), and on real saved runs (a copy of `trained_store`'s run)."""

from __future__ import annotations

import logging
import shutil

from cifar_core import classroom
from cifar_core.runs import RunStore
from cifar_core.runs.disk import RunBudget
from cifar_core.training.monitor import CANCELLED, FINISHED, QUEUED
from cifar_core.training.queue import wait_for
from tests import test_queue_cancel
from tests.conftest import wait_until
from tests.test_queue_cancel import config, positions

held, quick = test_queue_cancel.held, test_queue_cancel.quick  # the queue tests' fixtures

ALICE, BOB, CAROL = "a1a1a1a1a1a1a1a1", "b2b2b2b2b2b2b2b2", "c3c3c3c3c3c3c3c3"


def every_text(rows: list[classroom.ClassRow]) -> str:
    return " ".join(str(v) for r in rows for k, v in vars(r).items() if k != "job")


def test_the_view_lists_running_and_queued_jobs_with_anonymous_labels(
    held, sample_data, tmp_store, caplog
):
    manager, blocker = held
    shared, _ = manager.start(config(1), sample_data, tmp_store, owner=ALICE)
    manager.start(config(1), sample_data, tmp_store, owner=BOB)  # joins Alice's run
    other, _ = manager.start(config(2), sample_data, tmp_store, owner=CAROL)
    wait_until(lambda: positions([shared, other]) == [1, 2], timeout=5)

    rows = classroom.class_rows(manager, tmp_store)
    assert [r.job for r in rows] == [blocker, shared, other]
    running, first, second = rows
    assert running.status == "training" and running.student == classroom.NO_OWNER
    assert running.can_stop and not running.can_cancel
    assert (first.status, first.progress, first.watchers) == (QUEUED, "#1 in the queue", 2)
    assert first.can_cancel and not first.can_stop and not first.can_delete
    labels = first.student.split(", ")
    assert labels == [classroom.owner_label(ALICE), classroom.owner_label(BOB)]
    assert second.student == classroom.owner_label(CAROL) != labels[0]
    assert (first.model, first.train_size, first.epochs, first.batch_size) == (
        "shallow",
        200,
        1,
        64,
    )
    assert first.learning_rate == config(1).learning_rate and first.augment is False
    text = every_text(rows)
    assert not any(o in text for o in (ALICE, BOB, CAROL)), "a raw session id is shown"


def test_the_teachers_cancel_takes_a_watched_job_out_and_the_queue_moves_up(
    held, quick, sample_data, tmp_store, caplog
):
    manager, blocker = held
    head, _ = manager.start(config(1), sample_data, tmp_store, owner=ALICE)
    manager.start(config(1), sample_data, tmp_store, owner=BOB)
    behind, _ = manager.start(config(2), sample_data, tmp_store, owner=CAROL)
    wait_until(lambda: positions([head, behind]) == [1, 2], timeout=5)
    row = next(r for r in classroom.class_rows(manager, tmp_store) if r.job is head)
    with caplog.at_level(logging.INFO, logger="cifar_core.classroom"):
        assert classroom.stop_for_everyone(manager, row) is True
    assert wait_for(head, 5)
    snap = head.monitor.snapshot()
    assert (snap.status, snap.message) == (CANCELLED, "Stopped by the teacher before it started.")
    wait_until(lambda: positions([behind]) == [1], timeout=5)
    assert "cancelled queued" in caplog.text
    assert not any(o in caplog.text for o in (ALICE, BOB, CAROL))
    # Alice may train again at once: her request ended.
    again, _ = manager.start(config(3), sample_data, tmp_store, owner=ALICE)
    blocker.release.set()
    assert wait_for(behind, 10) and wait_for(again, 10)
    assert quick.ran == [behind, again]
    assert classroom.stop_for_everyone(manager, row) is False  # already ended


def test_the_teachers_stop_stops_a_job_however_many_watch(held, sample_data, tmp_store):
    manager, blocker = held
    manager.start(config(5), sample_data, tmp_store, owner=ALICE)  # someone waits behind it
    running = next(r for r in classroom.class_rows(manager, tmp_store) if r.job is blocker)
    # The blocker stops only when released; the manager's part is the stop request and the
    # record of who asked for it, which the students' pages read.
    assert manager.stop_for_everyone(blocker) is True
    assert blocker.monitor.stop_requested
    assert manager.stopped_by_teacher(monitor_id=blocker.monitor.uid)
    assert not manager.stopped_by_teacher(monitor_id=blocker.monitor.uid + 1000)
    assert running.can_stop


def copy_run(trained_store: RunStore, tmp_path, name: str) -> RunStore:
    """A store holding a copy of the trained run, under a given id."""
    [info] = trained_store.list_runs()
    store = RunStore(tmp_path / "runs")
    shutil.copytree(trained_store.path(info.run_id), store.root / name)
    return store


def test_saved_runs_are_listed_and_one_can_be_deleted_never_a_protected_one(
    trained_store, tmp_path, caplog
):
    from cifar_core.training.queue import JobManager

    store = copy_run(trained_store, tmp_path, "20260101-090000-aaaaaa")
    shutil.copytree(store.root / "20260101-090000-aaaaaa", store.root / "20260101-100000-bbbbbb")
    manager = JobManager(1)
    rows = classroom.class_rows(manager, store)
    assert [r.run_id for r in rows] == ["20260101-100000-bbbbbb", "20260101-090000-aaaaaa"]
    first = rows[0]
    assert first.status == FINISHED and first.can_delete and not first.can_stop
    assert first.test_accuracy is not None and first.model == "deep" and first.train_size == 300
    # Who asked, if the run recorded it (owner hashes): labels only, never the hash itself.
    owners = sorted(getattr(store.list_runs()[0], "owners", ()))
    assert first.student == (", ".join(map(classroom.owner_label, owners)) or classroom.NO_OWNER)
    assert not any(o in every_text(rows) for o in owners)
    assert first.watchers is None

    # A watched run (here: one the manager reports as protected) is never deleted.
    manager.protected_run_ids = lambda: {"20260101-090000-aaaaaa"}
    assert classroom.delete_run(manager, store, "20260101-090000-aaaaaa") is False
    with caplog.at_level(logging.INFO, logger="cifar_core.classroom"):
        assert classroom.delete_run(manager, store, "20260101-100000-bbbbbb") is True
    assert [r.run_id for r in store.list_runs()] == ["20260101-090000-aaaaaa"]
    assert "deleted run 20260101-100000-bbbbbb" in caplog.text
    assert classroom.delete_run(manager, store, "20260101-100000-bbbbbb") is False  # gone


def test_deleting_a_run_touches_no_other_folder(trained_store, tmp_path):
    """A folder a student's new run has just made (no status.json yet: the store lists it as
    damaged) is not deleted with the run the teacher chose, even when it appears after the
    teacher's listing."""
    from cifar_core.training.queue import JobManager

    store = copy_run(trained_store, tmp_path, "20260101-090000-abcdef")
    manager = JobManager(1)
    fresh = store.root / "20260101-120000-fedcba"
    real_list = store.list_runs

    def listing_then_a_new_folder(**kwargs):
        infos = real_list(**kwargs)
        fresh.mkdir()  # a new run's folder, made just after the teacher's listing
        (fresh / "config.json").write_text("{}")
        return infos

    store.list_runs = listing_then_a_new_folder
    assert classroom.delete_run(manager, store, "20260101-090000-abcdef") is True
    assert not store.path("20260101-090000-abcdef").exists()
    assert fresh.is_dir() and (fresh / "config.json").exists()


def test_a_running_saved_run_cannot_be_deleted(trained_store, tmp_path):
    from cifar_core.training.queue import JobManager

    store = copy_run(trained_store, tmp_path, "20260101-090000-cccccc")
    store.set_status("20260101-090000-cccccc", "running")  # fresh: a live training's folder
    manager = JobManager(1)
    manager.active_run_ids = lambda: {"20260101-090000-cccccc"}
    [row] = classroom.class_rows(manager, store)
    assert row.status == "running" and not row.can_delete
    assert classroom.delete_run(manager, store, "20260101-090000-cccccc") is False
    assert store.path("20260101-090000-cccccc").is_dir()


def test_prune_keeps_the_store_within_its_budget(trained_store, tmp_path, caplog):
    from cifar_core.training.queue import JobManager

    store = copy_run(trained_store, tmp_path, "20260101-090000-dddddd")
    for name in ("20260101-100000-eeeeee", "20260101-110000-ffffff"):
        shutil.copytree(store.root / "20260101-090000-dddddd", store.root / name)
    with caplog.at_level(logging.INFO, logger="cifar_core.classroom"):
        removed = classroom.prune(JobManager(1), store, RunBudget(max_count=2))
    assert removed == ["20260101-090000-dddddd"]  # the oldest
    assert "1 run(s) removed" in caplog.text


def test_a_student_has_one_label_for_their_live_job_and_their_saved_runs():
    # The class view labels live jobs by the browser key and saved runs by the hash they
    # recorded: both must name the same student (a hash also has a key's shape).
    from cifar_core import classroom
    from cifar_core.identity import new_key, owner_hash

    for _ in range(20):
        key = new_key()
        assert classroom.owner_label(key) == classroom.owner_label(owner_hash(key))
