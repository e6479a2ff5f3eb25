"""Run store: round trip, listing, damaged folders, interrupted runs and id validation;
the listing cache, the budget (prune) and what a failed write says."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from cifar_core import runs as R
from cifar_core.runs import disk as D
from cifar_core.runs import files as F


def make_run(
    store: R.RunStore,
    run_id: str,
    status: str = "finished",
    accuracy: float = 0.5,
    created: float | None = None,
) -> None:
    store.create(run_id, {"model": "deep", "epochs": 2})
    store.write_json(
        run_id, R.HISTORY_FILE, {"epochs": [{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.5}]}
    )
    store.write_json(run_id, R.RESULT_FILE, full_result(accuracy))
    extra = {} if created is None else {"created": created}
    store.set_status(run_id, status, **extra)


def full_result(accuracy: float) -> dict:
    """A result.json with what every result holds (the pages show all of it)."""
    return {
        "test_accuracy": accuracy,
        "test_loss": 1.0,
        "confusion_matrix": np.diag([10] * 10).tolist(),
        "per_class_accuracy": [accuracy] * 10,
    }


def settle(folder: Path, age: float = 60.0) -> None:
    """Date the run's files back, as for a run saved a while ago (the cache trusts those)."""
    past = time.time() - age
    for path in [folder, *folder.iterdir()]:
        os.utime(path, (past, past))


def test_round_trip(tmp_store):
    run_id = tmp_store.new_run_id()
    assert R.RUN_ID_PATTERN.fullmatch(run_id)
    make_run(tmp_store, run_id)
    tmp_store.write_predictions(
        run_id, test_probs=np.eye(10, dtype=np.float16), test_labels=np.arange(10)
    )
    run = tmp_store.load(run_id)
    assert run.config == {"model": "deep", "epochs": 2}
    assert run.status["status"] == "finished" and run.result["test_accuracy"] == 0.5
    assert run.predictions()["test_labels"].tolist() == list(range(10))
    assert run.history_csv().splitlines() == ["epoch,loss", "1,2.0", "2,1.5"]
    assert not any(p.name.endswith(".tmp") for p in run.path.iterdir())


def test_listing_newest_first_with_damaged_and_interrupted(tmp_store):
    make_run(tmp_store, "20260101-080000-aaaaaa")
    make_run(tmp_store, "20260101-090000-bbbbbb", status="running")
    make_run(tmp_store, "20260101-100000-cccccc", status="running")
    damaged = tmp_store.root / "20260101-110000-dddddd"
    damaged.mkdir()
    (damaged / R.CONFIG_FILE).write_text("{not json")
    (tmp_store.root / "not-a-run").mkdir()  # ignored: not a generated id
    infos = tmp_store.list_runs(active_ids={"20260101-100000-cccccc"})
    by_id = {i.run_id: i for i in infos}
    assert set(by_id) == {
        "20260101-080000-aaaaaa",
        "20260101-090000-bbbbbb",
        "20260101-100000-cccccc",
        "20260101-110000-dddddd",
    }
    assert by_id["20260101-110000-dddddd"].status == R.DAMAGED
    assert "damaged" in by_id["20260101-110000-dddddd"].label
    assert by_id["20260101-090000-bbbbbb"].status == R.INTERRUPTED  # no live job: cut off
    assert by_id["20260101-100000-cccccc"].status == R.RUNNING
    assert by_id["20260101-080000-aaaaaa"].test_accuracy == 0.5
    created = [i.created for i in infos]
    assert created == sorted(created, reverse=True)


def test_empty_or_missing_root(tmp_path):
    assert R.RunStore(tmp_path / "none").list_runs() == []


@pytest.mark.parametrize(
    "bad", ["../etc", "/etc/passwd", "20260101-080000-aaaaaa/../../x", "", "20260101-080000-AAAAAA"]
)
def test_run_ids_are_validated(tmp_store, bad):
    with pytest.raises(R.RunStoreError):
        tmp_store.path(bad)
    with pytest.raises(R.RunStoreError):
        tmp_store.load(bad)


def test_only_run_files_can_be_read(tmp_store):
    run_id = "20260101-080000-aaaaaa"
    make_run(tmp_store, run_id)
    run = tmp_store.load(run_id)
    with pytest.raises(R.RunStoreError):
        run.read_bytes("../../secret")
    with pytest.raises(R.RunStoreError, match="No run"):
        tmp_store.load("20260101-080000-ffffff")


def test_default_root_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(tmp_path))
    assert R.RunStore().root == tmp_path
    monkeypatch.delenv("CIFAR_RUNS_DIR")
    assert str(R.RunStore().root) == "runs"


def test_a_root_that_is_a_file_lists_nothing(tmp_path):
    (tmp_path / "runs").write_text("not a folder")
    assert R.RunStore(tmp_path / "runs").list_runs() == []


def test_history_csv_takes_every_column(tmp_store):
    run_id = "20260101-080000-aaaaaa"
    make_run(tmp_store, run_id)
    rows = [{"epoch": 1, "a": 1}, {"epoch": 2, "a": 2, "b": 3}]
    tmp_store.write_json(run_id, R.HISTORY_FILE, {"epochs": rows})
    assert tmp_store.load(run_id).history_csv().splitlines() == ["epoch,a,b", "1,1,", "2,2,3"]


# --- Listing reads little and caches ----------------------------------------------------------


def spy_reads(monkeypatch) -> list[str]:
    names: list[str] = []
    real = F._read_file

    def read(path: Path) -> bytes:
        names.append(path.name)
        return real(path)

    monkeypatch.setattr(F, "_read_file", read)
    return names


def test_listing_never_reads_the_history(tmp_store, monkeypatch):
    run_id = "20260101-080000-aaaaaa"
    make_run(tmp_store, run_id)
    (tmp_store.path(run_id) / R.HISTORY_FILE).write_text('{"epochs": [' + "{}, " * 50_000)
    names = spy_reads(monkeypatch)
    (info,) = tmp_store.list_runs()
    assert info.status == "finished" and info.test_accuracy == 0.5  # the history is not looked at
    assert sorted(set(names)) == [R.CONFIG_FILE, R.OWNERS_FILE, R.RESULT_FILE, R.STATUS_FILE]
    with pytest.raises(R.RunStoreError, match="history.json is not valid JSON"):
        tmp_store.load(run_id)  # reopening the run does read it


def test_an_unchanged_run_is_not_read_again_and_a_changed_one_is(tmp_store, monkeypatch):
    ids = ["20260101-080000-aaaaaa", "20260101-090000-bbbbbb"]
    for run_id in ids:
        make_run(tmp_store, run_id)
        settle(tmp_store.path(run_id))
    names = spy_reads(monkeypatch)
    first = tmp_store.list_runs()
    assert len(names) == 8  # config, status, result and owners of each
    names.clear()
    assert R.RunStore(tmp_store.root).list_runs() == first  # any store, same process: cached
    assert names == []

    # A change is seen at once, even an in-place rewrite of the same size right away.
    tmp_store.set_status(ids[0], "failed", "boom")
    result = tmp_store.path(ids[1]) / R.RESULT_FILE
    result.write_text(result.read_text().replace("0.5", "0.7"))
    by_id = {i.run_id: i for i in tmp_store.list_runs()}
    assert by_id[ids[0]].status == "failed" and by_id[ids[1]].test_accuracy == 0.7
    (tmp_store.path(ids[1]) / R.CONFIG_FILE).write_text("[]")
    assert {i.run_id: i.status for i in tmp_store.list_runs()}[ids[1]] == R.DAMAGED

    # A listed config can be changed by a page without changing what is cached.
    settle(tmp_store.path(ids[0]))
    tmp_store.list_runs()[0].config["model"] = "changed"
    assert all(i.config.get("model") != "changed" for i in tmp_store.list_runs())

    settle(tmp_store.path(ids[1]))
    tmp_store.list_runs()
    shutil.rmtree(tmp_store.path(ids[0]))
    assert [i.run_id for i in tmp_store.list_runs()] == [ids[1]]
    assert os.path.abspath(tmp_store.path(ids[1])) in F._SUMMARIES
    assert os.path.abspath(tmp_store.path(ids[0])) not in F._SUMMARIES  # forgotten


# --- Damaged folders: listed, never raising -----------------------------------------------------

DEEP_NESTING = b"[" * 100_000 + b"]" * 100_000
DAMAGE = {
    "result null": (R.RESULT_FILE, b"null", "result.json holds null, not an object"),
    "result list": (R.RESULT_FILE, b"[]", "result.json holds a list, not an object"),
    "accuracy text": (R.RESULT_FILE, b'{"test_accuracy": "high"}', '"test_accuracy" is'),
    "created text": (
        R.STATUS_FILE,
        b'{"status": "finished", "created": "yesterday"}',
        "status.json: \"created\" is 'yesterday', not a time",
    ),
    "created NaN": (R.STATUS_FILE, b'{"status": "finished", "created": NaN}', "not a possible"),
    "created huge": (R.STATUS_FILE, b'{"status": "finished", "created": 1e300}', "not a possible"),
    "created bool": (R.STATUS_FILE, b'{"status": "finished", "created": true}', "not a time"),
    "no status": (R.STATUS_FILE, b'{"created": 1}', '"status" is None, not a status word'),
    "status number": (R.STATUS_FILE, b'{"status": 3}', '"status" is 3'),
    "config list": (R.CONFIG_FILE, b'["deep", 2]', "config.json holds a list, not an object"),
    "config empty": (R.CONFIG_FILE, b"", "config.json is empty"),
    "config blank": (R.CONFIG_FILE, b"  \n", "config.json is empty"),
    "status truncated": (R.STATUS_FILE, b'{"status": "fini', "status.json is not valid JSON"),
    "config not utf-8": (R.CONFIG_FILE, b'{"model": "d\xe9ep"}', "config.json is not UTF-8"),
    "status nested": (R.STATUS_FILE, DEEP_NESTING, "status.json is nested too deeply"),
    "config missing": (R.CONFIG_FILE, None, "config.json is missing"),
    "status a folder": (R.STATUS_FILE, "dir", "status.json is a folder"),
}


@pytest.mark.parametrize("case", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_file_is_listed_as_damaged_and_load_says_why(tmp_store, case):
    name, content, message = DAMAGE[case]
    good, bad = "20260101-080000-aaaaaa", "20260101-090000-bbbbbb"
    make_run(tmp_store, good, created=F._id_time(good))
    make_run(tmp_store, bad)
    path = tmp_store.path(bad) / name
    path.unlink()
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    infos = tmp_store.list_runs()
    by_id = {i.run_id: i for i in infos}
    assert by_id[good].status == "finished"
    assert by_id[bad].status == R.DAMAGED and message in by_id[bad].problem, by_id[bad].problem
    assert by_id[bad].created == F._id_time(bad)  # sorted by its id's time
    assert [i.run_id for i in infos] == [bad, good]
    assert message in by_id[bad].label and all(i.label for i in infos)
    with pytest.raises(R.RunStoreError, match="is damaged") as caught:
        tmp_store.load(bad)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"null", "history.json holds null"),
        (b'{"epochs": 3}', '"epochs" is not a list of records'),
        (b'{"batches": [1, 2]}', '"batches" is not a list of records'),
    ],
)
def test_a_damaged_history_fails_load_only(tmp_store, content, message):
    run_id = "20260101-080000-aaaaaa"
    make_run(tmp_store, run_id)
    (tmp_store.path(run_id) / R.HISTORY_FILE).write_bytes(content)
    assert tmp_store.list_runs()[0].status == "finished"
    with pytest.raises(R.RunStoreError, match=message):
        tmp_store.load(run_id)


def test_a_missing_created_falls_back_to_the_id_time(tmp_store):
    run_id = "20260101-080000-aaaaaa"
    make_run(tmp_store, run_id)
    (tmp_store.path(run_id) / R.STATUS_FILE).write_text('{"status": "finished"}')
    (info,) = tmp_store.list_runs()
    assert info.status == "finished" and info.created == F._id_time(run_id)


@pytest.mark.parametrize("content", [b"garbage", b"null", b'{"status": "running", "created": "x"}'])
def test_set_status_replaces_a_damaged_status(tmp_store, content):
    run_id = "20260101-080000-aaaaaa"
    make_run(tmp_store, run_id, status="running")
    (tmp_store.path(run_id) / R.STATUS_FILE).write_bytes(content)
    tmp_store.set_status(run_id, "failed", "boom")
    status = tmp_store.load(run_id).status
    assert status["status"] == "failed" and status["message"] == "boom"
    assert status["created"] == F._id_time(run_id)


def test_set_status_keeps_created_and_extra(tmp_store):
    run_id = "20260101-080000-aaaaaa"
    make_run(tmp_store, run_id, created=1_700_000_000.0)
    tmp_store.set_status(run_id, "stopped", "Stopped.", epochs=3)
    status = tmp_store.load(run_id).status
    assert status["created"] == 1_700_000_000.0 and status["epochs"] == 3


# --- Budget -------------------------------------------------------------------------------------


def make_runs(store: R.RunStore, n: int, blob: int = 0, status: str = "finished") -> list[str]:
    """n runs, oldest first (one day apart), each with a `blob`-byte model file."""
    ids = []
    for k in range(n):
        run_id = f"2026010{k + 1}-080000-{k:06x}"
        make_run(store, run_id, status=status, created=F._id_time(run_id))
        if blob:
            (store.path(run_id) / R.MODEL_FILE).write_bytes(b"\0" * blob)
        ids.append(run_id)
    return ids


def remaining(store: R.RunStore) -> list[str]:
    return sorted(i.run_id for i in store.list_runs())


def test_prune_removes_the_oldest_beyond_the_count(tmp_store):
    ids = make_runs(tmp_store, 5)
    (tmp_store.root / "not-a-run").mkdir()
    (tmp_store.root / "20260101-080000-ABCDEF").mkdir()  # not a generated id
    (tmp_store.root / "20260101-080000-abcdef").write_text("a file, not a folder")
    removed = tmp_store.prune(set(), D.RunBudget(max_mb=1000, max_count=3))
    assert removed == ids[:2]
    assert remaining(tmp_store) == ids[2:]
    assert (tmp_store.root / "not-a-run").is_dir()
    assert (tmp_store.root / "20260101-080000-ABCDEF").is_dir()
    assert (tmp_store.root / "20260101-080000-abcdef").is_file()
    assert tmp_store.prune(set(), D.RunBudget(max_mb=1000, max_count=3)) == []


def test_prune_keeps_protected_and_live_running_runs(tmp_store):
    ids = make_runs(tmp_store, 5)
    for run_id in ids[1:3]:
        tmp_store.set_status(run_id, R.RUNNING)  # no job protects them: only their age
    settle(tmp_store.path(ids[2]), age=2 * R.RUNS_RUNNING_GRACE_SECONDS)
    removed = tmp_store.prune({ids[0]}, D.RunBudget(max_mb=1000, max_count=3))
    # ids[0] protected, ids[1] running and written just now; ids[2] running but long silent.
    assert removed == [ids[2], ids[3]]
    assert remaining(tmp_store) == [ids[0], ids[1], ids[4]]  # over budget, as it must be


def test_prune_removes_the_oldest_beyond_the_size_and_damaged_ones_too(tmp_store):
    ids = make_runs(tmp_store, 4, blob=300_000)
    damaged = tmp_store.root / "20251231-080000-dddddd"  # oldest by its id
    damaged.mkdir()
    (damaged / R.MODEL_FILE).write_bytes(b"\0" * 300_000)
    usage = tmp_store.disk_usage()
    assert set(usage) == {*ids, damaged.name}
    assert all(300_000 <= size < 302_000 for size in usage.values())
    assert tmp_store.total_mb() == pytest.approx(sum(usage.values()) / 2**20)
    removed = tmp_store.prune(budget=D.RunBudget(max_mb=0.7, max_count=100))
    assert removed == [damaged.name, ids[0], ids[1]]
    assert remaining(tmp_store) == ids[2:]
    assert tmp_store.total_mb() <= 0.7


def test_prune_never_deletes_through_a_link(tmp_store, tmp_path):
    ids = make_runs(tmp_store, 1)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / R.CONFIG_FILE).write_text('{"model": "deep"}')
    (outside / "precious.txt").write_text("keep me")
    link = tmp_store.root / "20250101-080000-eeeeee"  # older than every run
    link.symlink_to(outside, target_is_directory=True)
    inner = tmp_store.path(ids[0]) / "inner-link"
    inner.symlink_to(outside, target_is_directory=True)  # a link inside a removed run
    removed = tmp_store.prune(set(), D.RunBudget(max_mb=0.000001, max_count=1))
    assert removed == [ids[0]]
    assert (outside / "precious.txt").read_text() == "keep me"
    assert link.is_symlink() and (link / R.CONFIG_FILE).exists()
    assert link.name not in tmp_store.disk_usage()
    with pytest.raises(R.RunStoreError):
        D._remove_run_folder(tmp_store.root, link)
    assert (outside / "precious.txt").exists()


def test_prune_is_fine_when_a_folder_vanishes_meanwhile(tmp_store, monkeypatch):
    ids = make_runs(tmp_store, 4)
    real_rmtree = shutil.rmtree

    def removed_by_someone_else(path, *args, **kwargs):
        if Path(path).name == ids[0]:
            real_rmtree(path)
            raise FileNotFoundError(errno.ENOENT, "gone", str(path))
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(D.shutil, "rmtree", removed_by_someone_else)
    assert tmp_store.prune(set(), D.RunBudget(max_mb=1000, max_count=2)) == [ids[1]]
    assert remaining(tmp_store) == ids[2:]


def test_the_budget_comes_from_the_environment(tmp_store, monkeypatch):
    assert D.RunBudget.from_env({}) == D.RunBudget(2000, 100)
    assert D.RunBudget.from_env({"CIFAR_RUNS_MAX_MB": "50.5", "CIFAR_RUNS_MAX_COUNT": "7"}) == (
        D.RunBudget(50.5, 7)
    )
    bad = D.RunBudget.from_env({"CIFAR_RUNS_MAX_MB": "lots", "CIFAR_RUNS_MAX_COUNT": "0"})
    assert (bad.max_mb, bad.max_count) == (2000, 100) and len(bad.notes) == 2
    assert "CIFAR_RUNS_MAX_MB='lots'" in bad.notes[0]
    ids = make_runs(tmp_store, 3)
    monkeypatch.setenv("CIFAR_RUNS_MAX_COUNT", "1")
    assert tmp_store.prune() == ids[:2]


# --- Write failures -----------------------------------------------------------------------------


def failing_replace(code: int):
    def replace(src, dst):
        raise OSError(code, os.strerror(code), str(dst))

    return replace


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, ["The server's disk is full", "CIFAR_RUNS_MAX_MB", "free space"]),
        (errno.EDQUOT, ["The server's disk is full", "quota", "CIFAR_RUNS_MAX_MB"]),
        (errno.EACCES, ["is not writable", "CIFAR_RUNS_DIR", "Permission denied"]),
        (errno.EPERM, ["is not writable", "CIFAR_RUNS_DIR"]),
        (errno.EROFS, ["is not writable", "Read-only file system"]),
        (errno.EIO, ["could not be saved", "Input/output error"]),
    ],
)
def test_a_failed_write_says_what_happened(tmp_store, monkeypatch, code, words):
    run_id = "20260101-080000-aaaaaa"
    make_run(tmp_store, run_id)
    monkeypatch.setattr(R.os, "replace", failing_replace(code))
    with pytest.raises(OSError) as caught:
        tmp_store.write_json(run_id, R.HISTORY_FILE, {"epochs": []})
    message = D.describe_write_error(caught.value, tmp_store.root, run_id)
    assert f"run {run_id}" in message.lower() and str(tmp_store.root) in message
    for word in words:
        assert word in message, message
    assert not [p for p in tmp_store.path(run_id).iterdir() if ".tmp" in p.name]
    with pytest.raises(OSError):  # set_status raises too: the job marks itself failed
        tmp_store.set_status(run_id, "failed", message)
    with pytest.raises(OSError):
        tmp_store.write_predictions(run_id, test_labels=np.arange(3))
    assert not [p for p in tmp_store.path(run_id).iterdir() if ".tmp" in p.name]


def test_an_error_without_errno_is_recognised_by_its_words(tmp_path):
    try:
        try:
            raise OSError("Unable to synchronously create file (No space left on device)")
        except OSError as inner:
            raise RuntimeError("saving the model failed") from inner
    except RuntimeError as exc:
        message = D.describe_write_error(exc, tmp_path)
        wrapped = exc
    assert message.startswith("The server's disk is full, so this run")
    assert D.is_storage_error(wrapped) and not D.is_storage_error(ValueError("bad config"))
    assert D.is_storage_error(OSError(errno.EROFS, "Read-only file system"))


def test_a_file_in_place_of_the_runs_folder(tmp_path):
    (tmp_path / "runs").write_text("oops")
    store = R.RunStore(tmp_path / "runs")
    with pytest.raises(OSError) as caught:
        store.create(store.new_run_id(), {})
    assert "a file stands where a folder should be" in D.describe_write_error(
        caught.value, store.root
    )


@pytest.fixture()
def tiny_disk(tmp_path):
    """A real 64 kB file system (tmpfs; needs root and mount rights, else skipped)."""
    where = tmp_path / "tiny"
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)]
    if subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.skip("mount is not permitted here")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def test_a_full_disk_is_reported_and_set_status_still_raises(tiny_disk):
    store = R.RunStore(tiny_disk / "runs")
    run_id = "20260101-080000-aaaaaa"
    store.create(run_id, {"model": "deep"})
    with pytest.raises(OSError) as caught:
        store.write_json(run_id, R.HISTORY_FILE, {"batches": [{"loss": 1.0}] * 20_000})
    assert caught.value.errno == errno.ENOSPC
    message = D.describe_write_error(caught.value, store.root, run_id)
    assert message.startswith(f"The server's disk is full, so run {run_id} could not be saved")
    assert not [p for p in store.path(run_id).iterdir() if ".tmp" in p.name]  # space given back
    store.set_status(run_id, "failed", message)  # there is room for the status again
    assert store.list_runs()[0].status == "failed"

    with open(tiny_disk / "filler", "wb", buffering=0) as filler, pytest.raises(OSError):
        while True:
            filler.write(b"\0" * 4096)
    with pytest.raises(OSError) as caught:
        store.set_status(run_id, "failed", "again")
    assert caught.value.errno == errno.ENOSPC
    assert store.list_runs()[0].status == "failed" and store.load(run_id).config


def test_a_read_only_runs_folder_is_reported(tiny_disk):
    store = R.RunStore(tiny_disk / "runs")
    run_id = "20260101-080000-aaaaaa"
    make_run(store, run_id)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    with pytest.raises(OSError) as caught:
        store.set_status(run_id, "failed", "x")
    assert caught.value.errno == errno.EROFS
    message = D.describe_write_error(caught.value, store.root, run_id)
    assert (
        f"The runs folder {store.root} is not writable" in message and "CIFAR_RUNS_DIR" in message
    )
    with pytest.raises(OSError) as caught:
        store.create(store.new_run_id(), {})
    assert "is not writable" in D.describe_write_error(caught.value, store.root)
    with pytest.raises(OSError) as caught:  # the OSError itself, whatever the cleanup meets
        store.write_predictions(run_id, test_labels=np.arange(3))
    assert caught.value.errno == errno.EROFS
    assert store.list_runs()[0].status == "finished" and store.load(run_id).history
    assert store.prune(set(), D.RunBudget(max_mb=1, max_count=1)) == []  # nothing to remove
    assert store.prune(set(), D.RunBudget(max_mb=0.00001, max_count=1)) == []  # cannot: skipped
    assert json.loads((store.path(run_id) / R.STATUS_FILE).read_text())["status"] == "finished"
