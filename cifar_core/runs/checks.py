"""Run checks: what each file of a run must hold, checked before anything else reads it.

Every file of a run folder is untrusted (a crash mid-write, a full disk, a hand edit, a copy
from elsewhere). These checks take the parsed content of one file and raise `Damage` with a
short sentence saying what is wrong. They check what the pages read: a run that passes can
be shown without a TypeError, KeyError or IndexError.

The messages do not name the file: the caller (runs.files) puts the file name in front.
Unknown keys are allowed everywhere (newer versions may add some); known keys must have the
type and range the app writes.
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Callable, Mapping
from operator import methodcaller
from typing import Any

from cifar_core.constants import COUNT_MAX, LATEST_TIME, NUM_CLASSES, SECONDS_MAX
from cifar_core.identity import valid_owner_hash

# Status words the run store writes ("interrupted" and "damaged" are only ever derived).
SAVED_STATUSES: tuple[str, ...] = ("finished", "stopped", "failed", "running")
_HAS_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


class Damage(Exception):
    """What is wrong with one file of a run folder (becomes the run's "problem")."""


def kind(value: Any) -> str:
    """The JSON type of a value in words: "null", "a list", "a string"…"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__


_REPR = reprlib.Repr()
_REPR.maxlist = _REPR.maxdict = 4
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = 30


def short(value: Any) -> str:
    """repr of a value, at most 40 characters (so a problem stays one short line)."""
    text = _REPR.repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def is_number(value: Any) -> bool:
    """True for a JSON number (an int or a float, never true/false)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def number(
    value: Any,
    what: str,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    nan: bool = False,
    inf: bool = False,
) -> float:
    """A number within [low, high] as a float; NaN or ±infinity only where allowed.

    Raises:
        Damage: not a number, too large for a float, or out of range.
    """
    if not is_number(value):
        raise Damage(f"{what} is {short(value)}, not a number")
    try:
        x = float(value)
    except OverflowError:
        raise Damage(f"{what} is {short(value)}, far out of range") from None
    if math.isnan(x):
        if nan:
            return x
        raise Damage(f"{what} is NaN, not a number")
    if math.isinf(x):
        if inf:
            return x
        raise Damage(f"{what} is {short(value)}, not a finite number")
    if not low <= x <= high:
        raise Damage(f"{what} is {short(value)}, out of range ({low:g} to {high:g})")
    return x


def integer(value: Any, what: str, low: int = 0, high: int = COUNT_MAX) -> int:
    """A whole JSON number within [low, high]."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise Damage(f"{what} is {short(value)}, not a whole number")
    if not low <= value <= high:
        raise Damage(f"{what} is {short(value)}, out of range ({low:,} to {high:,})")
    return value


def text(value: Any, what: str, max_len: int = 10_000) -> str:
    """A string of at most `max_len` characters."""
    if not isinstance(value, str):
        raise Damage(f"{what} is {short(value)}, not text")
    if len(value) > max_len:
        raise Damage(f"{what} is {len(value):,} characters long (at most {max_len:,})")
    return value


def check_time(value: Any, what: str) -> float:
    """A time stamp: seconds since 1970, before the year 3000."""
    if not is_number(value):
        raise Damage(f"{what} is {short(value)}, not a time in seconds")
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if not 0 <= seconds < LATEST_TIME:  # NaN fails this too
        raise Damage(f"{what} is {short(value)}, not a possible time")
    return seconds


def optional(obj: Mapping, key: str, check: Callable[[Any, str], Any], null: bool = False) -> None:
    """Check obj[key] with `check` if the key is there (null allowed only if `null`)."""
    if key in obj and not (null and obj[key] is None):
        check(obj[key], f'"{key}"')


def check_unicode(raw_text: str, value: Any) -> None:
    """Refuse a lone surrogate (an "\\ud800" escape): no page could send it to a browser."""
    if not _HAS_SURROGATE.search(raw_text):
        return
    import json

    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise Damage("holds text that is not valid Unicode (a lone \\ud800-style escape)") from None


# --- config.json -------------------------------------------------------------------------------


def check_config(config: dict) -> None:
    """The training config: the keys TrainConfig knows, with their types and ranges."""
    model = config.get("model")
    if not isinstance(model, str):
        raise Damage(f'"model" is {short(model)}, not a network name')
    for key, low, high in (("train_size", 1, COUNT_MAX), ("epochs", 1, 10**6)):
        optional(config, key, lambda v, w, lo=low, hi=high: integer(v, w, lo, hi))
    optional(config, "batch_size", lambda v, w: integer(v, w, 1, 10**6))
    optional(config, "seed", lambda v, w: integer(v, w, 0, 2**63 - 1))
    optional(config, "optimizer", lambda v, w: text(v, w, 40))
    optional(config, "learning_rate", lambda v, w: number(v, w, 0, 1))
    optional(config, "val_split", lambda v, w: number(v, w, 0, 1))
    augment = config.get("augment")
    if augment is not None and not isinstance(augment, dict):
        raise Damage(f'"augment" is {short(augment)}, not an object or null')
    # What the pages build from it (config_summary, the curves): the same checks as training.
    from cifar_core.augmentation.params import AugmentParams
    from cifar_core.training import TrainConfig

    try:  # first, so that a bad setting is named as the augmentation's
        if augment:
            AugmentParams.from_dict(augment)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise Damage(f'"augment": {str(exc).rstrip(".")[:140]}') from None
    try:
        TrainConfig.from_dict(config).split_sizes()
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise Damage(str(exc).rstrip(".")[:150]) from None


# --- status.json -------------------------------------------------------------------------------


def check_status(status: dict) -> tuple[str, float | None]:
    """(status word, created or None when absent); "message" text, "updated" a time."""
    word = status.get("status")
    if not isinstance(word, str) or word not in SAVED_STATUSES:
        raise Damage(f'"status" is {short(word)}, not a status word ({", ".join(SAVED_STATUSES)})')
    created = status.get("created")
    if created is not None:
        created = check_time(created, '"created"')
    optional(status, "updated", check_time, null=True)
    optional(status, "message", lambda v, w: text(v, w, 100_000), null=True)
    return word, created


# --- owners.json -------------------------------------------------------------------------------


def check_owners(owners: dict) -> frozenset[str]:
    """Who asked for or joined the run: {"owners": [owner hash, …]} ({} or no file: nobody).

    Each entry must have exactly the shape `identity.owner_hash` makes (it decides whose list
    a run appears in, so nothing else may pass for one).
    """
    hashes = owners.get("owners", [])
    if not isinstance(hashes, list):
        raise Damage(f'"owners" is {short(hashes)}, not a list')
    for value in hashes:
        if valid_owner_hash(value) is None:
            raise Damage(f'"owners" holds {short(value)}, not an owner hash')
    return frozenset(hashes)


# --- result.json -------------------------------------------------------------------------------

_FRACTION = {"test_accuracy": False, "best_val_accuracy": True}  # key → may be null
_COUNTS = ("n_test", "n_train", "n_val", "epochs_completed", "steps_completed", "params")
_SECONDS = ("train_seconds", "seconds_per_epoch")


def check_result(result: dict) -> float | None:
    """The test results ({} until evaluated); returns the test accuracy (None if NaN/none).

    A result that is there must hold what the pages show of it: test accuracy and loss, the
    confusion matrix and the per-class accuracy, one row and value per class.
    """
    if not result:
        return None
    for key, null in _FRACTION.items():
        optional(result, key, lambda v, w: number(v, w, 0, 1, nan=True), null=null)
    optional(result, "test_loss", lambda v, w: number(v, w, 0, inf=True, nan=True))
    for key in _COUNTS:
        optional(result, key, integer)
    optional(result, "best_epoch", lambda v, w: integer(v, w, 1, 10**6), null=True)
    for key in _SECONDS:
        optional(result, key, lambda v, w: number(v, w, 0, SECONDS_MAX, nan=True), null=True)
    optional(
        result, "images_per_second", lambda v, w: number(v, w, 0, COUNT_MAX, nan=True), null=True
    )
    for key in ("data_source", "precision"):
        optional(result, key, text)
    optional(result, "precision_reason", text, null=True)
    optional(result, "versions", _check_versions)
    optional(result, "phases", _check_phases)
    for key in ("test_accuracy", "test_loss", "confusion_matrix", "per_class_accuracy"):
        if key not in result:
            raise Damage(f'no "{key}"')
    n = NUM_CLASSES  # the pages compare runs and index class names: always CIFAR-10's ten
    if "class_names" in result:
        names = result["class_names"]
        if not isinstance(names, list) or len(names) != n:
            raise Damage(f'"class_names" is {short(names)}, not a list of {n} class names')
        for name in names:
            if not isinstance(name, str) or not 0 < len(name) <= 100:
                raise Damage(f'"class_names" holds {short(name)}, not a class name')
    _check_matrix(result["confusion_matrix"], n)
    per_class = result["per_class_accuracy"]
    if not isinstance(per_class, list) or len(per_class) != n:
        raise Damage(f'"per_class_accuracy" is {short(per_class)}, not {n} numbers (one a class)')
    for value in per_class:
        number(value, '"per_class_accuracy" holds one that', 0, 1, nan=True)
    accuracy = float(result["test_accuracy"])
    return None if math.isnan(accuracy) else accuracy


def _check_matrix(matrix: Any, n: int) -> None:
    what = f'"confusion_matrix" is not {n} × {n} whole numbers (one row per class'
    if not isinstance(matrix, list) or len(matrix) != n:
        raise Damage(what + ' in "class_names")')
    for row in matrix:
        if not isinstance(row, list) or len(row) != n:
            raise Damage(what + ' in "class_names")')
        for count in row:
            if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= COUNT_MAX:
                raise Damage(f'"confusion_matrix" holds {short(count)}, not a count of images')


def _check_versions(versions: Any, what: str) -> None:
    if not isinstance(versions, dict):
        raise Damage(f"{what} is {short(versions)}, not an object")
    for value in versions.values():
        text(value, f"{what} holds one that", 100)


def _check_phases(phases: Any, what: str) -> None:
    if not isinstance(phases, dict):
        raise Damage(f"{what} is {short(phases)}, not an object")
    for value in phases.values():
        number(value, f"{what} holds one that", 0, SECONDS_MAX)


# --- history.json ------------------------------------------------------------------------------

_EPOCH_VALUES = ("loss", "accuracy", "val_loss", "val_accuracy", "seconds")
_BATCH_COUNTS = ("epoch", "batch", "step", "first_step", "count", "size")
_BATCH_VALUES = ("seconds", "loss", "loss_min", "loss_max", "accuracy", "accuracy_min")
_BATCH_VALUES += ("accuracy_max",)


class _Missing:
    """The type of a key that a record does not have."""


_MISSING = _Missing()


def check_history(history: dict) -> None:
    """The per-epoch logs and the batch points, as the curves and the CSV read them.

    An old run's history holds every batch (62,500 records for a long run): each key is
    checked column-wise first (about 30 ms for those), and only a column that fails is walked
    record by record to say which record is wrong.
    """
    epochs, batches = _records(history, "epochs"), _records(history, "batches")
    if not _epochs_fine(epochs):
        _check_epochs(epochs)
    if not _batches_fine(batches):
        _check_batches(batches)


def _records(history: dict, level: str) -> list[dict]:
    rows = history.get(level, [])
    if not isinstance(rows, list) or not set(map(type, rows)) <= {dict}:
        raise Damage(f'"{level}" is not a list of records')
    return rows


def _column(rows: list[dict], key: str, kinds: set[type], required: bool) -> list | None:
    """The values of `key` (where present) if all are of `kinds`, else None."""
    values = list(map(methodcaller("get", key, _MISSING), rows))
    types = set(map(type, values))
    if _Missing in types:
        if required:
            return None
        types.discard(_Missing)
        values = [v for v in values if v is not _MISSING] if types else []
    return values if types <= kinds else None


def _counts_fine(values: list | None, high: int = COUNT_MAX) -> bool:
    return values is not None and (not values or (min(values) >= 0 and max(values) <= high))


def _epochs_fine(epochs: list[dict]) -> bool:
    if not _counts_fine(_column(epochs, "epoch", {int}, True), 10**6):
        return False
    kinds = {int, float, type(None)}
    return all(_column(epochs, key, kinds, False) is not None for key in _EPOCH_VALUES)


def _batches_fine(batches: list[dict]) -> bool:
    counts = _column(batches, "count", {int}, False)
    merged = counts is None or bool(set(counts) - {1})
    for key in _BATCH_COUNTS:
        required = key in ("epoch", "batch") or (key == "step" and merged)
        if not _counts_fine(_column(batches, key, {int}, required)):
            return False
    return all(_column(batches, key, {int, float}, False) is not None for key in _BATCH_VALUES)


def _check_epochs(epochs: list[dict]) -> None:
    for k, row in enumerate(epochs):
        where = f'"epochs" record {k + 1}:'
        if "epoch" not in row:
            raise Damage(f'{where} no "epoch"')
        integer(row["epoch"], f'{where} "epoch"', 0, 10**6)
        for key in _EPOCH_VALUES:
            if row.get(key) is not None:
                number(row[key], f'{where} "{key}"', nan=True, inf=True)


def _check_batches(batches: list[dict]) -> None:
    merged = any(row.get("count", 1) != 1 for row in batches)
    for k, row in enumerate(batches):
        where = f'"batches" record {k + 1}:'
        for key in ("epoch", "batch", "step") if merged else ("epoch", "batch"):
            if key not in row:
                raise Damage(f'{where} no "{key}"')
        for key in _BATCH_COUNTS:
            if key in row:
                integer(row[key], f'{where} "{key}"')
        for key in _BATCH_VALUES:
            if key in row:
                number(row[key], f'{where} "{key}"', nan=True, inf=True)
