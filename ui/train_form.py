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
from cifar_core.lesson import HIDDEN, LOCKED, OPEN, parse_link, shared_lesson
from cifar_core.training import TrainConfig
from cifar_core.training.limits import STUDENT_PRESET_NOTE
from ui.common import (
    AUGMENT_KEY,
    available_steps,
    keep_widget_values,
    nearest,
    save_widget_values,
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


TEACHER_CAPTION = "🔒 Set by your teacher."


def train_form(keys: FormKeys, n_available: int) -> list[TrainConfig]:
    """Draw the controls; the chosen configs (one per network), or [] with a form error shown.

    The teacher's lesson settings are read on every run (they change while the server runs):
    a locked control is shown disabled at the preset's value, a hidden one is left out and
    the preset's value applies. A lesson link fills the open controls on the form's first
    visit in this session.

    Args:
        keys: the page's widget keys (TRAIN_FORM or SVD_FORM).
        n_available: training images in the data set (the size slider's maximum).
    """
    lesson = shared_lesson().current()
    if not lesson.preset_ok:
        st.warning(STUDENT_PRESET_NOTE, icon="⚙️")
    preset = dict(lesson.preset)
    if preset or lesson.locked or lesson.hidden:
        st.info(
            "Your teacher set the starting values of these settings for this class.", icon="🧑‍🏫"
        )
    d = lesson.values()
    augmentation, source = augment_source(preset, lesson.state("augment") != OPEN)
    widget = widget_keys(keys)
    preset_values = {
        "train_size": min(int(d["train_size"]), n_available),
        "epochs": int(d["epochs"]),
        "batch_size": nearest(C.BATCH_SIZES, d["batch_size"]),
        "optimizer": d["optimizer"],
        "learning_rate": nearest(C.LEARNING_RATES, d["learning_rate"]),
        "seed": int(d["seed"]),
        "model": d["model"],
        # A teacher's augmentation is on from the start; the lab's as the page prefers.
        "augment": bool(preset.get("augment"))
        if lesson.state("augment") != OPEN
        else keys.augment_on or bool(preset.get("augment")),
    }
    link = link_values(keys, n_available)
    first_visit = {
        widget[name]: link.get(name, value)
        for name, value in preset_values.items()
        if widget.get(name) and lesson.state(name) != HIDDEN
    }
    keep_widget_values(keys.settings, first_visit)
    for name in lesson.locked:  # a value kept from before the lock never wins over it
        if widget.get(name):
            st.session_state[widget[name]] = preset_values[name]

    def control(name: str, column, draw):
        """One control as the lesson says: open, locked (disabled + caption) or hidden."""
        state = lesson.state(name)
        if state == HIDDEN:
            return preset_values[name]
        value = draw(column, state == LOCKED)
        if state == LOCKED:
            column.caption(TEACHER_CAPTION)
        return value

    left, right = st.columns(2)
    models = list(C.MODEL_NAMES)
    if keys.model:
        models = [
            control(
                "model",
                left,
                lambda c, off: c.radio(
                    "Network",
                    C.MODEL_NAMES,
                    format_func=C.MODEL_LABELS.get,
                    horizontal=True,
                    key=keys.model,
                    disabled=off,
                ),
            )
        ]
    held_out = f"{float(d['val_split']):.0%}"
    shared = {
        "train_size": int(
            control(
                "train_size",
                left,
                lambda c, off: c.slider(
                    f"Training images ({held_out} of them are held out for validation)",
                    min_value=C.TRAIN_SIZE_MIN,
                    max_value=n_available,
                    step=C.TRAIN_SIZE_STEP,
                    key=keys.size,
                    disabled=off,
                ),
            )
        ),
        "epochs": int(
            control(
                "epochs",
                left,
                lambda c, off: c.slider(
                    "Epochs (passes over the training images)",
                    C.EPOCHS_MIN,
                    C.EPOCHS_MAX,
                    key=keys.epochs,
                    disabled=off,
                ),
            )
        ),
        "batch_size": int(
            control(
                "batch_size",
                right,
                lambda c, off: c.select_slider(
                    "Batch size", C.BATCH_SIZES, key=keys.batch, disabled=off
                ),
            )
        ),
        "optimizer": control(
            "optimizer",
            right,
            lambda c, off: c.selectbox(
                "Optimizer",
                C.OPTIMIZERS,
                format_func=C.OPTIMIZER_LABELS.get,
                key=keys.optimizer,
                disabled=off,
            ),
        ),
        "learning_rate": float(
            control(
                "learning_rate",
                right,
                lambda c, off: c.select_slider(
                    "Learning rate", C.LEARNING_RATES, key=keys.lr, disabled=off
                ),
            )
        ),
        "seed": int(
            control(
                "seed",
                right,
                lambda c, off: c.number_input(
                    "Seed (same seed + same settings → same result)",
                    min_value=0,
                    max_value=C.MAX_SEED,
                    key=keys.seed,
                    disabled=off,
                ),
            )
        ),
        "val_split": float(d["val_split"]),
        "augment": augmentation_ui(keys, augmentation, source, lesson.state("augment")),
    }
    save_widget_values(keys.settings, first_visit)
    try:
        return [TrainConfig(model=model, **shared) for model in models]
    except ValueError as exc:
        st.error(f"These settings cannot train: {exc} Change them above.", icon="⚠️")
        return []


def widget_keys(keys: FormKeys) -> dict[str, str | None]:
    """Each control's widget key on this form, by its TrainConfig field (lesson.CONTROLS)."""
    return {
        "model": keys.model,
        "train_size": keys.size,
        "epochs": keys.epochs,
        "batch_size": keys.batch,
        "optimizer": keys.optimizer,
        "learning_rate": keys.lr,
        "seed": keys.seed,
        "augment": keys.augment,
    }


# A lesson link (`/train?model=deep&epochs=3`) fills the form on its first visit in a session;
# each bad value gets one message (shown while the link's value is in the address) and the
# usual value. The message echoes the link's value Markdown-escaped (parse_link), so a link
# such as `?model=[Log in](https://…)` shows its text, never a clickable link.
def link_values(keys: FormKeys, n_available: int) -> dict:
    seen = f"{keys.settings}_link"
    values = {}
    if seen not in st.session_state:
        values, problems = parse_link(st.query_params.to_dict(), n_available)
        st.session_state[seen] = problems
    for name, problem in st.session_state[seen].items():
        if name in st.query_params:
            st.warning(problem, icon="🔗")
    return values


def augment_source(preset: dict, teacher_only: bool = False) -> tuple[dict | None, str]:
    """The augmentation on offer: the lab's hand-over, else the teacher's preset; and whose.

    When the teacher locked or hid the control, only the preset's augmentation applies.
    """
    lab = None if teacher_only else st.session_state.get(AUGMENT_KEY)
    if lab:
        return dict(lab), "the Augmentation lab"
    if preset.get("augment"):
        return dict(preset["augment"]), "your teacher's preset"
    return None, ""


def augmentation_ui(
    keys: FormKeys, settings: dict | None, source: str, state: str = OPEN
) -> AugmentParams | None:
    """The augmentation toggle (or a link to the lab when there is nothing to apply).

    Hidden by the teacher: the preset's augmentation, nothing shown; locked: the toggle
    disabled at the preset's choice.
    """
    if state == HIDDEN:
        return AugmentParams.from_dict(settings) if settings else None
    if not settings and state == LOCKED:
        st.caption(f"Augmentation: off. {TEACHER_CAPTION}")
        return None
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
        f"Augment the training images with the settings from {source}",
        key=keys.augment,
        disabled=state == LOCKED,
    )
    if state == LOCKED:
        st.caption(TEACHER_CAPTION)
    changed = ", ".join(
        f"{k}={v}" for k, v in params.to_dict().items() if v not in (0, 0.0, False, None)
    )
    st.caption(
        f"Settings: {changed or 'none (identity)'}. Each training batch gets new random "
        "transforms drawn exactly as in the lab's preview; validation and test images are "
        "never augmented."
    )
    return params if use else None
