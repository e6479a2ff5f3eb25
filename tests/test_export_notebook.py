"""Take-home notebook and script: valid, app-free, the app's images, network and augmentation."""

from __future__ import annotations

import ast
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cifar_core.augmentation import Transform, apply_transform
from cifar_core.augmentation.params import LESSON_PRESET, AugmentParams
from cifar_core.export.notebook import notebook_cells, notebook_json, script
from cifar_core.models import build_model, count_params
from cifar_core.training.config import TrainConfig, split_indices

STAGES = ["intro", "setup", "data", "split", "augment", "model", "train", "evaluate", "save"]
# Only these modules may be imported by the exported code: plain Keras 3, numpy, the stdlib.
ALLOWED_IMPORTS = {"os", "pickle", "pathlib", "keras", "numpy"}

ODD = AugmentParams(
    shear_range=10,
    brightness_range=(0.8, 1.2),
    vertical_flip=True,
    width_shift_range=3,
    fill_mode="constant",
    cval=128,
)
CONFIGS = [
    TrainConfig(model="shallow"),
    TrainConfig(model="deep", train_size=500, epochs=1, augment=LESSON_PRESET),
    TrainConfig(model="shallow", optimizer="sgd", learning_rate=0.01, seed=7, augment=ODD),
    TrainConfig(model="deep", optimizer="adam", batch_size=32, val_split=0.15, seed=0),
]


def code_of(config: TrainConfig, *tags: str) -> str:
    """The notebook's code cells of these stages, in notebook order."""
    return "\n".join(c.source for c in notebook_cells(config) if c.kind == "code" and c.tag in tags)


def run_cells(config: TrainConfig, *tags: str, **given: object) -> dict:
    namespace: dict = dict(given)
    exec(code_of(config, *tags), namespace)  # noqa: S102 — our own generated code
    return namespace


# --- The file formats ---------------------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.model}-{c.optimizer}")
def test_notebook_is_valid_nbformat_4_in_lesson_order(config: TrainConfig) -> None:
    import nbformat

    text = notebook_json(config)
    nbformat.validate(nbformat.reads(text, as_version=4))  # raises on any schema error
    notebook = json.loads(text)
    assert (notebook["nbformat"], notebook["nbformat_minor"]) == (4, 5)
    cells = notebook["cells"]
    tags = [cell["metadata"]["tags"][0] for cell in cells]
    assert list(dict.fromkeys(tags)) == STAGES
    for before, cell in zip(cells, cells[1:], strict=False):
        if cell["cell_type"] == "code":  # every code cell follows a Markdown cell saying why
            assert before["cell_type"] == "markdown"
    first = "".join(cells[0]["source"])
    assert "not bit-for-bit" in first and "settings" in first
    assert notebook_json(config.to_dict()) == text  # a saved config gives the same notebook


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.model}-{c.optimizer}")
def test_script_compiles_and_holds_every_code_cell(config: TrainConfig) -> None:
    text = script(config)
    compile(text, "cifar10_run.py", "exec")
    for cell in notebook_cells(config):
        if cell.kind == "code":
            assert cell.source in text
    assert text.count("# %%") == len(notebook_cells(config))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.model}-{c.optimizer}")
def test_exported_code_imports_nothing_of_the_app(config: TrainConfig) -> None:
    imported = set()
    for node in ast.walk(ast.parse(script(config))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= ALLOWED_IMPORTS, imported - ALLOWED_IMPORTS
    assert "cifar_core" not in script(config)


def test_settings_and_optimizer_are_the_runs() -> None:
    config = CONFIGS[2]
    setup = code_of(config, "setup")
    for line in ("SEED = 7", "TRAIN_SIZE = 5000", "VAL_SPLIT = 0.2", "LEARNING_RATE = 0.01"):
        assert line in setup
    assert "keras.utils.set_random_seed(SEED)" in setup
    train = code_of(config, "train")
    assert "keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum=0.9)" in train
    assert "validation_data=(x_val, y_val)" in train and "batch_size=BATCH_SIZE" in train
    assert 'model.save("model.keras")' in code_of(config, "save")


def test_model_cell_counts_the_apps_parameters() -> None:
    for config in CONFIGS:
        model_md = "".join(
            c.source for c in notebook_cells(config) if c.tag == "model" and c.kind == "markdown"
        )
        assert f"{count_params(config.model):,} parameters" in model_md


def test_evaluate_cell_says_only_what_the_notebook_does_with_the_test_split() -> None:
    config = CONFIGS[1]
    words = "".join(
        c.source for c in notebook_cells(config) if c.tag == "evaluate" and c.kind == "markdown"
    )
    # No claim about how the settings were chosen: the app ranks runs by test accuracy.
    assert "never used" not in words and "choosing settings" not in words
    assert "did not train on them, and did not pick an epoch by them" in words
    assert "no longer an unbiased estimate" in words and "*Shallow vs deep*" in words
    # What the sentence says is so: before the evaluate cell, the code only loads and counts
    # the test images, and nothing in training picks an epoch (no callbacks, no best weights).
    before = code_of(config, "setup", "split", "augment", "model", "train")
    assert "x_test" not in before and "y_test" not in before
    data = code_of(config, "data")
    assert "x_test" in data and "len(x_test)" in data
    train = code_of(config, "train")
    assert "callbacks" not in train and "restore_best_weights" not in train


def test_a_bad_config_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="optimizer"):
        notebook_json({"model": "deep", "optimizer": "adagrad"})
    with pytest.raises(ValueError):
        script(["not", "a", "config"])  # type: ignore[arg-type]


# --- The same images as the app -----------------------------------------------------------------


@pytest.mark.parametrize("n_available", [5_085, 50_000])
@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(train_size=500, seed=1),
        TrainConfig(train_size=4_000, val_split=0.15, seed=42),
        TrainConfig(train_size=101, val_split=0.33, seed=2024),
        TrainConfig(train_size=5_085, seed=0),
    ],
    ids=lambda c: f"{c.train_size}-{c.val_split}-{c.seed}",
)
def test_split_indices_equal_the_apps(config: TrainConfig, n_available: int) -> None:
    # Only the split's arithmetic matters here: one-pixel images keep 50,000 rows cheap.
    x_train = np.zeros((n_available, 1, 1, 3), np.uint8)
    y_train = np.arange(n_available) % 10
    ns = run_cells(config, "setup", "split", x_train=x_train, y_train=y_train)
    train_idx, val_idx = split_indices(n_available, config)
    np.testing.assert_array_equal(ns["train_idx"], train_idx)
    np.testing.assert_array_equal(ns["val_idx"], val_idx)
    assert ns["y_fit"].shape == (len(train_idx), 10)


def test_split_refuses_more_images_than_the_data_set_has() -> None:
    x_train, y_train = np.zeros((100, 1, 1, 3), np.uint8), np.zeros(100, np.int64)
    with pytest.raises(ValueError, match="TRAIN_SIZE is 500 but the data set has 100"):
        run_cells(TrainConfig(train_size=500), "setup", "split", x_train=x_train, y_train=y_train)


def test_data_cell_reads_the_sample_as_the_app_does(monkeypatch, cifar_dir, sample_data) -> None:
    for folder in (cifar_dir, cifar_dir.parent):  # the batches folder or the one holding it
        monkeypatch.setenv("CIFAR10_DIR", str(folder))
        ns = run_cells(CONFIGS[0], "setup", "data")
        np.testing.assert_array_equal(ns["x_train"], sample_data.x_train)
        np.testing.assert_array_equal(ns["y_train"], sample_data.y_train)
        np.testing.assert_array_equal(ns["x_test"], sample_data.x_test)
        np.testing.assert_array_equal(ns["y_test"], sample_data.y_test)


# --- The same network -----------------------------------------------------------------------


def _layers(model) -> list[tuple]:
    return [
        (type(layer).__name__, layer.name, tuple(layer.output.shape[1:]), layer.count_params())
        for layer in model.layers
    ]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.model}-{c.optimizer}")
def test_model_is_build_model_with_its_initial_weights(config: TrainConfig) -> None:
    ns = run_cells(config, "setup", "augment", "model")
    notebook_model = ns["model"]
    app_model = build_model(config.model, seed=config.seed)
    ours = [layer for layer in notebook_model.layers if layer.name != "augment"]
    assert [
        (type(layer).__name__, layer.name, tuple(layer.output.shape[1:]), layer.count_params())
        for layer in ours
    ] == _layers(app_model)
    assert notebook_model.count_params() == app_model.count_params()
    if config.augment is not None:
        assert notebook_model.layers[0].name == "augment"
    for mine, theirs in zip(notebook_model.get_weights(), app_model.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)  # the same per-layer seeds


# --- The augmentation layers against the app's warp ---------------------------------------------


@pytest.fixture(scope="module")
def smooth_image() -> np.ndarray:
    """A smooth float32 picture (gradients), where any misplaced pixel shows."""
    yy, xx = np.mgrid[0:32, 0:32] / 31.0
    return np.stack([xx, yy, xx * yy], axis=-1).astype(np.float32)


def _fixed_layers(rotation: float, shift_x: float, shift_y: float, zoom: float) -> list:
    from keras import layers

    def fixed(value: float) -> tuple[float, float]:
        return (value, value)  # a range of one value: a fixed draw

    return [
        layers.RandomRotation(fixed(rotation / 360), fill_mode="nearest"),
        layers.RandomTranslation(fixed(shift_y / 32), fixed(shift_x / 32), fill_mode="nearest"),
        layers.RandomZoom(fixed(zoom - 1), fixed(zoom - 1), fill_mode="nearest"),
    ]


def test_rotation_translation_zoom_layers_warp_like_the_app(smooth_image: np.ndarray) -> None:
    # What the notebook's augmentation cell says was checked (notebook.CHECKED_NOTES).
    rotate, translate, zoom = _fixed_layers(rotation=20, shift_x=4, shift_y=2, zoom=0.9)
    alone = [
        (rotate, Transform(rotation_deg=20)),
        (translate, Transform(shift_x_px=4, shift_y_px=2)),
        (zoom, Transform(zoom_x=0.9, zoom_y=0.9)),
    ]
    for layer, transform in alone:
        keras_out = np.asarray(layer(smooth_image[None], training=True))[0]
        np.testing.assert_allclose(keras_out, apply_transform(smooth_image, transform), atol=1e-4)
    chained = smooth_image[None]
    for layer in (rotate, translate, zoom):
        chained = layer(chained, training=True)
    app = apply_transform(
        smooth_image, Transform(rotation_deg=20, shift_x_px=4, shift_y_px=2, zoom_x=0.9, zoom_y=0.9)
    )
    inside = (slice(6, 26), slice(6, 26))
    np.testing.assert_allclose(np.asarray(chained)[0][inside], app[inside], atol=1e-3)


def test_augmentation_cell_says_what_differs() -> None:
    preset = "".join(c.source for c in notebook_cells(CONFIGS[1]) if c.tag == "augment")
    for layer in ("RandomRotation", "RandomTranslation", "RandomZoom", "RandomFlip"):
        assert f"layers.{layer}(" in preset
    assert "Checked on Keras" in preset and "different pictures" in preset
    odd = "".join(c.source for c in notebook_cells(CONFIGS[2]) if c.tag == "augment")
    for fact in ("RandomShear", "tan(angle)", "RandomBrightness", "adds", "fill_value", "/ 32"):
        assert fact in odd, fact
    plain = "".join(c.source for c in notebook_cells(CONFIGS[0]) if c.tag == "augment")
    assert "augment = None" in plain and "without augmentation" in plain


# --- It runs: the notebook in a kernel, the script in a subprocess ------------------------------

TEST_ACCURACY = re.compile(r"Test accuracy: (\d\.\d{4}) on 1,017 test images")


@pytest.mark.slow
def test_notebook_executes_on_the_real_sample(monkeypatch, tmp_path: Path, cifar_dir) -> None:
    import keras
    import nbformat
    from nbclient import NotebookClient

    config = TrainConfig(model="deep", train_size=500, epochs=1, augment=LESSON_PRESET)
    notebook = nbformat.reads(notebook_json(config), as_version=4)
    monkeypatch.setenv("CIFAR10_DIR", str(cifar_dir))  # the kernel inherits the environment
    client = NotebookClient(
        notebook,
        timeout=600,
        startup_timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working folder
    )
    client.execute()
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream"
    )
    match = TEST_ACCURACY.search(printed)
    assert match and 0 <= float(match.group(1)) <= 1, printed[-2000:]
    assert "training on 400 images, validating on 100" in printed
    assert "saved model.keras" in printed
    saved = keras.models.load_model(tmp_path / "model.keras")
    assert saved.count_params() == build_model("deep").count_params()


@pytest.mark.slow
def test_script_runs_in_a_subprocess(tmp_path: Path, cifar_dir) -> None:
    config = TrainConfig(model="shallow", train_size=300, epochs=1, batch_size=64, augment=ODD)
    path = tmp_path / "cifar10_run.py"
    path.write_text(script(config), encoding="utf-8")
    env = {**os.environ, "CIFAR10_DIR": str(cifar_dir), "PYTHONPATH": ""}
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    match = TEST_ACCURACY.search(done.stdout)
    assert match and not math.isnan(float(match.group(1))), done.stdout[-2000:]
    assert (tmp_path / "model.keras").stat().st_size > 0
