"""Take it home: a saved run as a Jupyter notebook and a plain script that retrain it in Keras 3.

Both carry the same cells (`notebook_cells`), in the keras-io lesson order Setup → Data →
Model → Train → Evaluate → Save; the code imports only numpy and Keras, never this app.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from typing import Any

from cifar_core.augmentation.code import to_code
from cifar_core.augmentation.params import AugmentParams
from cifar_core.constants import SCRIPT_WIDTH
from cifar_core.export import notebook_cells as cells
from cifar_core.models import get_architecture, layer_table
from cifar_core.training.config import TrainConfig

# nbformat 4.5: the version whose cells carry an "id" (Jupyter ≥ 6.2 / JupyterLab ≥ 3 read it).
NBFORMAT, NBFORMAT_MINOR = 4, 5
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
# The layer of models.py whose width is the number of classes.
OUTPUT_LAYER = "logits"

# What was checked about the Keras layers against the app's warp (tests/test_export_notebook.py
# repeats the check on the installed Keras), said first in the notebook's augmentation cell.
CHECKED_NOTES = (
    "Checked on Keras 3.15 against the app's own warp: at one fixed draw, RandomRotation, "
    "RandomTranslation and RandomZoom each move every pixel as the app does for that setting, "
    "and chained in this order (rotation, translation, zoom) they give the app's combined "
    "geometry inside the picture. Each draws its amount uniformly from the same range as the "
    "app, and RandomFlip mirrors half of the pictures, as the app does.",
    "Near the border they differ: each layer fills the pixels that come from outside the "
    "picture before the next layer moves them, where the app fills once, after its one matrix.",
    "The random draws differ: the app draws each picture's transform from its own generator "
    "seeded with the run's seed, the layers from Keras' generator seeded by "
    "keras.utils.set_random_seed. Same ranges, different pictures.",
)


def _config(config: Mapping[str, Any] | TrainConfig) -> TrainConfig:
    if isinstance(config, TrainConfig):
        return config
    if not isinstance(config, Mapping):
        raise ValueError(f"Expected a TrainConfig or a dict, got {type(config).__name__}.")
    return TrainConfig.from_dict(dict(config))  # checked: a ValueError names the bad setting


def _shape(shape: tuple[int, ...]) -> str:
    return "(B, " + ", ".join(str(n) for n in shape) + ")"


def layer_lines(model: str) -> list[str]:
    """The Keras 3 layer calls of `build_model(model)`, one line each, in the notebook's words.

    The k-th layer that takes a seed (conv, dense: kernel initializer; dropout: masks) gets
    LAYER_SEEDS[k], as `cifar_core.models.build_model` hands out its per-layer seeds.
    """
    lines, seeded = [], 0
    for spec, row in zip(get_architecture(model), layer_table(model), strict=True):
        name, shape = f'name="{spec.name}"', f"  # {_shape(row['output_shape'])}"
        if spec.kind == "conv":
            line = (
                f'layers.Conv2D({int(spec.size)}, (3, 3), padding="{spec.padding}", '
                f"kernel_initializer=glorot({seeded}), {name}),{shape}"
            )
            seeded += 1
        elif spec.kind in ("relu", "softmax"):
            line = f'layers.Activation("{spec.kind}", {name}),'
        elif spec.kind == "maxpool":
            line = f"layers.MaxPooling2D(pool_size={int(spec.size)}, {name}),{shape}"
        elif spec.kind == "dropout":
            line = f"layers.Dropout({spec.size:g}, seed=LAYER_SEEDS[{seeded}], {name}),"
            seeded += 1
        elif spec.kind == "flatten":
            line = f"layers.Flatten({name}),{shape}"
        elif spec.kind == "dense":
            # The output layer's width is make_model's num_classes (10 for CIFAR-10).
            units = "num_classes" if spec.name == OUTPUT_LAYER else str(int(spec.size))
            line = f"layers.Dense({units}, kernel_initializer=glorot({seeded}), {name}),{shape}"
            seeded += 1
        else:  # pragma: no cover — models.py uses only the kinds above
            raise ValueError(f"Unknown layer kind {spec.kind!r}")
        lines.append(line)
    return lines


def augmentation_notes(params: AugmentParams) -> list[str]:
    """What the notebook's preprocessing layers share with the app's augmentation, and not."""
    return [*CHECKED_NOTES, *to_code(params)["differences"]]


def notebook_cells(config: Mapping[str, Any] | TrainConfig) -> list[cells.Cell]:
    """The cells, in lesson order: each code cell follows a Markdown cell saying why.

    Raises:
        ValueError: the config is not a valid TrainConfig (the message says which setting).
    """
    cfg = _config(config)
    notes = augmentation_notes(cfg.augment) if cfg.augment is not None else []
    return [
        *cells.intro(cfg),
        *cells.setup(cfg),
        *cells.data(),
        *cells.split(),
        *cells.augmentation(cfg, notes),
        *cells.model(cfg, layer_lines(cfg.model), len(get_architecture(cfg.model))),
        *cells.train(cfg),
        *cells.evaluate(),
        *cells.save(),
    ]


def _lines(text: str) -> list[str]:
    # Jupyter stores a cell's source as its lines, each but the last ending in "\n".
    return text.splitlines(keepends=True)


def _cell_json(index: int, cell: cells.Cell) -> dict[str, Any]:
    base = {
        "cell_type": cell.kind,
        "id": f"{cell.tag}-{index}",
        "metadata": {"tags": [cell.tag]},
        "source": _lines(cell.source.rstrip("\n")),
    }
    if cell.kind == "code":
        base.update(execution_count=None, outputs=[])
    return base


def notebook_json(config: Mapping[str, Any] | TrainConfig) -> str:
    """The run as a Jupyter notebook (nbformat 4.5 JSON text), built as a plain dict.

    Args:
        config: the run's TrainConfig, or its saved dict (`Run.config`).

    Returns:
        The .ipynb file's text.

    Raises:
        ValueError: the config is not a valid TrainConfig.
    """
    notebook = {
        "nbformat": NBFORMAT,
        "nbformat_minor": NBFORMAT_MINOR,
        "metadata": {
            "kernelspec": KERNELSPEC,
            "language_info": {"name": "python"},
        },
        "cells": [_cell_json(i, cell) for i, cell in enumerate(notebook_cells(config))],
    }
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def _comment(markdown: str) -> str:
    """Markdown as `# ` comment lines, each paragraph and list item wrapped."""
    out = []
    for line in markdown.splitlines():
        bullet = line.startswith("- ")
        wrapped = textwrap.wrap(
            line, SCRIPT_WIDTH - 2, subsequent_indent="  " if bullet else "", break_on_hyphens=False
        )
        out += [f"# {part}" for part in wrapped] or ["#"]
    return "\n".join(out)


def script(config: Mapping[str, Any] | TrainConfig) -> str:
    """The same cells as one runnable Python file (`# %%` cell markers, Markdown as comments).

    Editors that know the "percent" format (VS Code, Spyder, Jupytext) show it as cells;
    `python` runs it top to bottom.

    Raises:
        ValueError: the config is not a valid TrainConfig.
    """
    parts = []
    for cell in notebook_cells(config):
        if cell.kind == "markdown":
            parts.append(f"# %% [markdown]\n{_comment(cell.source)}\n")
        else:
            parts.append(f"# %%\n{cell.source}")
    return "\n".join(parts)
