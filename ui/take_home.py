"""Take it home: a saved run's model card and the notebook that reproduces it in plain Keras."""

from __future__ import annotations

import streamlit as st

from cifar_core.data import Cifar10
from cifar_core.runs import Run


def take_home(run: Run, data: Cifar10 | None, key: str) -> None:
    """The run's model card and the notebook that reproduces it in plain Keras.

    Both are made when their button is clicked (a callable), not on every rerun.
    """
    from cifar_core.export.model_card import card_html, card_markdown, model_card
    from cifar_core.export.notebook import notebook_json, script

    source = data.source if data is not None else None
    available = len(data.x_train) if data is not None else None

    def card():  # noqa: ANN202 — one card per click
        return model_card(run, data_source=source, n_available=available)

    st.markdown(
        "**Model card**: what this model is, what it was trained on, how well it does per "
        "class (with 95% confidence intervals), what it must not be used for, and the data "
        "set's known flaws. **Take it home**: a Jupyter notebook (or plain Python file) that "
        "trains the same network with the same settings in plain Keras, outside this app."
    )
    files = (
        ("Model card (Markdown)", lambda: card_markdown(card()), "md", "text/markdown"),
        ("Model card (HTML)", lambda: card_html(card()), "html", "text/html"),
        (
            "Notebook (.ipynb)",
            lambda: notebook_json(run.config),
            "ipynb",
            "application/x-ipynb+json",
        ),
        ("Python script (.py)", lambda: script(run.config), "py", "text/x-python"),
    )
    names = {
        "md": "model-card.md",
        "html": "model-card.html",
        "ipynb": "notebook.ipynb",
        "py": "train.py",
    }
    for column, (label, make, ext, mime) in zip(st.columns(len(files)), files, strict=True):
        column.download_button(
            label,
            data=make,
            file_name=f"{run.run_id}-{names[ext]}",
            mime=mime,
            on_click="ignore",
            key=f"{key}_dl_{ext}",
        )
