"""The teacher page's "Lesson settings": the class preset, limits, locked or hidden controls, live."""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st

from cifar_core import constants as C
from cifar_core.lesson import CONTROLS, HIDDEN, LOCKED, Lesson, link_query, shared_lesson
from ui.common import nearest

PREFIX = "lesson_"  # every widget key of this section starts with it (Reset clears them)
DONE_KEY = "lesson_done"  # what the last Apply or Reset did, shown once
LABELS = {
    "model": "Network",
    "train_size": "Training images",
    "epochs": "Epochs",
    "batch_size": "Batch size",
    "optimizer": "Optimizer",
    "learning_rate": "Learning rate",
    "seed": "Seed",
    "augment": "Augmentation",
}
STATE_WORDS = {LOCKED: "locked (shown, not changeable)", HIDDEN: "hidden (your value applies)"}


def lesson_settings_ui() -> None:
    """The section: the form (Apply), Reset, what students see now and the lesson link."""
    st.subheader("Lesson settings")
    st.markdown(
        "The Train settings every student starts from, the limits of one run, and which Train "
        "controls students may change. **Apply** changes them for the running server at once "
        "(students see the change on their next page load) and keeps them after a restart; "
        "**Reset** goes back to the server's own settings."
    )
    lesson = shared_lesson().current()
    settings_form(lesson)
    st.button("Reset to the server's defaults", key=f"{PREFIX}reset", on_click=reset_clicked)
    if DONE_KEY in st.session_state:
        kind, text = st.session_state.pop(DONE_KEY)
        (st.success if kind == "ok" else st.error)(text)
    students_see_ui(lesson)  # Apply and Reset are callbacks: `lesson` is already theirs
    link_ui(lesson)


# The form's widgets start at the settings in force (after Apply or Reset they are redrawn
# from the new ones: their keys are cleared then).
def settings_form(lesson: Lesson) -> None:
    d, limits = lesson.values(), lesson.limits
    with st.form(f"{PREFIX}form"):
        left, right = st.columns(2)
        left.radio(
            LABELS["model"],
            C.MODEL_NAMES,
            index=C.MODEL_NAMES.index(d["model"]),
            format_func=C.MODEL_LABELS.get,
            horizontal=True,
            key=f"{PREFIX}model",
        )
        left.number_input(
            LABELS["train_size"],
            min_value=C.TRAIN_SIZE_MIN,
            max_value=C.FULL_TRAIN_SIZE,
            value=int(d["train_size"]),
            step=C.TRAIN_SIZE_STEP,
            key=f"{PREFIX}train_size",
        )
        left.slider(
            LABELS["epochs"],
            C.EPOCHS_MIN,
            C.EPOCHS_MAX,
            value=int(d["epochs"]),
            key=f"{PREFIX}epochs",
        )
        right.select_slider(
            LABELS["batch_size"],
            C.BATCH_SIZES,
            value=nearest(C.BATCH_SIZES, d["batch_size"]),
            key=f"{PREFIX}batch_size",
        )
        right.selectbox(
            LABELS["optimizer"],
            C.OPTIMIZERS,
            index=C.OPTIMIZERS.index(d["optimizer"]),
            format_func=C.OPTIMIZER_LABELS.get,
            key=f"{PREFIX}optimizer",
        )
        right.select_slider(
            LABELS["learning_rate"],
            C.LEARNING_RATES,
            value=nearest(C.LEARNING_RATES, d["learning_rate"]),
            key=f"{PREFIX}learning_rate",
        )
        right.number_input(LABELS["seed"], 0, C.MAX_SEED, value=int(d["seed"]), key=f"{PREFIX}seed")
        st.markdown("**Limits of one run**")
        one, two, three = st.columns(3)
        one.number_input(
            "Images × epochs per run",
            min_value=1,
            value=int(limits.max_image_epochs),
            step=C.TRAIN_SIZE_STEP * 10,
            key=f"{PREFIX}max_image_epochs",
        )
        two.number_input(
            "Minutes per run",
            min_value=0.1,
            value=float(limits.max_run_minutes),
            step=0.5,
            key=f"{PREFIX}max_run_minutes",
        )
        three.number_input(
            "Runs that may wait in the queue",
            min_value=1,
            value=int(limits.max_queue),
            key=f"{PREFIX}max_queue",
        )
        st.markdown("**Train controls for students**")
        st.multiselect(
            "Locked: shown at your value, not changeable",
            CONTROLS,
            default=sorted(lesson.locked),
            format_func=LABELS.get,
            key=f"{PREFIX}locked",
        )
        st.multiselect(
            "Hidden: not shown, your value applies",
            CONTROLS,
            default=sorted(lesson.hidden),
            format_func=LABELS.get,
            key=f"{PREFIX}hidden",
        )
        st.checkbox(
            "Show students the class's runs together (anonymous labels, below their results)",
            value=lesson.share_class,
            key=f"{PREFIX}share_class",
        )
        st.form_submit_button("Apply", type="primary", on_click=apply_clicked, args=(lesson,))


def forget_widgets() -> None:
    for key in [k for k in st.session_state if str(k).startswith(PREFIX)]:
        if key != f"{PREFIX}reset":
            del st.session_state[key]


# Apply, as a click callback: it runs before the page is drawn again, so the summary below
# already shows the new settings.
def apply_clicked(lesson: Lesson) -> None:
    state = st.session_state
    kept = {k: lesson.preset[k] for k in ("val_split", "augment") if k in lesson.preset}
    preset = {
        **kept,
        **{name: state[f"{PREFIX}{name}"] for name in CONTROLS if name != "augment"},
    }
    limits = {
        name: state[f"{PREFIX}{name}"]
        for name in ("max_image_epochs", "max_run_minutes", "max_queue")
    }
    try:
        note = shared_lesson().apply(
            preset,
            limits,
            state[f"{PREFIX}locked"],
            state[f"{PREFIX}hidden"],
            bool(state.get(f"{PREFIX}share_class", False)),
        )
    except ValueError as exc:
        state[DONE_KEY] = ("error", f"Not applied: {exc}")
        return
    forget_widgets()
    state[DONE_KEY] = ("ok", f"Applied: students see it on their next page load. {note}")


def reset_clicked() -> None:
    shared_lesson().reset()
    forget_widgets()
    st.session_state[DONE_KEY] = ("ok", "Back to the server's own settings.")


def shown_value(lesson: Lesson, name: str) -> str:
    value = lesson.values()[name]
    if name == "augment":
        return "on (the preset's settings)" if value else "off"
    if name == "model":
        return C.MODEL_LABELS.get(value, str(value))
    return str(value)


# What a student's Train form shows now, control by control.
def students_see_ui(lesson: Lesson) -> None:
    st.markdown("**What students see now**")
    st.dataframe(
        [
            {
                "Control": LABELS[name],
                "Value": shown_value(lesson, name),
                "For students": STATE_WORDS.get(lesson.state(name), "open (their choice)"),
            }
            for name in CONTROLS
        ],
        hide_index=True,
    )
    limits = lesson.limits
    whose = "yours (from this page)" if lesson.by_teacher else "the server's own"
    st.caption(
        f"Settings in force: {whose}. Each run: at most {limits.max_image_epochs:,} images × "
        f"epochs and {limits.max_run_minutes:g} minutes; at most {limits.max_queue} runs wait."
    )


def app_base_url() -> str:
    """The app's address as the teacher's browser sees it ("" when unknown, as in tests)."""
    url = getattr(st.context, "url", None) or ""
    parts = urlsplit(url)
    if not parts.scheme:
        return ""
    path = parts.path.rstrip("/")
    path = path[: path.rfind("/")] if path.endswith("/teacher") else path
    return f"{parts.scheme}://{parts.netloc}{path}"


# A link to hand out: it opens the Train page with the preset's values (locked controls still
# follow these settings, whatever a link says).
def link_ui(lesson: Lesson) -> None:
    query = link_query(lesson)
    st.markdown("**Lesson link**: opens the Train page with these values")
    st.code(f"{app_base_url()}/train" + (f"?{query}" if query else ""), language=None)
