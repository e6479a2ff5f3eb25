"""Run store edges: the exact words a user reads (write failures, damaged files), the record a
damaged history names, downloads, and removing run folders safely while others touch them."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import stat
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cifar_core import runs as R
from cifar_core.runs import binary as B
from cifar_core.runs import checks as C
from cifar_core.runs import disk as D
from cifar_core.runs import files as F
from tests.test_runs import make_run, make_runs, remaining, settle

RUN_ID = "20260101-080000-aaaaaa"

# --- What a failed write says ------------------------------------------------------------------


def wrapped(outer: Exception, inner: OSError, how: str) -> Exception:
    """`outer` raised while handling `inner`: chained by "from" (a cause) or implicitly."""
    try:
        try:
            raise inner
        except OSError:
            if how == "from":
                raise outer from inner
            raise outer  # noqa: B904 — the implicit chain (__context__) is what is tested
    except type(outer) as exc:
        return exc


def cause_only(outer: BaseException, inner: BaseException) -> BaseException:
    """`raise outer from inner` outside any handler: a cause and no context."""
    outer.__cause__ = inner
    return outer


class Counted(RuntimeError):
    """An error that fails the test if it is looked at more than a few times."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.looks = 0

    def __str__(self) -> str:
        self.looks += 1
        assert self.looks < 10, "the exception chain was walked round and round"
        return super().__str__()


def looping_chain() -> BaseException:
    """Two errors that name each other as their context (a library can set this by hand)."""
    first, second = Counted("saving failed"), Counted("flushing failed")
    first.__context__, second.__context__ = second, first
    return first


DISK_FULL = (
    "The server's disk is full{quota}, so {run} could not be saved in {root}. Ask your "
    "teacher to free space or lower CIFAR_RUNS_MAX_MB (now 2000 MB) so that old runs are "
    "removed sooner."
)
NOT_WRITABLE = (
    "The runs folder {root} is not writable ({reason}), so {run} could not be saved. Ask "
    "your teacher to set CIFAR_RUNS_DIR to a writable folder and restart the app."
)
WRITE_ERRORS = {
    "an I/O error": (
        lambda: OSError(errno.EIO, "Input/output error"),
        "{Run} could not be saved in {root}: Input/output error.",
    ),
    "not an OSError": (
        lambda: TypeError("Object of type ndarray is not JSON serializable"),
        "{Run} could not be saved in {root}: Object of type ndarray is not JSON serializable.",
    ),
    "an error without words": (
        lambda: RuntimeError(),
        "{Run} could not be saved in {root}: RuntimeError.",
    ),
    "over quota": (
        lambda: OSError(errno.EDQUOT, "Disk quota exceeded"),
        DISK_FULL.replace("{quota}", " (its disk quota is used up)"),
    ),
    "disk full, implicitly chained": (
        lambda: wrapped(
            RuntimeError("saving the model failed"), OSError(errno.ENOSPC, "No space"), "context"
        ),
        DISK_FULL.replace("{quota}", ""),
    ),
    "disk full, chained by from": (
        lambda: wrapped(
            RuntimeError("saving the model failed"), OSError(errno.ENOSPC, "No space"), "from"
        ),
        DISK_FULL.replace("{quota}", ""),
    ),
    "disk full, a cause without a context": (
        lambda: cause_only(ValueError("h5py failed"), OSError(errno.ENOSPC, "No space")),
        DISK_FULL.replace("{quota}", ""),
    ),
    "a file where the folder should be": (
        lambda: OSError(errno.ENOTDIR, "Not a directory"),
        "The runs folder {root} cannot be used: a file stands where a folder should be, so "
        "{run} could not be saved. Ask your teacher to set CIFAR_RUNS_DIR to a writable "
        "folder and restart the app.",
    ),
    "permission denied, in words only": (
        lambda: RuntimeError("Unable to create file (Permission denied)"),
        NOT_WRITABLE.replace("{reason}", "Unable to create file (Permission denied)"),
    ),
    # Some libraries raise an OSError with a reason but no errno: that reason is the one shown.
    "a reason without errno, wrapped": (
        lambda: wrapped(
            RuntimeError("saving failed"), OSError(None, "Unable to lock the file"), "from"
        ),
        "{Run} could not be saved in {root}: Unable to lock the file.",
    ),
    "permission denied without errno, wrapped": (
        lambda: wrapped(
            OSError(None, "Saving the weights failed"), OSError(None, "Permission denied"), "from"
        ),
        NOT_WRITABLE.replace("{reason}", "Permission denied"),
    ),
    "a chain that loops": (looping_chain, "{Run} could not be saved in {root}: saving failed."),
}


@pytest.mark.parametrize("run_id", [RUN_ID, None], ids=["a run", "no run id"])
@pytest.mark.parametrize("case", WRITE_ERRORS, ids=list(WRITE_ERRORS))
def test_a_failed_write_is_described_in_full(tmp_path, monkeypatch, case, run_id):
    monkeypatch.delenv("CIFAR_RUNS_MAX_MB", raising=False)
    make_error, template = WRITE_ERRORS[case]
    run = f"run {run_id}" if run_id else "this run"
    expected = template.format(root=tmp_path, run=run, Run=run[0].upper() + run[1:])
    assert D.describe_write_error(make_error(), tmp_path, run_id) == expected


# --- The record a damaged history names --------------------------------------------------------

DIVERGED = {"loss": float("nan"), "val_loss": float("inf"), "accuracy": float("-inf")}
HISTORIES = {
    # A diverged run (NaN and infinite losses are fine) with one garbled record after it.
    "epochs: the garbled record": (
        {"epochs": [{"epoch": 0, **DIVERGED}, {"epoch": 1, "loss": "x"}]},
        '"epochs" record 2: "loss" is \'x\', not a number',
    ),
    "epochs: an epoch out of range": (
        {"epochs": [{"epoch": 1, "loss": 1.0}, {"epoch": 1_000_001}]},
        '"epochs" record 2: "epoch" is 1000001, out of range (0 to 1,000,000)',
    ),
    "batches: the garbled record": (
        {
            "batches": [
                {"epoch": 1, "batch": 1, **DIVERGED},
                {"epoch": 1, "batch": 2, "loss": "x"},
            ]
        },
        '"batches" record 2: "loss" is \'x\', not a number',
    ),
}


@pytest.mark.parametrize("case", HISTORIES, ids=list(HISTORIES))
def test_a_damaged_history_names_the_record_and_the_value(tmp_store, case):
    history, problem = HISTORIES[case]
    make_run(tmp_store, RUN_ID)
    tmp_store.write_json(RUN_ID, R.HISTORY_FILE, history)
    with pytest.raises(R.RunStoreError) as caught:
        tmp_store.load(RUN_ID)
    assert str(caught.value) == f"Run {RUN_ID} is damaged: history.json: {problem}."


def test_a_diverged_history_loads_as_saved(tmp_store):
    make_run(tmp_store, RUN_ID)
    history = {"epochs": [{"epoch": 1, **DIVERGED}], "batches": [{"epoch": 1, "batch": 1}]}
    tmp_store.write_json(RUN_ID, R.HISTORY_FILE, history)
    (epoch,) = tmp_store.load(RUN_ID).history["epochs"]
    assert np.isnan(epoch["loss"]) and epoch["val_loss"] == np.inf


# --- Downloads ---------------------------------------------------------------------------------


def test_a_model_file_downloads_byte_for_byte_and_other_names_are_refused(tmp_store):
    make_run(tmp_store, RUN_ID)
    layers = ", ".join(['{"class_name": "Conv2D"}'] * 100)
    content = f'{{"class_name": "Sequential", "layers": [{layers}]}}\n'.encode()
    (tmp_store.path(RUN_ID) / R.ARCHITECTURE_FILE).write_bytes(content)
    run = tmp_store.load(RUN_ID)
    assert run.read_bytes(R.ARCHITECTURE_FILE) == content
    with pytest.raises(R.RunStoreError) as caught:
        run.read_bytes(R.CONFIG_FILE.replace("config", "../config"))
    assert str(caught.value) == "'../config.json' is not a file of a run."


# --- Disk usage and removing run folders ---------------------------------------------------------


def not_a_run_folder(root: Path) -> list[Path]:
    """Things next to (or inside) a runs folder that must never be removed as a run."""
    outside = root.parent / "elsewhere"
    (outside / RUN_ID).mkdir(parents=True)
    (root / "not-a-run").mkdir(parents=True)
    (root / "20260101-080000-bbbbbb").write_text("a file named like a run")
    (root / "20260101-080000-cccccc").mkdir()
    (root / "20260101-080000-dddddd").symlink_to(root / "20260101-080000-cccccc")
    return [
        outside / RUN_ID,
        root / "not-a-run",
        root / "20260101-080000-bbbbbb",
        root / "20260101-080000-dddddd",
    ]


def test_only_a_real_run_folder_directly_in_the_root_is_ever_removed(tmp_path):
    root = tmp_path / "runs"
    for path in not_a_run_folder(root):
        with pytest.raises(R.RunStoreError) as caught:
            D._remove_run_folder(root, path)
        assert str(caught.value) == f"{path} is not a run folder of {root}."
        assert os.path.lexists(path)
    assert (root / "20260101-080000-cccccc").is_dir()


def test_delete_removes_one_real_run_folder_and_nothing_through_a_link(tmp_path):
    root = tmp_path / "runs"
    not_a_run_folder(root)
    store = R.RunStore(root)
    for name in ("20260101-080000-bbbbbb", "20260101-080000-dddddd"):  # a file, a link
        with pytest.raises(R.RunStoreError):
            store.delete(name)
        assert os.path.lexists(root / name)
    assert store.delete("20260101-080000-cccccc") is True
    assert not (root / "20260101-080000-cccccc").exists()
    assert store.delete("20260101-080000-cccccc") is False  # already gone
    with pytest.raises(R.RunStoreError):
        store.delete("../elsewhere")


@pytest.mark.parametrize("again", ["removes the rest", "finds it gone"])
def test_prune_removes_a_run_whose_files_vanish_while_it_is_removed(tmp_store, monkeypatch, again):
    ids = make_runs(tmp_store, 3)
    real_rmtree = shutil.rmtree
    calls: list[str] = []

    def rmtree(path, *args, **kwargs):
        calls.append(Path(path).name)
        if Path(path).name == ids[0] and calls.count(ids[0]) == 1:
            raise FileNotFoundError(errno.ENOENT, "a file inside vanished", str(path))
        real_rmtree(path, *args, **kwargs)
        if Path(path).name == ids[0] and again == "finds it gone":
            raise FileNotFoundError(errno.ENOENT, "removed by another session", str(path))

    monkeypatch.setattr(D.shutil, "rmtree", rmtree)
    assert tmp_store.prune(set(), D.RunBudget(max_mb=1000, max_count=2)) == [ids[0]]
    assert calls == [ids[0], ids[0]]
    assert remaining(tmp_store) == ids[1:]


def test_prune_forgets_what_it_knew_of_the_runs_it_removed(tmp_store):
    ids = make_runs(tmp_store, 3)
    for run_id in ids:
        settle(tmp_store.path(run_id))  # saved a while ago: their summaries are cached
    tmp_store.list_runs()
    keys = [os.path.abspath(tmp_store.path(run_id)) for run_id in ids]
    assert all(key in F._SUMMARIES for key in keys)
    assert tmp_store.prune(set(), D.RunBudget(max_mb=1000, max_count=1)) == ids[:2]
    assert [key in F._SUMMARIES for key in keys] == [False, False, True]


def sizes_on_disk(folder: Path) -> int:
    """Bytes of everything in a folder, links counted as links (never followed)."""
    total = 0
    for where, dirs, files in os.walk(folder):
        for name in dirs + files:
            st = os.lstat(os.path.join(where, name))
            total += 0 if stat.S_ISDIR(st.st_mode) else st.st_size
    return total


def spy_scandir(root: Path, monkeypatch, change=None) -> list[Path]:
    """Record every folder the run store lists, failing on any outside `root`; `change(path,
    scandir)` may stand in for the listing (to make things vanish meanwhile)."""
    real_scandir = os.scandir
    scanned: list[Path] = []

    def scandir(path):
        if isinstance(path, int):  # shutil.rmtree lists by file descriptor
            return real_scandir(path)
        path = Path(path)
        assert path == root or root in path.parents, f"listed {path}, outside the runs"
        scanned.append(path)
        return change(path, real_scandir) if change else real_scandir(path)

    monkeypatch.setattr(F.os, "scandir", scandir)
    return scanned


def test_disk_usage_counts_every_byte_of_a_run_and_nothing_through_a_link(
    tmp_store, tmp_path, monkeypatch
):
    ids = make_runs(tmp_store, 2)
    run = tmp_store.path(ids[0])
    (run / "logs" / "train").mkdir(parents=True)
    (run / "logs" / "train" / "events").write_bytes(b"\1" * 5000)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "dataset.bin").write_bytes(b"\0" * 100_000)
    (run / "outside").symlink_to(outside, target_is_directory=True)
    (run / "dangling").symlink_to(tmp_path / "gone")
    expected = {run_id: sizes_on_disk(tmp_store.path(run_id)) for run_id in ids}
    scanned = spy_scandir(tmp_store.root, monkeypatch)
    usage = tmp_store.disk_usage()
    assert usage == expected and 5000 < usage[ids[0]] < 10_000
    assert sorted(scanned) == sorted(
        [tmp_store.root, run, run / "logs", run / "logs" / "train", tmp_store.path(ids[1])]
    )


def test_disk_usage_skips_what_vanishes_while_it_counts(tmp_store, monkeypatch):
    ids = make_runs(tmp_store, 3)
    run, gone, gone_before = (tmp_store.path(run_id) for run_id in ids)
    for sub in ("a", "b"):
        (run / sub).mkdir()
        (run / sub / "data").write_bytes(b"\1" * 1000)
    (run / "history.json.tmp").write_bytes(b"x" * 100)

    def change(path: Path, scandir):
        if path in (gone, run / "b"):
            shutil.rmtree(path)  # removed by another session just now
        if path != run:
            return scandir(path)
        # The job renames its temporary file right after the folder is listed; the entries
        # come in name order here, so "b" is counted (and found gone) before "a".
        entries = sorted(scandir(path), key=lambda e: (e.name != "history.json.tmp", e.name))
        (run / "history.json.tmp").unlink()
        return iter(entries)

    spy_scandir(tmp_store.root, monkeypatch, change)
    real_usage = R._folder_usage

    def usage_of(folder: Path):
        if folder == gone_before:
            shutil.rmtree(folder)  # removed between the listing of the runs and its count
        return real_usage(folder)

    monkeypatch.setattr(R, "_folder_usage", usage_of)
    usage = tmp_store.disk_usage()
    monkeypatch.undo()
    assert usage == {ids[0]: sizes_on_disk(run)}
    assert (run / "a" / "data").exists()


DAY = 86_400.0


def test_prune_removes_the_runs_created_first_whatever_their_ids(tmp_store):
    # Runs copied in from another store: their ids do not say when they were made.
    ids = ["20260101-080000-aaaaaa", "20260102-080000-bbbbbb", "20260103-080000-cccccc"]
    start = F._id_time(ids[0])
    for k, run_id in enumerate(ids):
        make_run(tmp_store, run_id, created=start + (5 - k) * DAY)  # Jan 6, 5, 4
    damaged = tmp_store.root / "20260102-120000-dddddd"  # no created: its id's time, Jan 2
    damaged.mkdir()
    (damaged / R.CONFIG_FILE).write_text("{")
    removed = tmp_store.prune(set(), D.RunBudget(max_mb=1000, max_count=2))
    assert removed == [damaged.name, ids[2]]
    assert remaining(tmp_store) == ids[:2]


def fresh_running_runs(store: R.RunStore, n: int) -> list[str]:
    ids = make_runs(store, n, status=R.RUNNING)
    for run_id in ids:  # written at a known second (the store's clock is `now` below)
        for path in [store.path(run_id), *store.path(run_id).iterdir()]:
            os.utime(path, (1_800_000_000, 1_800_000_000))
    return ids


@pytest.mark.parametrize(
    ("silent_for", "removed"),
    [(0.0, 0), (R.RUNS_RUNNING_GRACE_SECONDS - 1, 0), (R.RUNS_RUNNING_GRACE_SECONDS, 1)],
)
def test_prune_spares_a_running_run_only_within_the_grace_period(tmp_store, silent_for, removed):
    ids = fresh_running_runs(tmp_store, 2)
    now = 1_800_000_000 + silent_for
    assert tmp_store.prune(set(), D.RunBudget(1000, 1), now=now) == ids[:removed]


def test_prune_uses_the_clock_when_no_time_is_given(tmp_store):
    ids = make_runs(tmp_store, 2, status=R.RUNNING)  # written just now
    assert tmp_store.prune(set(), D.RunBudget(1000, 1)) == []
    assert tmp_store.prune(set(), D.RunBudget(1000, 1), now=time.time() + DAY) == ids[:1]


def test_a_store_exactly_at_its_budget_loses_nothing(tmp_store):
    ids = make_runs(tmp_store, 3)
    exactly = D.RunBudget(max_mb=tmp_store.total_mb(), max_count=3)
    assert tmp_store.prune(set(), exactly) == []
    assert remaining(tmp_store) == ids
    smaller = D.RunBudget(max_mb=tmp_store.total_mb() - 1 / R.MB, max_count=3)
    assert tmp_store.prune(set(), smaller) == ids[:1]


def test_prune_goes_on_past_a_run_that_vanishes_or_cannot_be_removed(tmp_store, monkeypatch):
    ids = make_runs(tmp_store, 5)
    real_usage, real_rmtree = R._folder_usage, shutil.rmtree
    first: list[Path] = []

    def usage_of(folder: Path):
        if not first:  # the first run looked at is removed by another session meanwhile
            first.append(folder)
            shutil.rmtree(folder)
        return real_usage(folder)

    def rmtree(path, *args, **kwargs):
        if Path(path).name == min(set(ids) - {first[0].name}):  # owned by someone else
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(R, "_folder_usage", usage_of)
    monkeypatch.setattr(D.shutil, "rmtree", rmtree)
    removed = tmp_store.prune(set(), D.RunBudget(max_mb=1000, max_count=2))
    others = sorted(set(ids) - {first[0].name})  # the oldest of them cannot be removed
    assert removed == others[1:3]
    assert remaining(tmp_store) == [others[0], others[3]]


def test_a_new_run_is_dated_now_with_an_empty_message(tmp_store):
    before = time.time()
    tmp_store.create(RUN_ID, {"model": "deep", "epochs": 2})  # an id from long ago
    status = tmp_store.load(RUN_ID).status
    assert status["status"] == R.RUNNING and status["message"] == ""
    assert before <= status["created"] <= status["updated"] <= time.time()
    (info,) = tmp_store.list_runs(active_ids={RUN_ID})
    assert info.label.endswith("deep · 2 ep · running")


def test_a_run_id_is_never_created_twice(tmp_store):
    make_run(tmp_store, RUN_ID)
    with pytest.raises(FileExistsError):
        tmp_store.create(RUN_ID, {"model": "small"})
    assert tmp_store.load(RUN_ID).config == {"model": "deep", "epochs": 2}


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"true", "true/false"),
        (b"3", "a number"),
        (b"2.5", "a number"),
        (b'"finished"', "a string"),
        (b"[1, 2]", "a list"),
        (b"null", "null"),
    ],
)
def test_a_status_that_is_not_an_object_says_what_it_holds(tmp_store, content, what):
    make_run(tmp_store, RUN_ID)
    (tmp_store.path(RUN_ID) / R.STATUS_FILE).write_bytes(content)
    (info,) = tmp_store.list_runs()
    assert info.problem == f"status.json holds {what}, not an object"
    assert C.kind({"status": "finished"}) == "an object"


ENV_BUDGETS = {
    "small but valid": ({"CIFAR_RUNS_MAX_MB": " 0.5 ", "CIFAR_RUNS_MAX_COUNT": "1"}, 0.5, 1, []),
    "zero MB": ({"CIFAR_RUNS_MAX_MB": "0"}, 2000, 100, ["CIFAR_RUNS_MAX_MB='0'"]),
    "negative MB": ({"CIFAR_RUNS_MAX_MB": "-5"}, 2000, 100, ["CIFAR_RUNS_MAX_MB='-5'"]),
    "infinite MB": ({"CIFAR_RUNS_MAX_MB": "inf"}, 2000, 100, ["CIFAR_RUNS_MAX_MB='inf'"]),
    "NaN MB": ({"CIFAR_RUNS_MAX_MB": "nan"}, 2000, 100, ["CIFAR_RUNS_MAX_MB='nan'"]),
    "count in words": ({"CIFAR_RUNS_MAX_COUNT": "ten"}, 2000, 100, ["CIFAR_RUNS_MAX_COUNT='ten'"]),
    "count a fraction": (
        {"CIFAR_RUNS_MAX_COUNT": "2.5"},
        2000,
        100,
        ["CIFAR_RUNS_MAX_COUNT='2.5'"],
    ),
    "blank": ({"CIFAR_RUNS_MAX_MB": "  ", "CIFAR_RUNS_MAX_COUNT": ""}, 2000, 100, []),
}
NOTE_ENDS = {
    "CIFAR_RUNS_MAX_MB": " is not a positive number of MB; using 2000.",
    "CIFAR_RUNS_MAX_COUNT": " is not a positive whole number; using 100.",
}


@pytest.mark.parametrize("case", ENV_BUDGETS, ids=list(ENV_BUDGETS))
def test_the_budget_settings_fall_back_to_the_defaults_and_say_so(case):
    environ, max_mb, max_count, settings = ENV_BUDGETS[case]
    budget = D.RunBudget.from_env(environ)
    assert (budget.max_mb, budget.max_count) == (max_mb, max_count)
    assert budget.notes == tuple(s + NOTE_ENDS[s.split("=")[0]] for s in settings)


# --- Model files: whole, or named as cut short ---------------------------------------------------


def h5_weights(path: Path, libver: str = "earliest") -> int:
    """A real HDF5 weights file (as Keras writes them, smaller); returns its size."""
    import h5py

    with h5py.File(path, "w", libver=libver) as f:
        f.create_dataset("layers/dense/vars/0", data=np.arange(300, dtype=np.float32))
    return path.stat().st_size


def superblock(version: int, offsets: int, base: int, end: int) -> bytes:
    """The first 64 bytes of an HDF5 file with this superblock, laid out as the format says:
    base address, one more address (undefined: all ones), end-of-file address, and one more
    address (undefined) after it."""
    head = bytearray(B.HDF5_SIGNATURE + bytes(56))
    head[8] = version
    if version < 2:
        head[13] = offsets
        base_at = 24 if version == 0 else 28
    else:
        head[9] = offsets
        base_at = 12
    width = offsets if offsets in (4, 8) else 8
    fmt = "<I" if width == 4 else "<Q"
    undefined = 2 ** (8 * width) - 1
    for k, value in enumerate((base, undefined, end, undefined)):
        struct.pack_into(fmt, head, base_at + k * width, value)
    return bytes(head)


def weights_problem(store: R.RunStore, run_id: str, content: bytes | None = None) -> str:
    """The problem listed for a run after its weights file is replaced (by `content`)."""
    path = store.path(run_id) / R.WEIGHTS_FILE
    if content is not None:
        path.unlink(missing_ok=True)
        path.write_bytes(content)
    (info,) = store.list_runs()
    return info.problem if info.status == R.DAMAGED else info.status


@pytest.mark.parametrize("libver", ["earliest", "v108", "latest"])
def test_real_weights_files_pass_whole_and_are_named_when_cut(tmp_store, libver):
    make_run(tmp_store, RUN_ID)
    path = tmp_store.path(RUN_ID) / R.WEIGHTS_FILE
    size = h5_weights(path, libver)
    whole = path.read_bytes()
    assert weights_problem(tmp_store, RUN_ID) == "finished"
    for cut in (size - 1, 1000, 64, 48):
        assert weights_problem(tmp_store, RUN_ID, whole[:cut]) == (
            f"{R.WEIGHTS_FILE} is cut short ({cut:,} of {size:,} bytes)"
        )
    header = 48 if libver == "earliest" else 36  # superblock 0 (8-byte offsets) or 2 and 3
    for cut in (header - 1, 16, 15, 8):
        assert weights_problem(tmp_store, RUN_ID, whole[:cut]) == (
            f"{R.WEIGHTS_FILE} is cut short (no HDF5 superblock)"
        )
    assert weights_problem(tmp_store, RUN_ID, whole[:7]) == (
        f"{R.WEIGHTS_FILE} is not an HDF5 weights file"
    )


SUPERBLOCKS = {
    # (version, size of offsets, base address, end-of-file address), file size → problem
    "v0, 4-byte offsets, whole": ((0, 4, 0, 64), 64, None),
    "v0, 4-byte offsets, cut": ((0, 4, 0, 65), 64, "cut short (64 of 65 bytes)"),
    "v1, whole": ((1, 8, 0, 64), 64, None),
    "v1, cut": ((1, 8, 0, 100), 64, "cut short (64 of 100 bytes)"),
    "v1, a user block": ((1, 8, 36, 64), 64, "cut short (64 of 100 bytes)"),
    "v2, 4-byte offsets, cut": ((2, 4, 0, 4096), 64, "cut short (64 of 4,096 bytes)"),
    "v3, whole, with a tail": ((3, 8, 0, 64), 80, None),
    "v0, 4-byte offsets, an end past 2 GiB": (
        (0, 4, 0, 2**31 + 64),
        64,
        "cut short (64 of 2,147,483,712 bytes)",
    ),
    "v0, an end past 4 GiB": ((0, 8, 0, 2**32 + 64), 64, "cut short (64 of 4,294,967,360 bytes)"),
    "v3, an undefined end (all ones)": (
        (3, 8, 0, 2**64 - 1),
        64,
        "cut short (64 of 18,446,744,073,709,551,615 bytes)",
    ),
    "v4: a layout not known here": ((4, 8, 0, 10**9), 64, None),
    "v4 in 16 bytes: the signature must do": ((4, 8, 0, 10**9), 16, None),
    "v0 in 16 bytes": ((0, 8, 0, 16), 16, "cut short (no HDF5 superblock)"),
    "2-byte offsets: not known here": ((0, 2, 0, 10**9), 64, None),
    "16-byte offsets: not known here": ((2, 16, 0, 10**9), 64, None),
}


@pytest.mark.parametrize("case", SUPERBLOCKS, ids=list(SUPERBLOCKS))
def test_every_superblock_layout_is_read_where_it_is(tmp_store, case):
    fields, size, problem = SUPERBLOCKS[case]
    make_run(tmp_store, RUN_ID)
    content = superblock(*fields)[:size].ljust(size, b"\0")
    expected = "finished" if problem is None else f"{R.WEIGHTS_FILE} is {problem}"
    assert weights_problem(tmp_store, RUN_ID, content) == expected


def keras_zip(path: Path, names: list[str]) -> bytes:
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, "{}")
    return path.read_bytes()


def test_a_keras_file_must_be_a_whole_zip_naming_the_model_config(tmp_store):
    make_run(tmp_store, RUN_ID)
    path = tmp_store.path(RUN_ID) / R.MODEL_FILE
    whole = keras_zip(path, ["metadata.json", "config.json", "model.weights.h5"])
    (info,) = tmp_store.list_runs()
    assert info.status == "finished"
    cases = {
        whole[:-1]: "is not a valid .keras file, cut short or garbled",
        whole[: len(whole) // 2]: "is not a valid .keras file, cut short or garbled",
        b"": "is not a valid .keras file, cut short or garbled",
        keras_zip(path, ["metadata.json"]): "is not a saved Keras model (no config.json inside)",
    }
    for content, problem in cases.items():
        path.unlink()
        path.write_bytes(content)
        (info,) = tmp_store.list_runs()
        assert info.problem == f"{R.MODEL_FILE} {problem}"


def test_a_running_run_is_judged_by_its_weights_only_once_they_settle(tmp_store):
    make_run(tmp_store, RUN_ID, status=R.RUNNING)
    path = tmp_store.path(RUN_ID) / R.BEST_WEIGHTS_FILE
    h5_weights(path)
    path.write_bytes(path.read_bytes()[:1000])  # the job is saving it right now
    (info,) = tmp_store.list_runs(active_ids={RUN_ID})
    assert info.status == R.RUNNING
    settle(tmp_store.path(RUN_ID), age=3)  # nobody finished it
    (info,) = tmp_store.list_runs(active_ids={RUN_ID})
    assert info.problem.startswith(f"{R.BEST_WEIGHTS_FILE} is cut short (1,000 of ")
    make_run(tmp_store, "20260102-080000-bbbbbb")  # a finished run is judged at once
    path = tmp_store.path("20260102-080000-bbbbbb") / R.WEIGHTS_FILE
    path.write_bytes(b"\x89HDF")
    by_id = {i.run_id: i for i in tmp_store.list_runs()}
    assert (
        by_id["20260102-080000-bbbbbb"].problem == f"{R.WEIGHTS_FILE} is not an HDF5 weights file"
    )


def test_a_long_problem_is_cut_to_one_line_with_an_ellipsis(tmp_store):
    make_run(tmp_store, RUN_ID)
    model = "resnet" * 30
    (tmp_store.path(RUN_ID) / R.CONFIG_FILE).write_text(f'{{"model": "{model}"}}')
    (info,) = tmp_store.list_runs()
    full = f"config.json: Unknown model '{model}': choose one of shallow, deep"[:163]
    assert info.problem == full[:159] + "…" and len(info.problem) == F.PROBLEM_MAX == 160
    with pytest.raises(R.RunStoreError) as caught:
        tmp_store.load(RUN_ID)
    assert str(caught.value) == f"Run {RUN_ID} is damaged: {info.problem}."


def test_a_weights_link_that_loops_is_named(tmp_store):
    make_run(tmp_store, RUN_ID)
    (tmp_store.path(RUN_ID) / R.WEIGHTS_FILE).symlink_to(R.WEIGHTS_FILE)  # points at itself
    (info,) = tmp_store.list_runs()
    assert info.problem == f"{R.WEIGHTS_FILE} cannot be read (Too many levels of symbolic links)"


# --- Bounds and words a sampled mutation run found unpinned ------------------------------------


def listed(store: R.RunStore) -> str:
    """The one run's problem if it is listed as damaged, else its status."""
    (info,) = store.list_runs()
    return info.problem if info.status == R.DAMAGED else info.status


def npy_bytes(array: np.ndarray, version: tuple[int, int] = (1, 0)) -> bytes:
    """An array in the .npy format (the one each member of an .npz holds), of that version."""
    out = io.BytesIO()
    np.lib.format.write_array(out, array, version=version)
    return out.getvalue()


def replace_predictions(store: R.RunStore, members: dict[str, bytes]) -> None:
    """The run's predictions.npz replaced by a zip of these members, written as they are."""
    path = store.path(RUN_ID) / R.PREDICTIONS_FILE
    path.unlink(missing_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def test_predictions_saved_in_npy_format_2_load_as_saved(tmp_store):
    # np.save writes format 2.0 when an array's header outgrows 64 KiB; any tool may choose it.
    make_run(tmp_store, RUN_ID)
    probs, labels = np.eye(10, dtype=np.float32), np.arange(10)
    replace_predictions(
        tmp_store,
        {"test_probs.npy": npy_bytes(probs, (2, 0)), "test_labels.npy": npy_bytes(labels, (2, 0))},
    )
    assert listed(tmp_store) == "finished"
    saved = tmp_store.load(RUN_ID).predictions()
    assert np.array_equal(saved["test_probs"], probs)
    assert np.array_equal(saved["test_labels"], labels)


def test_probabilities_may_be_off_by_the_rounding_tolerance_and_no_more():
    # Rounded probabilities may stray past 0 or 1 by up to 0.01 (inclusive); any more is damage.
    labels = np.zeros(1, dtype=np.int64)
    for low, high in ((-0.01, 1.0), (0.0, 1.01), (-0.01, 1.01)):
        B.check_predictions(
            {"test_probs": np.array([[low, high] + [0.0] * 8]), "test_labels": labels}, 1
        )
    for low, high in ((-0.0101, 1.0), (0.0, 1.0101)):
        probs = np.array([[low, high] + [0.0] * 8])
        with pytest.raises(C.Damage) as caught:
            B.check_predictions({"test_probs": probs, "test_labels": labels}, 1)
        assert str(caught.value) == "test_probs holds values that are not probabilities"


def test_train_indices_must_number_the_train_images_exactly(tmp_store):
    make_run(tmp_store, RUN_ID)
    probs, labels = np.full((20, 10), 0.1, dtype=np.float32), np.arange(20) % 10
    for n, expected in (
        (20, "finished"),
        (19, "predictions.npz: train_indices is int64 (19,), not image numbers"),
    ):
        tmp_store.write_predictions(
            RUN_ID,
            train_probs=probs,
            train_labels=labels,
            train_indices=np.arange(n, dtype=np.int64),
        )
        assert listed(tmp_store) == expected


def test_the_test_labels_must_be_as_many_as_the_result_scored(tmp_store):
    make_run(tmp_store, RUN_ID)
    tmp_store.write_predictions(RUN_ID, test_probs=np.eye(10), test_labels=np.arange(10))
    result = tmp_store.path(RUN_ID) / R.RESULT_FILE
    for n_test, expected in (
        (10, "finished"),
        (11, "predictions.npz: test_labels has 10 images, result 11"),
    ):
        tmp_store.write_json(
            RUN_ID, R.RESULT_FILE, json.loads(result.read_text()) | {"n_test": n_test}
        )
        assert listed(tmp_store) == expected


def test_what_is_wrong_inside_the_predictions_archive_is_named(tmp_store):
    make_run(tmp_store, RUN_ID)
    unknown_format = b"\x93NUMPY\x05\x00" + bytes(8)
    cases = {
        "notes.txt": (b"hello", "predictions.npz holds 'notes.txt', not an array"),
        "a" * 40 + ".npy": (
            unknown_format,
            "predictions.npz 'aaaaaaaaaaaa...aaaaaaaaaaaaa' has an unknown array format (5, 0)",
        ),
        "test probs.npy": (
            unknown_format,
            "predictions.npz 'test probs' has an unknown array format (5, 0)",
        ),
    }
    for name, (content, expected) in cases.items():
        replace_predictions(tmp_store, {name: content})
        assert listed(tmp_store) == expected
    replace_predictions(tmp_store, {"test_probs.npy": b"not an array"})
    assert listed(tmp_store).startswith(
        "predictions.npz cannot be read as arrays (ValueError: the magic string is not correct"
    )


CONFIG_VALUES = {
    "val_split as text": ("val_split", "0.2", "\"val_split\" is '0.2', not a number"),
    "val_split true": ("val_split", True, '"val_split" is True, not a number'),
    "optimizer a number": ("optimizer", 123, '"optimizer" is 123, not text'),
    "optimizer too long": ("optimizer", "x" * 41, '"optimizer" is 41 characters long (at most 40)'),
    "seed past int64": (
        "seed",
        2**63,
        '"seed" is 9223372036854775808, out of range (0 to 9,223,372,036,854,775,807)',
    ),
    "seed at the int64 limit": ("seed", 2**63 - 1, None),
    "a model that is no name": (
        "model",
        {"a" * 30: ["b" * 30]},  # its repr is cut to 40 characters
        "\"model\" is {'aaaaaaaaaaaa...aaaaaaaaaaaaa': ['bbbb…, not a network name",
    ),
}


@pytest.mark.parametrize("case", CONFIG_VALUES, ids=list(CONFIG_VALUES))
def test_a_config_setting_of_the_wrong_type_or_range_is_named(tmp_store, case):
    key, value, problem = CONFIG_VALUES[case]
    make_run(tmp_store, RUN_ID)
    tmp_store.write_json(RUN_ID, R.CONFIG_FILE, {"model": "deep", "epochs": 2, key: value})
    assert listed(tmp_store) == ("finished" if problem is None else f"{R.CONFIG_FILE}: {problem}")


RESULT_VALUES = {
    "accuracy of 1": ("test_accuracy", 1.0, None),
    "accuracy above 1": ("test_accuracy", 1.5, '"test_accuracy" is 1.5, out of range (0 to 1)'),
    "best validation accuracy above 1": (
        "best_val_accuracy",
        1.5,
        '"best_val_accuracy" is 1.5, out of range (0 to 1)',
    ),
    "speed as text": ("images_per_second", "fast", "\"images_per_second\" is 'fast', not a number"),
    "negative speed": (
        "images_per_second",
        -1.0,
        '"images_per_second" is -1.0, out of range (0 to 1e+12)',
    ),
    "class names of 100 characters": ("class_names", ["x" * 100] * 10, None),
    "an empty class name": (
        "class_names",
        [""] + ["cat"] * 9,
        "\"class_names\" holds '', not a class name",
    ),
    "a class name of 101 characters": (
        "class_names",
        ["x" * 101] + ["cat"] * 9,
        "\"class_names\" holds 'xxxxxxxxxxxx...xxxxxxxxxxxxx', not a class name",
    ),
    "a class name that is a number": (
        "class_names",
        [5] + ["cat"] * 9,
        '"class_names" holds 5, not a class name',
    ),
}


@pytest.mark.parametrize("case", RESULT_VALUES, ids=list(RESULT_VALUES))
def test_a_result_value_of_the_wrong_type_or_range_is_named(tmp_store, case):
    key, value, problem = RESULT_VALUES[case]
    make_run(tmp_store, RUN_ID)
    result = json.loads((tmp_store.path(RUN_ID) / R.RESULT_FILE).read_text())
    tmp_store.write_json(RUN_ID, R.RESULT_FILE, result | {key: value})
    assert listed(tmp_store) == ("finished" if problem is None else f"{R.RESULT_FILE}: {problem}")


def test_a_running_runs_file_is_judged_once_it_is_the_settle_time_old(tmp_store, monkeypatch):
    make_run(tmp_store, RUN_ID, status=R.RUNNING)
    path = tmp_store.path(RUN_ID) / R.BEST_WEIGHTS_FILE
    path.write_bytes(b"\x89HDF")  # being written, or damaged: only time tells
    written = path.stat().st_mtime_ns
    for age, expected in (
        (F._SETTLE_NS - 1, R.RUNNING),
        (F._SETTLE_NS, f"{R.BEST_WEIGHTS_FILE} is not an HDF5 weights file"),
    ):
        monkeypatch.setattr(F.time, "time_ns", lambda age=age: written + age)
        (info,) = tmp_store.list_runs(active_ids={RUN_ID})
        assert (info.problem or info.status) == expected


def test_a_file_that_fails_while_it_is_read_is_named(tmp_store):
    # /proc/self/mem is a regular file whose first bytes cannot be read (EIO), as on a failing
    # disk: the open and the size check pass, the read fails.
    mem = Path("/proc/self/mem")
    if not mem.exists():
        pytest.skip("needs Linux's /proc/self/mem")
    make_run(tmp_store, RUN_ID)
    config = tmp_store.path(RUN_ID) / R.CONFIG_FILE
    config.unlink()
    config.symlink_to(mem)
    assert listed(tmp_store) == f"{R.CONFIG_FILE} cannot be read (Input/output error)"
