"""Take it home: a saved run's model card and the notebook that reproduces it in plain Keras.

Each file is made when its button is clicked (the button holds a callable), not on every
rerun of the page.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from cifar_core.data import Cifar10
from cifar_core.runs import Run

CARD_TEXT = (
    "**Model card**: what this model is, what it was trained on, how well it does per class "
    "(with 95% confidence intervals), what it must not be used for, the data set's known "
    "flaws, and what its train–test gap means for privacy."
)
NOTEBOOK_TEXT = (
    "**Take it home**: a Jupyter notebook (or plain Python file) that trains the same network "
    "with the same settings in plain Keras, outside this app."
)
# (label, file name after the run id, MIME type) of each download.
CARD_FILES = (
    ("Model card (Markdown)", "model-card.md", "text/markdown"),
    ("Model card (HTML)", "model-card.html", "text/html"),
)
NOTEBOOK_FILES = (
    ("Notebook (.ipynb)", "notebook.ipynb", "application/x-ipynb+json"),
    ("Python script (.py)", "train.py", "text/x-python"),
)


def _buttons(run: Run, files: tuple, makers: tuple[Callable[[], str], ...], key: str) -> None:
    for column, (label, name, mime), make in zip(
        st.columns(len(files)), files, makers, strict=True
    ):
        column.download_button(
            label,
            data=make,
            file_name=f"{run.run_id}-{name}",
            mime=mime,
            on_click="ignore",
            key=f"{key}_dl_{name.replace('.', '_')}",
        )


def model_card_buttons(run: Run, data: Cifar10 | None, key: str) -> None:
    """The run's model card, as Markdown and as a standalone HTML page."""
    from cifar_core.export.model_card import card_html, card_markdown, model_card

    source = data.source if data is not None else None
    available = len(data.x_train) if data is not None else None

    def card():  # noqa: ANN202 — one card per click
        return model_card(run, data_source=source, n_available=available)

    _buttons(run, CARD_FILES, (lambda: card_markdown(card()), lambda: card_html(card())), key)


def take_home(run: Run, data: Cifar10 | None, key: str) -> None:
    """The model card and the notebook of a run (Train's results)."""
    from cifar_core.export.notebook import notebook_json, script

    st.markdown(f"{CARD_TEXT} {NOTEBOOK_TEXT}")
    model_card_buttons(run, data, key)
    makers = (lambda: notebook_json(run.config), lambda: script(run.config))
    _buttons(run, NOTEBOOK_FILES, makers, key)
