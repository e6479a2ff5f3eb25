"""The training form: one set of controls for every page that trains.

The Train page trains the network the student picks; Shallow vs deep trains both on the same
budget. Both draw the same controls from here, start from the teacher's whole preset (every
TrainConfig field, the validation split and augmentation included) and remember the student's
values while they visit other pages. The settings are checked when the form is drawn, so a
bad setting (a wrong preset, a damaged lab hand-over) is a message on the form, never a
failed run.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from cifar_core import constants as C
from cifar_core.augmentation.params import AugmentParams
from cifar_core.training import TrainConfig
from ui.common import (
    AUGMENT_KEY,
    available_steps,
    keep_widget_values,
    nearest,
    save_widget_values,
    teacher_preset,
)


@dataclass(frozen=True)
class FormKeys:
    """The widget keys of one page's form (tests and links address the widgets by them)."""

    settings: str  # where the values are kept while the student is on other pages
    size: str
    epochs: str
    batch: str
    optimizer: str
    lr: str
    seed: str
    augment: str
    model: str | None = None  # None: the page trains both networks
    augment_on: bool = True  # the toggle's first value when the lab handed settings over


TRAIN_FORM = FormKeys(
    "train_settings",
    "train_size",
    "train_epochs",
    "train_batch",
    "train_optimizer",
    "train_lr",
    "train_seed",
    "train_augment",
    model="train_model",
)
# A comparison starts plain: augmentation is one more difference to explain.
SVD_FORM = FormKeys(
    "svd_settings",
    "svd_train_size",
    "svd_epochs",
    "svd_batch",
    "svd_optimizer",
    "svd_lr",
    "svd_seed",
    "svd_augment",
    augment_on=False,
)


def train_form(keys: FormKeys, n_available: int) -> list[TrainConfig]:
    """Draw the controls; the chosen configs (one per network), or [] with a form error shown.

    Args:
        keys: the page's widget keys (TRAIN_FORM or SVD_FORM).
        n_available: training images in the data set (the size slider's maximum).
    """
    preset = teacher_preset()
    if preset:
        st.info(
            "Your teacher set the starting values of these settings for this class.", icon="🧑‍🏫"
        )
    d = {**TrainConfig().to_dict(), **preset}
    augmentation, source = augment_source(preset)
    first_visit = {
        keys.size: min(int(d["train_size"]), n_available),
        keys.epochs: int(d["epochs"]),
        keys.batch: nearest(C.BATCH_SIZES, d["batch_size"]),
        keys.optimizer: d["optimizer"],
        keys.lr: nearest(C.LEARNING_RATES, d["learning_rate"]),
        keys.seed: int(d["seed"]),
        # A teacher's augmentation is on from the start; the lab's as the page prefers.
        keys.augment: keys.augment_on or bool(preset.get("augment")),
    }
    if keys.model:
        first_visit[keys.model] = d["model"]
    keep_widget_values(keys.settings, first_visit)
    left, right = st.columns(2)
    models = list(C.MODEL_NAMES)
    if keys.model:
        models = [
            left.radio(
                "Network",
                C.MODEL_NAMES,
                format_func=C.MODEL_LABELS.get,
                horizontal=True,
                key=keys.model,
            )
        ]
    held_out = f"{float(d['val_split']):.0%}"
    shared = {
        "train_size": int(
            left.slider(
                f"Training images ({held_out} of them are held out for validation)",
                min_value=C.TRAIN_SIZE_MIN,
                max_value=n_available,
                step=C.TRAIN_SIZE_STEP,
                key=keys.size,
            )
        ),
        "epochs": int(
            left.slider(
                "Epochs (passes over the training images)",
                C.EPOCHS_MIN,
                C.EPOCHS_MAX,
                key=keys.epochs,
            )
        ),
        "batch_size": int(right.select_slider("Batch size", C.BATCH_SIZES, key=keys.batch)),
        "optimizer": right.selectbox(
            "Optimizer", C.OPTIMIZERS, format_func=C.OPTIMIZER_LABELS.get, key=keys.optimizer
        ),
        "learning_rate": float(right.select_slider("Learning rate", C.LEARNING_RATES, key=keys.lr)),
        "seed": int(
            right.number_input(
                "Seed (same seed + same settings → same result)",
                min_value=0,
                max_value=2**31 - 1,
                key=keys.seed,
            )
        ),
        "val_split": float(d["val_split"]),
        "augment": augmentation_ui(keys, augmentation, source),
    }
    save_widget_values(keys.settings, first_visit)
    try:
        return [TrainConfig(model=model, **shared) for model in models]
    except ValueError as exc:
        st.error(f"These settings cannot train: {exc} Change them above.", icon="⚠️")
        return []


def augment_source(preset: dict) -> tuple[dict | None, str]:
    """The augmentation on offer: the lab's hand-over, else the teacher's preset; and whose."""
    lab = st.session_state.get(AUGMENT_KEY)
    if lab:
        return dict(lab), "the Augmentation lab"
    if preset.get("augment"):
        return dict(preset["augment"]), "your teacher's preset"
    return None, ""


def augmentation_ui(keys: FormKeys, settings: dict | None, source: str) -> AugmentParams | None:
    """The augmentation toggle (or a link to the lab when there is nothing to apply)."""
    if not settings:
        lab = next((s for s in available_steps() if s.url_path == "augmentation_lab"), None)
        if lab:
            st.page_link(
                lab.path,
                label="Want augmentation? Set it up in the Augmentation lab first.",
                icon=lab.icon,
            )
        return None
    try:
        params = AugmentParams.from_dict(settings)
    except (TypeError, ValueError) as exc:
        st.error(
            f"The augmentation settings from {source} cannot be used: {exc} Training runs without augmentation until they are fixed "
            "(set them again in the Augmentation lab).",
            icon="⚠️",
        )
        return None
    use = st.toggle(
        f"Augment the training images with the settings from {source}", key=keys.augment
    )
    changed = ", ".join(
        f"{k}={v}" for k, v in params.to_dict().items() if v not in (0, 0.0, False, None)
    )
    st.caption(
        f"Settings: {changed or 'none (identity)'}. Each training batch gets new random "
        "transforms drawn exactly as in the lab's preview; validation and test images are "
        "never augmented."
    )
    return params if use else None
