"""Every file of a run folder is untrusted: damage is listed as DAMAGED with a reason, `load`
raises RunStoreError, and a run that loads has fields of the types the pages read.

Example cases first (most of them made list_runs raise, or reached a page unchecked, before
this was fixed), then property-based tests (hypothesis) that damage one file of a real
finished run in every way they can think of, next to a valid copy that must stay listed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cifar_core import constants as C
from cifar_core import evaluation as E
from cifar_core import runs as R
from cifar_core.training import TrainConfig

GOOD, BAD = "20260101-080000-aaaaaa", "20260102-080000-bbbbbb"
BIG_INT = "1" + "0" * 400  # a JSON number no float can hold
LONG_INT = "7" * 5000  # more digits than Python converts by default


def write_valid_run(store: R.RunStore, run_id: str) -> None:
    """A finished run as the training job saves it (no model files), without training."""
    config = TrainConfig(model="deep", train_size=300, epochs=2, batch_size=64, seed=1)
    store.create(run_id, config.to_dict())
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 50)
    probs = rng.dirichlet(np.ones(10), 50)
    result = {
        **E.summarize_predictions(probs, labels),
        "class_names": list(C.CLASS_NAMES),
        "n_train": 240,
        "n_val": 60,
        "epochs_completed": 2,
        "best_epoch": 2,
        "best_val_accuracy": 0.2,
        "train_seconds": 3.0,
        "images_per_second": 160.0,
        "versions": {"tensorflow": "2.21.0", "keras": "3.15.1"},
        "precision": "float32",
        "phases": {"import": 4.0, "training": 2.0},
    }
    batch = {"step": 1, "first_step": 1, "epoch": 1, "batch": 1, "count": 1, "seconds": 0.5}
    batch.update(size=64, loss=2.3, loss_min=2.3, loss_max=2.3, accuracy=0.1)
    batch.update(accuracy_min=0.1, accuracy_max=0.1)
    epochs = [
        {"epoch": e, "seconds": 1.0 * e, "loss": 2.3, "accuracy": 0.1}
        | {"val_loss": 2.3, "val_accuracy": 0.1 * e}
        for e in (1, 2)
    ]
    store.write_json(run_id, R.HISTORY_FILE, {"batches": [batch], "epochs": epochs})
    store.write_predictions(
        run_id,
        test_probs=probs.astype(np.float16),
        test_labels=labels.astype(np.int16),
        train_indices=np.arange(20, dtype=np.int64),
        train_probs=probs[:20].astype(np.float16),
        train_labels=labels[:20].astype(np.int16),
    )
    store.write_json(run_id, R.RESULT_FILE, result)
    store.set_status(run_id, "finished")


def patch_json(path: Path, change) -> None:
    """Rewrite a JSON file of a run with `change(obj)` applied (it returns the new object)."""
    obj = json.loads(path.read_text())
    replace_file(path, json.dumps(change(obj), allow_nan=True).encode())


def with_key(key: str, value):
    def change(obj):
        obj[key] = value
        return obj

    return change


def assert_listed_damaged(store: R.RunStore, run_id: str, words: str) -> None:
    infos = store.list_runs()
    by_id = {i.run_id: i for i in infos}
    assert by_id[GOOD].status == "finished" and by_id[GOOD].test_accuracy is not None
    info = by_id[run_id]
    assert info.status == R.DAMAGED, info
    assert words in info.problem, info.problem
    assert 0 < len(info.problem) <= 200 and info.label
    with pytest.raises(R.RunStoreError, match="is damaged") as caught:
        store.load(run_id)
    assert info.problem in str(caught.value)


@pytest.fixture()
def two_runs(tmp_store: R.RunStore) -> R.RunStore:
    """A store with two valid runs: GOOD stays valid, a test damages BAD."""
    write_valid_run(tmp_store, GOOD)
    write_valid_run(tmp_store, BAD)
    return tmp_store


# --- Damage that made list_runs raise, or reached the pages unchecked ---------------------------

RAW = {
    # Raised OverflowError / ValueError out of list_runs before.
    "created too big for a float": (
        R.STATUS_FILE,
        '{"status": "finished", "created": ' + BIG_INT + "}",
        '"created" is',
    ),
    "accuracy too big for a float": (
        R.RESULT_FILE,
        '{"test_accuracy": ' + BIG_INT + "}",
        '"test_accuracy" is',
    ),
    "a number with 5000 digits": (
        R.RESULT_FILE,
        '{"test_accuracy": ' + LONG_INT + "}",
        "result.json",
    ),
    # The issue's own examples (already listed as damaged; kept here as the contract).
    "result null": (R.RESULT_FILE, "null", "result.json holds null, not an object"),
    "result list": (R.RESULT_FILE, "[]", "result.json holds a list, not an object"),
    "created text": (
        R.STATUS_FILE,
        '{"status": "finished", "created": "yesterday"}',
        "not a time",
    ),
}


@pytest.mark.parametrize("case", RAW, ids=list(RAW))
def test_raw_damage_is_listed_never_raised(two_runs, case):
    name, text, words = RAW[case]
    (two_runs.path(BAD) / name).write_text(text)
    assert_listed_damaged(two_runs, BAD, words)


NESTED = {
    # Listed as fine and loaded as is before; each one raised on a page.
    "model a number": (R.CONFIG_FILE, "model", 7, '"model" is 7'),
    "model unknown": (R.CONFIG_FILE, "model", "resnet", "resnet"),
    "epochs text": (R.CONFIG_FILE, "epochs", "two", '"epochs" is'),
    "epochs too many": (R.CONFIG_FILE, "epochs", 10_000, "Epochs must be"),
    "seed a list": (R.CONFIG_FILE, "seed", [1], '"seed" is'),
    "augment a number": (R.CONFIG_FILE, "augment", 5, '"augment" is'),
    "augment wrong": (R.CONFIG_FILE, "augment", {"rotation_range": "lots"}, "augment"),
    "accuracy high": (R.RESULT_FILE, "test_accuracy", "high", '"test_accuracy" is'),
    "accuracy above 1": (R.RESULT_FILE, "test_accuracy", 7.5, '"test_accuracy" is'),
    "accuracy infinite": (R.RESULT_FILE, "test_accuracy", math.inf, '"test_accuracy" is'),
    "loss text": (R.RESULT_FILE, "test_loss", "low", '"test_loss" is'),
    "class names a number": (R.RESULT_FILE, "class_names", 5, '"class_names" is'),
    "class names too few": (R.RESULT_FILE, "class_names", ["cat"], "class_names"),
    "confusion text": (R.RESULT_FILE, "confusion_matrix", "x", '"confusion_matrix"'),
    "confusion ragged": (R.RESULT_FILE, "confusion_matrix", [[1, 2], [3]], '"confusion_matrix"'),
    "per class null": (R.RESULT_FILE, "per_class_accuracy", None, '"per_class_accuracy"'),
    "versions a list": (R.RESULT_FILE, "versions", ["2.21"], '"versions"'),
    "phases text": (R.RESULT_FILE, "phases", {"training": "long"}, '"phases"'),
    "best epoch text": (R.RESULT_FILE, "best_epoch", "first", '"best_epoch"'),
    "n train huge": (R.RESULT_FILE, "n_train", 10**30, '"n_train"'),
    "status unknown": (R.STATUS_FILE, "status", "banana", '"status" is'),
    "message a dict": (R.STATUS_FILE, "message", {"a": 1}, '"message"'),
    "updated a list": (R.STATUS_FILE, "updated", [1], '"updated"'),
    "created negative": (R.STATUS_FILE, "created", -5.0, '"created"'),
}


@pytest.mark.parametrize("case", NESTED, ids=list(NESTED))
def test_a_wrong_type_inside_a_file_is_damage(two_runs, case):
    name, key, value, words = NESTED[case]
    patch_json(two_runs.path(BAD) / name, with_key(key, value))
    assert_listed_damaged(two_runs, BAD, words)


def test_a_result_without_the_numbers_the_pages_show_is_damage(two_runs):
    patch_json(two_runs.path(BAD) / R.RESULT_FILE, lambda r: {"test_accuracy": 0.5})
    assert_listed_damaged(two_runs, BAD, '"test_loss"')


HISTORY = {
    "epochs null": (lambda h: h | {"epochs": None}, '"epochs" is'),
    "epoch missing": (lambda h: h | {"epochs": [{"loss": 1.0}]}, '"epoch"'),
    "loss text": (lambda h: h | {"epochs": [{"epoch": 1, "loss": "x"}]}, '"loss"'),
    "batch epoch text": (lambda h: h | {"batches": [{"epoch": "1", "batch": 1}]}, '"epoch"'),
    "batch loss null": (
        lambda h: h | {"batches": [{"epoch": 1, "batch": 1, "loss": None}]},
        '"loss"',
    ),
    "batch count text": (
        lambda h: h | {"batches": [{"epoch": 1, "batch": 1, "step": 1, "count": "2"}]},
        '"count"',
    ),
    "merged point without step": (
        lambda h: h | {"batches": [{"epoch": 1, "batch": 2, "count": 2}]},
        '"step"',
    ),
}


@pytest.mark.parametrize("case", HISTORY, ids=list(HISTORY))
def test_a_damaged_history_fails_load_with_the_store_error(two_runs, case):
    change, words = HISTORY[case]
    patch_json(two_runs.path(BAD) / R.HISTORY_FILE, change)
    by_id = {i.run_id: i for i in two_runs.list_runs()}
    assert by_id[BAD].status == "finished"  # listing never reads the history
    with pytest.raises(R.RunStoreError, match="history.json") as caught:
        two_runs.load(BAD)
    assert words in str(caught.value)


def save_npz(path: Path, **arrays) -> None:
    path.unlink()  # a new file: never write through a hard link
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def predictions_of(store: R.RunStore, run_id: str) -> dict[str, np.ndarray]:
    with np.load(store.path(run_id) / R.PREDICTIONS_FILE) as npz:
        return {k: npz[k] for k in npz.files}


PREDICTIONS = {
    "labels out of range": (lambda p: p | {"test_labels": p["test_labels"] + 10}, "test_labels"),
    "labels negative": (lambda p: p | {"test_labels": -p["test_labels"] - 1}, "test_labels"),
    "labels floats": (lambda p: p | {"test_labels": p["test_labels"] * 1.0}, "test_labels"),
    "probs 3 classes": (lambda p: p | {"test_probs": p["test_probs"][:, :3]}, "test_probs"),
    "probs 1-D": (lambda p: p | {"test_probs": p["test_probs"][:, 0]}, "test_probs"),
    "probs text": (lambda p: p | {"test_probs": p["test_probs"].astype(str)}, "test_probs"),
    "probs infinite": (lambda p: p | {"test_probs": p["test_probs"] * np.inf}, "test_probs"),
    "one image short": (lambda p: p | {"test_labels": p["test_labels"][:-1]}, "test_labels"),
    "labels without probs": (
        lambda p: {k: v for k, v in p.items() if k != "test_probs"},
        "test_probs",
    ),
    "train labels short": (lambda p: p | {"train_labels": p["train_labels"][:3]}, "train_labels"),
}


@pytest.mark.parametrize("case", PREDICTIONS, ids=list(PREDICTIONS))
def test_damaged_predictions_are_damage(two_runs, case):
    change, words = PREDICTIONS[case]
    save_npz(two_runs.path(BAD) / R.PREDICTIONS_FILE, **change(predictions_of(two_runs, BAD)))
    assert_listed_damaged(two_runs, BAD, words)


@pytest.mark.parametrize(
    "content",
    [b"", b"not a zip at all", b"PK\x03\x04" + b"\0" * 40],
    ids=["empty", "text", "zip header only"],
)
def test_predictions_that_are_not_an_npz_are_damage(two_runs, content):
    (two_runs.path(BAD) / R.PREDICTIONS_FILE).write_bytes(content)
    assert_listed_damaged(two_runs, BAD, "predictions.npz")


def test_predictions_holding_a_pickle_are_damage_and_never_unpickled(two_runs):
    arrays = predictions_of(two_runs, BAD)
    arrays["test_labels"] = np.array([object()] * len(arrays["test_labels"]), dtype=object)
    save_npz(two_runs.path(BAD) / R.PREDICTIONS_FILE, **arrays)
    assert_listed_damaged(two_runs, BAD, "predictions.npz")


def test_a_finished_run_without_its_result_is_damage_a_failed_one_is_not(two_runs):
    (two_runs.path(BAD) / R.RESULT_FILE).unlink()
    assert_listed_damaged(
        two_runs, BAD, 'result.json is missing or empty, but the run is "finished"'
    )
    two_runs.set_status(BAD, "failed", "Out of memory.")
    info = {i.run_id: i for i in two_runs.list_runs()}[BAD]
    assert info.status == "failed" and info.test_accuracy is None
    assert two_runs.load(BAD).result == {}


def test_a_lone_surrogate_in_any_text_is_damage(two_runs):
    (two_runs.path(BAD) / R.STATUS_FILE).write_text(
        '{"status": "failed", "message": "boom \\ud800", "created": 1.0}'
    )
    assert_listed_damaged(two_runs, BAD, "status.json holds text that is not valid Unicode")


def test_a_pipe_in_place_of_a_file_is_damage_and_never_blocks(two_runs):
    path = two_runs.path(BAD) / R.RESULT_FILE
    path.unlink()
    os.mkfifo(path)  # opening it to read would wait forever for a writer
    assert_listed_damaged(two_runs, BAD, "result.json is not a plain file")


def test_a_link_to_a_device_is_damage_and_never_read(two_runs):
    path = two_runs.path(BAD) / R.CONFIG_FILE
    path.unlink()
    path.symlink_to("/dev/zero")  # endless zeros: reading it whole would never end
    assert_listed_damaged(two_runs, BAD, "config.json is not a plain file")


def test_a_huge_file_is_damage_without_being_read(two_runs):
    path = two_runs.path(BAD) / R.STATUS_FILE
    with open(path, "r+b") as f:
        f.truncate(R.MB * 17)  # sparse: 17 MB of zeros on no disk space
    assert_listed_damaged(two_runs, BAD, "status.json is too large")


def test_a_run_that_loads_reads_its_predictions_checked(two_runs):
    run = two_runs.load(BAD)
    preds = run.predictions()
    assert set(preds) == {"test_probs", "test_labels", "train_indices", "train_probs"} | {
        "train_labels"
    }
    assert preds["test_probs"].shape == (50, 10) and preds["test_labels"].dtype == np.int16
    preds["test_labels"][0] = 3  # plain writable arrays, as np.load gives
    (run.path / R.PREDICTIONS_FILE).unlink()
    with pytest.raises(R.RunStoreError, match="has no saved predictions"):
        run.predictions()
    (run.path / R.PREDICTIONS_FILE).write_bytes(b"garbage")
    with pytest.raises(R.RunStoreError, match="is damaged: predictions.npz"):
        run.predictions()


def test_read_bytes_refuses_what_is_not_a_plain_file(two_runs):
    run = two_runs.load(BAD)
    (run.path / R.WEIGHTS_FILE).symlink_to("/dev/zero")
    with pytest.raises(R.RunStoreError, match="not a plain file"):
        run.read_bytes(R.WEIGHTS_FILE)
    with pytest.raises(FileNotFoundError):
        run.read_bytes(R.MODEL_FILE)


# --- A real finished run, damaged one file at a time ------------------------------------------


@pytest.fixture(scope="module")
def real_run(trained_store: R.RunStore) -> Path:
    """The folder of the one real finished run (model files included); never written to."""
    (info,) = trained_store.list_runs()
    return trained_store.path(info.run_id)


def test_a_cut_short_model_file_is_damage(real_run, tmp_path):
    for name in (R.MODEL_FILE, R.WEIGHTS_FILE, R.BEST_WEIGHTS_FILE, R.ARCHITECTURE_FILE):
        store = R.RunStore(tmp_path / name / "runs")
        clone(real_run, store.root / GOOD)
        clone(real_run, store.root / BAD)
        cut_file(store.root / BAD / name, (real_run / name).stat().st_size // 2)
        assert_listed_damaged(store, BAD, f"{name} is")


def test_listing_checks_the_predictions_and_models_once_and_never_reads_the_history(
    real_run, tmp_path, monkeypatch
):
    from cifar_core.runs import files as F

    store = R.RunStore(tmp_path / "runs")
    shutil.copytree(real_run, store.root / GOOD)
    past = time_ago(60)  # saved a while ago: the listing cache trusts it
    for path in (store.root / GOOD).iterdir():
        os.utime(path, (past, past))
    names: list[str] = []
    real_read = F._read_file
    monkeypatch.setattr(F, "_read_file", lambda path: names.append(path.name) or real_read(path))
    (info,) = store.list_runs()
    assert info.status == "finished"
    assert sorted(names) == sorted(
        [R.CONFIG_FILE, R.STATUS_FILE, R.RESULT_FILE, R.OWNERS_FILE]
        + [R.PREDICTIONS_FILE, R.ARCHITECTURE_FILE]
    )  # the .keras and .h5 files: only their directory and superblock, never whole
    names.clear()
    assert store.list_runs() == [info] and names == []  # unchanged: nothing read again


def test_a_running_run_is_not_judged_by_files_it_is_writing(real_run, tmp_path):
    store = R.RunStore(tmp_path / "runs")
    clone(real_run, store.root / GOOD)
    clone(real_run, store.root / BAD)
    patch_json(store.root / BAD / R.STATUS_FILE, with_key("status", "running"))
    cut_file(store.root / BAD / R.BEST_WEIGHTS_FILE, 100)  # the job is saving it right now
    assert {i.run_id: i.status for i in store.list_runs()}[BAD] == R.INTERRUPTED
    past = time_ago(60)
    os.utime(store.root / BAD / R.BEST_WEIGHTS_FILE, (past, past))  # nobody finished it
    assert_listed_damaged(store, BAD, "best.weights.h5 is cut short")


def time_ago(seconds: float) -> float:
    return time.time() - seconds


def clone(source: Path, target: Path) -> None:
    """A copy of a run folder: hard links (the big model files cost nothing), else copies.

    A test that damages a file unlinks it first, so the source's files are never changed.
    """
    target.mkdir(parents=True)
    for path in source.iterdir():
        try:
            os.link(path, target / path.name)
        except OSError:
            shutil.copy2(path, target / path.name)


def replace_file(path: Path, content: bytes) -> None:
    """Write a new file in place of `path` (never into a shared hard link)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    path.write_bytes(content)


def cut_file(path: Path, size: int) -> None:
    with open(path, "rb") as f:
        head = f.read(size)
    replace_file(path, head)


# --- Property-based: any damage to any one file --------------------------------------------------

JSON_FILES = (R.CONFIG_FILE, R.STATUS_FILE, R.RESULT_FILE, R.HISTORY_FILE, R.ARCHITECTURE_FILE)
BINARY_FILES = (R.PREDICTIONS_FILE, R.MODEL_FILE, R.WEIGHTS_FILE, R.BEST_WEIGHTS_FILE)
REQUIRED = (R.CONFIG_FILE, R.STATUS_FILE, R.RESULT_FILE)  # the real run is finished
# What a damage is certain to do: "listed" damaged, fail only at "load" (the history, which
# listing never reads), leave the run "valid"; None: it depends (a random object may be valid).
LISTED, LOAD, VALID = "listed", "load", "valid"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**500), max_value=10**500)
    | st.floats()
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def broken(name: str) -> str:
    """What damage to this file certainly does."""
    return LOAD if name == R.HISTORY_FILE else LISTED


def mutate_inside(data: st.DataObject, obj: object) -> object:
    """obj with one value somewhere inside replaced, deleted or added, chosen at random."""
    if not isinstance(obj, dict | list) or not obj or not data.draw(st.booleans(), label="deeper"):
        return data.draw(json_values, label="new value")
    if isinstance(obj, dict):
        key = data.draw(st.sampled_from(sorted(obj)) | st.text(max_size=8), label="key")
        if key in obj and data.draw(st.booleans(), label="delete"):
            return {k: v for k, v in obj.items() if k != key}
        return obj | {key: mutate_inside(data, obj.get(key))}
    index = data.draw(st.integers(0, len(obj) - 1), label="index")
    if data.draw(st.booleans(), label="delete"):
        return obj[:index] + obj[index + 1 :]
    return obj[:index] + [mutate_inside(data, obj[index])] + obj[index + 1 :]


def damage_one_file(data: st.DataObject, folder: Path, source: Path) -> tuple[str, str | None]:
    """Damage one file of `folder` (a clone of `source`); returns (file name, certainty)."""
    name = data.draw(st.sampled_from(JSON_FILES + BINARY_FILES), label="file")
    path = folder / name
    how = data.draw(
        st.sampled_from(["json", "inside", "cut", "bytes", "remove", "folder"]), label="how"
    )
    if how == "json":  # the whole file: any JSON value
        value = data.draw(json_values, label="value")
        replace_file(path, json.dumps(value).encode())
        if name in BINARY_FILES or not isinstance(value, dict):
            return name, broken(name)
        return name, None
    if how == "inside" and name in JSON_FILES:  # one value deep inside a valid file
        obj = json.loads((source / name).read_text())
        replace_file(path, json.dumps(mutate_inside(data, obj), allow_nan=True).encode())
        return name, None
    if how == "cut":  # cut short anywhere: a crash or a full disk mid-write
        cut_file(path, data.draw(st.integers(0, (source / name).stat().st_size - 1), label="at"))
        return name, broken(name)
    if how == "bytes":
        content = data.draw(st.binary(max_size=300), label="bytes")
        replace_file(path, content)
        if name in BINARY_FILES:
            return name, broken(name)
        try:
            is_object = isinstance(json.loads(content), dict)
        except ValueError:
            is_object = False
        return name, None if is_object else broken(name)
    if how == "remove":
        path.unlink()
        return name, broken(name) if name in REQUIRED else VALID
    path.unlink()  # "folder", or "inside" a binary file
    path.mkdir()
    return name, broken(name)


def exercise(run: R.Run) -> None:
    """Read a loaded run the way the pages do: nothing may raise."""
    from cifar_core import charts, curve_points
    from cifar_core.bias_privacy import analysis as ethics
    from cifar_core.comparison import analysis as comparison
    from cifar_core.comparison import scoreboard
    from cifar_core.models import count_params
    from cifar_core.training.phases import phase_rows

    config = TrainConfig.from_dict(run.config)
    config.split_sizes()
    assert count_params(run.config["model"]) > 0
    assert run.status["status"] in ("finished", "stopped", "failed", "running")
    time.strftime("%d %b %Y %H:%M", time.localtime(run.status.get("created") or 0))
    hash(run.status.get("updated"))
    assert isinstance(run.status.get("message") or "", str)
    epochs, batches = run.history.get("epochs", []), run.history.get("batches", [])
    run.history_csv("epochs"), run.history_csv("batches")
    charts.curve_frame(batches, epochs, "loss", 3)
    curve_points.downsample_batches(batches, 2)
    comparison.curve_rows({"run": epochs})
    scoreboard.summarize_run("run", run.config, run.result, epochs)
    E.learning_problem(run.result, epochs, run.config)
    result = run.result
    names = result.get("class_names", list(C.CLASS_NAMES))
    if result:
        f"{result['test_accuracy']:.1%} {result['test_loss']:.3f}"
        charts.confusion_heatmap(result["confusion_matrix"], names)
        charts.per_class_bars(result["per_class_accuracy"], names)
        [float(a) for a in result["per_class_accuracy"]]
        phase_rows(result.get("phases", {}))
        result.get("versions", {}).get("tensorflow", "?")
    if run.has(R.PREDICTIONS_FILE):
        preds = run.predictions()
        for kind in ("test", "train"):
            if f"{kind}_probs" in preds:
                probs, labels = preds[f"{kind}_probs"], preds[f"{kind}_labels"]
                [names[i] for i in probs.argmax(axis=1)] + [names[i] for i in labels]
                ethics.true_class_confidence(probs, labels)


def assert_store_survives(root: Path, name: str, certainty: str | None, good: R.RunInfo) -> None:
    """The properties: listing never raises, damage is named, loading gives typed data."""
    store = R.RunStore(root)
    infos = store.list_runs()
    by_id = {i.run_id: i for i in infos}
    assert set(by_id) == {GOOD, BAD}
    assert by_id[GOOD] == R.RunInfo(
        GOOD, good.status, good.created, good.config, good.test_accuracy, owners=good.owners
    )
    info = by_id[BAD]
    assert info.label
    event(f"{name}: {'damaged' if info.status == R.DAMAGED else 'listed as ' + info.status}")
    if info.status == R.DAMAGED:
        assert certainty in (LISTED, None), (name, info.problem)
        assert 0 < len(info.problem) <= 160 and info.config == {}
        with pytest.raises(R.RunStoreError) as caught:
            store.load(BAD)
        assert info.problem in str(caught.value)
        return
    assert certainty in (LOAD, VALID, None), (name, certainty, info)
    assert info.status in ("finished", "stopped", "failed", "interrupted")
    assert info.test_accuracy is None or 0 <= info.test_accuracy <= 1
    try:
        run = store.load(BAD)
    except R.RunStoreError as exc:
        assert name == R.HISTORY_FILE and "history.json" in str(exc), exc
        event("load refused the history")
        return
    assert certainty != LOAD, name
    exercise(run)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_damage_to_one_file_is_named_and_never_raised(real_run, data):
    good = R.RunStore(real_run.parent).list_runs()[0]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        clone(real_run, root / GOOD)
        clone(real_run, root / BAD)
        name, certainty = damage_one_file(data, root / BAD, real_run)
        assert_store_survives(root, name, certainty, good)


ARRAY_CHANGES = {
    "dtype": lambda a, d: a.astype(
        d.draw(st.sampled_from(["f8", "f4", "i1", "i8", "u1", "?", "c8", "U2", "S3"]))
    ),
    "drop a row": lambda a, d: a[:-1],
    "add a row": lambda a, d: np.concatenate([a, a[:1]]),
    "flatten": lambda a, d: a.reshape(-1),
    "one more axis": lambda a, d: a[..., None],
    "one value": lambda a, d: one_value(a, d),
    "scalar": lambda a, d: a.reshape(-1)[0],
    "empty": lambda a, d: a[:0],
}


def one_value(array: np.ndarray, data: st.DataObject) -> np.ndarray:
    out = array.astype(np.float64) if array.dtype.kind == "f" else array.astype(np.int64)
    value = data.draw(st.sampled_from([np.nan, np.inf, -1, 10, 2.0, 1e30, 0]), label="value")
    if out.dtype.kind == "i" and not (math.isfinite(value) and abs(value) < 2**62):
        value = -(2**40)
    out.reshape(-1)[data.draw(st.integers(0, out.size - 1), label="where")] = value
    if data.draw(st.booleans(), label="same dtype"):
        with np.errstate(over="ignore", invalid="ignore"):  # 1e30 as float16 is inf: fine
            return out.astype(array.dtype)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_change_to_the_saved_predictions_is_named_or_harmless(real_run, data):
    good = R.RunStore(real_run.parent).list_runs()[0]
    with np.load(real_run / R.PREDICTIONS_FILE) as npz:
        arrays = {key: npz[key] for key in npz.files}
    key = data.draw(st.sampled_from(sorted(arrays)), label="array")
    change = data.draw(st.sampled_from([*ARRAY_CHANGES, "remove", "extra", "pickle"]))
    if change == "remove":
        del arrays[key]
    elif change == "extra":
        arrays[data.draw(st.text("abcxyz_", min_size=1, max_size=8))] = arrays[key][:3]
    elif change == "pickle":
        arrays[key] = np.array([{"a": 1}] * 3, dtype=object)
    else:
        arrays[key] = ARRAY_CHANGES[change](arrays[key], data)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        clone(real_run, root / GOOD)
        clone(real_run, root / BAD)
        path = root / BAD / R.PREDICTIONS_FILE
        path.unlink()
        with open(path, "wb") as f:
            (np.savez_compressed if data.draw(st.booleans()) else np.savez)(f, **arrays)
        certainty = LISTED if change == "pickle" else None
        assert_store_survives(root, R.PREDICTIONS_FILE, certainty, good)


# --- The Train page with a damaged run ----------------------------------------------------------


def test_train_page_shows_a_damaged_run_as_damaged(app_env, real_run, monkeypatch):
    from tests.conftest import open_app

    root = app_env
    clone(real_run, root / GOOD)
    clone(real_run, root / BAD)
    patch_json(root / BAD / R.RESULT_FILE, with_key("class_names", 5))
    nulled = "20260103-080000-cccccc"
    clone(real_run, root / nulled)
    replace_file(root / nulled / R.RESULT_FILE, b"null")
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(root))

    at = open_app("pages/train.py")
    assert not at.exception
    picker = at.selectbox(key="train_run_picker")
    assert picker.value == GOOD  # the newest (damaged runs are dated by their ids)
    assert any("damaged (result.json holds null" in option for option in picker.options)

    # Each step takes the picker from the latest run's tree: an element kept from an older
    # tree would send that tree's widgets back (e.g. the explorer's pickers, which a damaged
    # run does not show), as no browser would.
    picker.set_value(nulled).run()
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "This run folder is damaged and cannot be shown: result.json holds null, not an object"
    ]

    at.selectbox(key="train_run_picker").set_value(BAD).run()
    assert not at.exception
    (warning,) = at.warning
    assert "damaged" in warning.value and '"class_names" is 5' in warning.value

    at.selectbox(key="train_run_picker").set_value(GOOD).run()  # the valid run, in full
    assert not at.exception and not any("damaged" in w.value for w in at.warning)
    assert any(m.label == "Test accuracy" for m in at.metric)
