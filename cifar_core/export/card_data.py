"""Model card, what the run says about itself: its settings, its data and their caveats, in words."""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from cifar_core.augmentation.params import AugmentParams
from cifar_core.constants import (
    FULL_TEST_SIZE,
    FULL_TRAIN_SIZE,
    MODEL_LABELS,
    OPTIMIZER_LABELS,
)
from cifar_core.export import card_text as T
from cifar_core.export.card_types import Section
from cifar_core.models import count_params, get_architecture, layer_table
from cifar_core.training.config import TrainConfig

# What the card prints for a figure the run did not save.
NOT_RECORDED = "not recorded"
# How the app's data loader names Keras' full download in a run's data_source (cifar_core.data).
KERAS_SOURCE_PREFIX = "Keras'"
# How the libraries a run records (result["versions"]) spell their names.
LIBRARY_NAMES = {"tensorflow": "TensorFlow", "keras": "Keras"}
# Layer kinds of models.py, as a reader calls them.
KIND_WORDS = {
    "conv": "convolutional",
    "maxpool": "max-pooling",
    "dropout": "dropout",
    "dense": "dense",
}


def created(status: dict) -> str:
    """When the run started, in UTC, or "not recorded"."""
    value = status.get("created")
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        return NOT_RECORDED
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(value))


def status_text(status: dict) -> str:
    """The status word and its message."""
    word = str(status.get("status", NOT_RECORDED))
    message = status.get("message")
    return f"{word}: {message}" if isinstance(message, str) and message else word


def layer_rows(model: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """(header, rows) of the network's layer table."""
    rows = tuple(
        (
            row["layer"],
            row["kind"],
            "×".join(str(n) for n in row["output_shape"]),
            f"{row['params']:,}",
        )
        for row in layer_table(model)
    )
    return ("Layer", "Kind", "Output shape", "Parameters"), rows


def _layers_in_words(model: str) -> str:
    specs = get_architecture(model)
    counts = Counter(spec.kind for spec in specs)

    def sizes(kind: str) -> str:
        return ", ".join(str(int(s.size)) for s in specs if s.kind == kind)

    details = {
        "conv": f" (3×3 kernels; {sizes('conv')} filters)",
        "dense": f" ({sizes('dense')} units)",
    }
    parts = [
        f"{counts[kind]} {word}{details.get(kind, '')}"
        for kind, word in KIND_WORDS.items()
        if counts[kind]
    ]
    return f"{len(specs)} layers: {', '.join(parts)}; ReLU activations, softmax output"


def model_facts(cfg: TrainConfig, result: dict) -> list[tuple[str, str]]:
    """The network and how it was trained."""
    params = count_params(cfg.model)
    completed = result.get("epochs_completed")
    epochs = f"{cfg.epochs} configured"
    if isinstance(completed, int):
        epochs += f", {completed} completed"
    return [
        ("Network", f"{MODEL_LABELS.get(cfg.model, cfg.model)}: the lesson's {cfg.model} CNN"),
        ("Layers", _layers_in_words(cfg.model)),
        ("Parameters", f"{params:,}"),
        ("Loss", "categorical cross-entropy"),
        ("Optimizer", OPTIMIZER_LABELS.get(cfg.optimizer, cfg.optimizer)),
        ("Learning rate", f"{cfg.learning_rate:g}"),
        ("Batch size", str(cfg.batch_size)),
        ("Epochs", epochs),
        ("Seed", str(cfg.seed)),
    ]


def environment_facts(result: dict) -> list[tuple[str, str]]:
    """Precision, library versions and training time, as the run recorded them."""
    precision = result.get("precision")
    if isinstance(precision, str):
        reason = result.get("precision_reason")
        precision += f" ({reason})" if isinstance(reason, str) and reason else ""
    versions = result.get("versions")
    if isinstance(versions, dict) and versions:
        software = ", ".join(
            f"{LIBRARY_NAMES.get(name, name)} {version}"
            for name, version in sorted(versions.items())
        )
    else:
        software = NOT_RECORDED
    seconds = result.get("train_seconds")
    facts = [
        ("Precision", precision if isinstance(precision, str) else NOT_RECORDED),
        ("Software", software),
    ]
    if isinstance(seconds, int | float) and math.isfinite(seconds):
        facts.append(("Training time", f"{seconds:,.0f} s"))
    return facts


def _shift(value: float, direction: str) -> str:
    amount = f"{value:g} pixels" if value >= 1 else f"{100 * value:g}% of the {direction}"
    return f"shifted by up to {amount}"


def describe_augmentation(augment: AugmentParams | None) -> str:
    """The run's augmentation settings in words."""
    if augment is None:
        return "none: every training image was shown as it is"
    a, parts = augment, []
    if a.rotation_range:
        parts.append(f"rotated by up to ±{a.rotation_range:g}°")
    if a.width_shift_range:
        parts.append(_shift(a.width_shift_range, "width") + " sideways")
    if a.height_shift_range:
        parts.append(_shift(a.height_shift_range, "height") + " up or down")
    if a.shear_range:
        parts.append(f"sheared by up to ±{a.shear_range:g}°")
    low, high = a.zoom_bounds
    if (low, high) != (1.0, 1.0):
        parts.append(f"zoomed by a scale between {low:g} and {high:g} (width and height apart)")
    if a.horizontal_flip:
        parts.append("mirrored left–right half of the time")
    if a.vertical_flip:
        parts.append("flipped upside down half of the time")
    if a.brightness_range not in (None, (1.0, 1.0)):
        parts.append(
            f"brightness multiplied by {a.brightness_range[0]:g}–{a.brightness_range[1]:g}"
        )
    fill = {
        "constant": f"the grey level {a.cval:g}",
        "nearest": "the nearest edge pixel",
        "reflect": "a mirror image of the picture",
        "wrap": "the opposite side of the picture",
    }[a.fill_mode]
    return (
        "each training image, every epoch, at random: "
        + "; ".join(parts)
        + f"; pixels from outside the picture filled with {fill} (fill mode {a.fill_mode})"
    )


@dataclass(frozen=True)
class DataScope:
    """Which data the run trained and was tested on, as far as its files tell.

    Attributes:
        source: the data source, in words.
        pool: training images the subset was drawn from (None: not known).
        full: True for the full CIFAR-10, False for a reduced sample, None: not known.
        n_train, n_val, n_test: images used (None: not known).
        sizes_recorded: False when n_train/n_val come from the config, not the run.
        test_per_class: test images per class (empty: not known).
    """

    source: str
    pool: int | None
    full: bool | None
    n_train: int | None
    n_val: int | None
    n_test: int | None
    sizes_recorded: bool
    test_per_class: tuple[int, ...]

    @classmethod
    def of(
        cls,
        cfg: TrainConfig | None,
        result: dict,
        preds: dict[str, Any],
        data_source: str | None,
        n_available: int | None,
    ) -> DataScope:
        """Read the scope from the run's result, predictions and config, and the UI's hints."""
        recorded = result.get("data_source") if isinstance(result.get("data_source"), str) else None
        if recorded:
            source = recorded
        elif data_source:
            source = (
                f"{data_source} (what the app has loaded now; the run did not record its source)"
            )
        else:
            source = NOT_RECORDED
        n_train, n_val = result.get("n_train"), result.get("n_val")
        recorded_sizes = isinstance(n_train, int) and isinstance(n_val, int)
        if not recorded_sizes:
            n_train, n_val = cfg.split_sizes() if cfg is not None else (None, None)
        matrix = result.get("confusion_matrix")
        per_class = tuple(int(sum(row)) for row in matrix) if isinstance(matrix, list) else ()
        n_test = result.get("n_test")
        if not isinstance(n_test, int):
            labels = preds.get("test_labels")
            n_test = len(labels) if labels is not None else (sum(per_class) or None)
        pool = None
        if recorded and recorded.startswith(KERAS_SOURCE_PREFIX):
            pool = FULL_TRAIN_SIZE  # keras.datasets.cifar10 is always the full set
        elif _fits(n_available, cfg, preds) and (not recorded or data_source in (None, recorded)):
            pool = int(n_available)  # type: ignore[arg-type]  # _fits checked it
        full_test = n_test in (None, FULL_TEST_SIZE)
        # None: nothing tells whether the training split was the full one.
        full = None if pool is None and full_test else pool in (None, FULL_TRAIN_SIZE) and full_test
        return cls(source, pool, full, n_train, n_val, n_test, recorded_sizes, per_class)


def _fits(n_available: int | None, cfg: TrainConfig | None, preds: dict[str, Any]) -> bool:
    if not isinstance(n_available, int) or n_available <= 0:
        return False
    if cfg is not None and cfg.train_size > n_available:
        return False
    seen = preds.get("train_indices")
    return seen is None or len(seen) == 0 or int(np.max(seen)) < n_available


def _which(scope: DataScope) -> str:
    if scope.full is True:
        return f"the full CIFAR-10 training split ({FULL_TRAIN_SIZE:,} images)"
    if scope.pool is not None:
        kind = "the sample" if scope.full is False else "the data set"
        return f"the {scope.pool:,} training images of {kind} the server loaded"
    if scope.full is False:
        return "a reduced sample of CIFAR-10 that the server loaded (its size was not recorded)"
    return "the training split the server loaded (its size was not recorded)"


def training_data(cfg: TrainConfig | None, scope: DataScope) -> Section:
    """The Training data section."""
    facts = [("Data set", T.DATA_SET), ("Data source", scope.source)]
    if cfg is not None:
        facts.append(
            (
                "Training subset",
                f"{cfg.train_size:,} images drawn at random (seed {cfg.seed}) from {_which(scope)}",
            )
        )
    if scope.n_train is not None and scope.n_val is not None:
        how = "" if scope.sizes_recorded else " (as configured; the run recorded no sizes)"
        split = f" ({cfg.val_split:g} of the subset)" if cfg is not None else ""
        facts.append(("Used for training", f"{scope.n_train:,} images{how}"))
        facts.append(("Held out for validation", f"{scope.n_val:,} images{split}{how}"))
    facts.append(("Test images", _test_text(scope)))
    facts.append(
        ("Augmentation", describe_augmentation(cfg.augment) if cfg is not None else NOT_RECORDED)
    )
    return Section("training_data", "Training data", tuple(facts))


def _test_text(scope: DataScope) -> str:
    if scope.n_test is None:
        return NOT_RECORDED
    if scope.n_test == FULL_TEST_SIZE:
        text = f"{scope.n_test:,}: the full CIFAR-10 test split"
    else:
        text = f"{scope.n_test:,} of CIFAR-10's {FULL_TEST_SIZE:,} test images (a sample)"
    if scope.test_per_class:
        text += f", {min(scope.test_per_class):,}–{max(scope.test_per_class):,} per class"
    return text


def caveats(scope: DataScope) -> Section:
    """The Caveats of the data section: the data set's known problems, then this run's."""
    bullets = list(T.CAVEATS)
    if scope.n_test is not None and scope.n_test < FULL_TEST_SIZE:
        bullets.append(
            f"This run was tested on {scope.n_test:,} of CIFAR-10's {FULL_TEST_SIZE:,} test "
            "images: its test figures are less certain than on the full test set; their 95% "
            "confidence intervals (Metrics) show by how much."
        )
    small_pool = scope.pool is not None and scope.pool < FULL_TRAIN_SIZE
    drawn = (
        f"a reduced sample of {scope.pool:,} training images that the server loaded"
        if small_pool
        else ""
    )
    if scope.n_train is not None and scope.n_train < FULL_TRAIN_SIZE:
        bullets.append(
            f"This run trained on {scope.n_train:,} images, {_share(scope.n_train)} of "
            f"CIFAR-10's {FULL_TRAIN_SIZE:,} training images"
            + (f", drawn from {drawn}." if drawn else ".")
        )
    elif drawn:
        bullets.append(
            f"This run's training images were drawn from {drawn}, not from all of "
            f"CIFAR-10's {FULL_TRAIN_SIZE:,}."
        )
    return Section("caveats", "Caveats of the data", bullets=tuple(bullets))


def _share(n: int) -> str:
    """n as a share of the full training split, never rounded to 0% or 100% when it is not."""
    share = n / FULL_TRAIN_SIZE
    for digits in range(4):
        text = f"{share:.{digits}%}"
        if 0 < n < FULL_TRAIN_SIZE and float(text.rstrip("%")) in (0, 100):
            continue
        return text
    return text


def benchmark_claims(cfg: TrainConfig | None, result: dict, scope: DataScope) -> str:
    """The out-of-scope use "benchmark claims", with the run's own size where it is known."""
    parts = []
    if scope.n_train is not None:
        configured = "" if scope.sizes_recorded else " configured"
        parts.append(f"{scope.n_train:,} training images{configured}")
    completed = result.get("epochs_completed")
    if isinstance(completed, int):
        parts.append(f"{completed} epoch{'' if completed == 1 else 's'} completed")
    elif cfg is not None:
        parts.append(f"{cfg.epochs} epoch{'' if cfg.epochs == 1 else 's'} configured")
    size = f" ({', '.join(parts)})" if parts else ""
    return T.BENCHMARK_CLAIMS.format(size=size)
