"""Augmentation lab: see what each ImageDataGenerator setting does, then train with those settings."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import streamlit as st

from cifar_core import constants as C
from cifar_core.augmentation import AugmentParams, apply_transform, preview_grid
from cifar_core.augmentation import preview as V
from cifar_core.augmentation.advice import describe_params, label_warnings
from cifar_core.augmentation.code import to_code
from cifar_core.augmentation.controls import (
    changed_settings,
    controls_to_params,
    params_to_controls,
    settings_in_words,
)
from cifar_core.augmentation.params import FILL_MODES, LESSON_PRESET
from cifar_core.data import Cifar10
from cifar_core.images import upscale_nearest
from ui.common import (
    AUGMENT_KEY,
    get_data,
    keep_widget_values,
    save_widget_values,
    saved_widget_value,
)
from ui.compat import require_app_navigation
from ui.lesson_runs import see_it
from ui.upload import photo_upload

require_app_navigation()

# Streamlit forgets a widget's value when a page visit does not draw it (a page switch, or a
# control hidden for a while): the settings are remembered as AugmentParams (PARAMS_KEY), the
# other controls' values with ui.common.keep_widget_values (VIEW_KEY).
PARAMS_KEY = "aug_lab_params"  # AugmentParams.to_dict() of the controls, saved on every run
VIEW_KEY = "aug_lab_view"  # the image choice and the seed, saved on every run
PREFIX = "aug_"  # widget key of a setting: aug_<name>, e.g. aug_rotation_range
SOURCE_KEY, CLASS_KEY, COUNT_KEY = "aug_source", "aug_class", "aug_count"
PICK_SEED_KEY, SEED_KEY, UPLOAD_KEY = "aug_pick_seed", "aug_seed", "aug_upload"
VIEW_WIDGETS = (SOURCE_KEY, CLASS_KEY, COUNT_KEY, PICK_SEED_KEY, SEED_KEY)
SOURCES = {"class": "By class", "random": "At random", "upload": "Your own photo"}

st.title("Augmentation lab")
st.markdown(
    f"""
A network sees each training photo many times. **Data augmentation** shows it a slightly
different version every time — turned a little, shifted, zoomed, mirrored — so it learns what a
cat looks like rather than memorising *these* cat pictures. The rule: every augmented picture
must still deserve its label.

Move the controls and watch the grid: each row is one image and {C.NUM_TO_AUGMENT} random
versions of it, drawn with the same rules as Keras' `ImageDataGenerator`. The controls start
at the classic lesson's settings (`{settings_in_words(LESSON_PRESET)}`); **Reset** turns
augmentation off.

When you like what you see, hand the settings to the Train page. Training uses the same
settings and the same maths, but draws *new* random versions of every image in every epoch —
not the ones in this grid.
"""
)
see_it("augmentation_narrows_gap")
st.caption(
    "About the old notebooks (source: their own code): their preview loop did apply the "
    "generator, but it was mis-indented. Notebook 000 augmented only the last image, "
    f"{C.NUM_TO_AUGMENT} times; in notebooks 001, 002 and 004 the loop never ends, because "
    "`num_aug` is never incremented inside it; and the list it built was never used. Their "
    "training, through `fit_generator(datagen.flow(…))`, did augment every batch."
)


# A student's own photo: at full size and at 32×32, as the network sees it.
def upload_ui() -> np.ndarray | None:
    upload = photo_upload("A photo", UPLOAD_KEY)
    if upload is None:
        st.info("Upload a photo. Until then the grid shows CIFAR-10 images of the chosen class.")
        return None
    if upload.photo is None:
        st.caption("The grid shows CIFAR-10 images of the chosen class instead.")
        return None
    photo = upload.photo
    full, small = st.columns(2)
    width, height = photo.original_size
    full.image(
        photo.display,
        caption=f"Your photo {upload.name} ({width}×{height} pixels), the last one accepted",
    )
    small.image(
        upscale_nearest(photo.cifar, C.UPLOAD_SCALE),
        caption="What the network sees: the centre square at 32×32 pixels (blown up).",
        output_format="PNG",
    )
    return photo.cifar


# Which images to augment: the first few of a class, a seeded random draw, or your own photo.
def image_choice_ui(data: Cifar10 | None) -> tuple[np.ndarray, list[str]] | None:
    sources = list(SOURCES) if data is not None else ["upload"]
    keep_widget_values(VIEW_KEY, {SOURCE_KEY: sources[0]})
    if st.session_state[SOURCE_KEY] not in sources:
        st.session_state[SOURCE_KEY] = sources[0]
    source = st.radio("Images", sources, format_func=SOURCES.get, horizontal=True, key=SOURCE_KEY)
    if source == "upload":
        photo = upload_ui()
        if photo is not None:
            return photo[None], ["your photo"]
        if data is None:
            return None
        # Until a usable photo arrives: the class images the "By class" choice last showed.
        chosen = saved_widget_value(VIEW_KEY, CLASS_KEY, C.LAB_DEFAULT_CLASS)
        indices = V.first_of_class(
            data.y_train, chosen, saved_widget_value(VIEW_KEY, COUNT_KEY, C.DEFAULT_NUM_IMAGES)
        )
        return data.x_train[indices], [data.class_names[chosen]] * len(indices)

    assert data is not None
    left, right = st.columns(2)
    keep_widget_values(VIEW_KEY, {COUNT_KEY: C.DEFAULT_NUM_IMAGES})
    count = left.slider("How many images", C.MIN_NUM_IMAGES, C.MAX_NUM_IMAGES, key=COUNT_KEY)
    if source == "class":
        keep_widget_values(VIEW_KEY, {CLASS_KEY: C.LAB_DEFAULT_CLASS})
        names = data.class_names
        chosen = right.selectbox(
            "Class", range(len(names)), format_func=names.__getitem__, key=CLASS_KEY
        )
        indices = V.first_of_class(data.y_train, chosen, count)
        right.caption(f"The first {len(indices)} {names[chosen]} images of the training split.")
    else:
        keep_widget_values(VIEW_KEY, {PICK_SEED_KEY: C.DEFAULT_PREVIEW_SEED})
        seed = right.number_input(
            "Which random images (seed)", C.MIN_SEED, C.MAX_SEED, key=PICK_SEED_KEY
        )
        indices = V.random_indices(len(data.x_train), count, int(seed))
    return data.x_train[indices], [data.class_names[i] for i in data.y_train[indices]]


def set_controls(params: AugmentParams) -> None:
    """Button callback: put these settings into the controls (before they are drawn)."""
    for name, value in params_to_controls(params).items():
        st.session_state[PREFIX + name] = value


def start_params() -> AugmentParams:
    # The student's remembered settings, if any (and still valid), else the lesson's: opening on
    # ImageDataGenerator's defaults would show five identical copies of every image.
    remembered = st.session_state.get(PARAMS_KEY)
    if not remembered:
        return LESSON_PRESET
    try:
        return AugmentParams.from_dict(remembered)
    except ValueError:
        return LESSON_PRESET


# One control for one row of describe_params(): the table decides which widget it is.
def control(row: Mapping[str, Any], values: Mapping[str, Any]) -> Any:
    key, kind, label = PREFIX + row["name"], row["kind"], row["label"]
    if kind == "checkbox":
        return st.checkbox(label, key=key)
    if kind == "select":
        return st.selectbox(label, row["options"], key=key)
    if kind in ("slider", "range_slider"):
        low, high, step = float(row["min"]), float(row["max"]), float(row["step"])
        return st.slider(
            label,
            low,
            high,
            step=step,
            format="%.0f" if step >= 1 else "%.2f",
            # cval only matters for fill mode "constant": greyed out otherwise.
            disabled=row["name"] == "cval" and values.get("fill_mode") != "constant",
            key=key,
        )
    raise ValueError(f"No control for kind {kind!r} of {row['name']}")


# The settings, built from the table of parameters, with what each one does underneath.
def controls_ui() -> AugmentParams | None:
    for name, value in params_to_controls(start_params()).items():
        keep_widget_values(VIEW_KEY, {PREFIX + name: value})
    preset, reset = st.columns(2)
    preset.button(
        "Lesson preset",
        key="aug_preset",
        on_click=set_controls,
        args=(LESSON_PRESET,),
        help=f"The classic lesson's settings: {settings_in_words(LESSON_PRESET)}.",
        width="stretch",
    )
    reset.button(
        "Reset",
        key="aug_reset",
        on_click=set_controls,
        args=(AugmentParams(),),
        help="Every setting back to ImageDataGenerator's default: no augmentation.",
        width="stretch",
    )
    values: dict[str, Any] = {}
    for row in describe_params():
        values[row["name"]] = control(row, values)
        note = row["help"]
        if row["kind"] == "range_slider":
            note += f" Both ends at {C.BRIGHTNESS_OFF[0]:.2f}: off."
        st.caption(note)
    try:
        params = controls_to_params(values)
    except ValueError as exc:
        st.error(f"These settings cannot be used: {exc}", icon="⚠️")
        return None
    st.session_state[PARAMS_KEY] = params.to_dict()  # saved now, before anything slow
    return params


def reroll() -> None:
    """Button callback: the next seed, so a new set of random variants."""
    st.session_state[SEED_KEY] = min(
        int(st.session_state.get(SEED_KEY, C.DEFAULT_PREVIEW_SEED)) + 1, C.MAX_SEED
    )


# The grid: each image, then NUM_TO_AUGMENT random versions of it, as one picture.
def grid_ui(images: np.ndarray, labels: list[str], params: AugmentParams) -> None:
    keep_widget_values(VIEW_KEY, {SEED_KEY: C.DEFAULT_PREVIEW_SEED})
    seed = int(st.session_state[SEED_KEY])
    variants = preview_grid(images, params, seed, C.NUM_TO_AUGMENT)  # (N, 5, 32, 32, 3)
    columns = V.column_labels(C.NUM_TO_AUGMENT)
    mosaic = V.labelled_mosaic(V.grid_cells(images, variants), labels, columns)
    # The grid first, right under the heading: on a phone it is what stays pinned in view.
    with st.container(key="aug_grid"):
        st.image(
            V.png_bytes(mosaic),
            output_format="PNG",
            alt=(
                f"Grid of {len(labels)} rows ({', '.join(labels)}); in each row the original "
                f"image, then {C.NUM_TO_AUGMENT} randomly augmented versions of it."
            ),
        )
    seed_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    seed_col.number_input(
        "Seed (the same seed draws the same variants)", C.MIN_SEED, C.MAX_SEED, key=SEED_KEY
    )
    button_col.button("Re-roll", key="aug_reroll", on_click=reroll, width="stretch")
    st.caption(
        "Every variant is a new random draw inside your ranges — what training does to every "
        "image of every batch. Re-roll for another draw."
    )


# Fill modes: one strong transform, four ways to fill what comes from outside the picture.
def fill_modes_ui(image: np.ndarray, label: str, cval: float) -> None:
    t = V.FILL_DEMO
    st.markdown(
        f"Turn the first image by {t.rotation_deg:.0f}°, zoom it out to {t.zoom_x:g} and shift "
        "it: parts of the output now come from outside the picture. `fill_mode` decides what "
        "goes there. *nearest* repeats the edge pixels (the default), *reflect* mirrors the "
        "picture, *wrap* takes the opposite side, *constant* paints the Fill value."
    )
    filled = [apply_transform(image, t, fill_mode=mode, cval=cval) for mode in FILL_MODES]
    cells = np.stack([image, *filled])[None]  # (1, 5, 32, 32, 3)
    mosaic = V.labelled_mosaic(cells, [label], ["original", *FILL_MODES])
    st.image(
        V.png_bytes(mosaic),
        output_format="PNG",
        alt=f"The {label} image, then the same transform with fill modes " + ", ".join(FILL_MODES),
    )


# The same settings as code: the classic call and today's Keras 3 layers.
def code_ui(params: AugmentParams) -> None:
    code = to_code(params)
    st.markdown("**The classic lesson: `ImageDataGenerator`**")
    st.code(code["legacy"], language="python")
    st.markdown("**Keras 3: preprocessing layers**")
    st.code(code["keras3"], language="python")
    st.markdown("**What still differs**")
    st.markdown("\n".join(f"- {note}" for note in code["differences"]))


def current_params() -> AugmentParams:
    """The settings the controls hold right now (read from their session-state keys)."""
    names = [row["name"] for row in describe_params()]
    return controls_to_params({n: st.session_state[PREFIX + n] for n in names})


def hand_over() -> None:
    """Button callback: store the controls' settings where the Train page looks for them."""
    # A callback rather than `if st.button(...)`: it runs before the script, so the hand-over
    # also happens when the run that follows is restarted (a rerun drops button clicks).
    with contextlib.suppress(ValueError):  # invalid settings: the page says why; keep the old
        st.session_state[AUGMENT_KEY] = current_params().to_dict()


# Hand the settings to the Train page, and say what it will use.
def training_ui(params: AugmentParams) -> None:
    st.button(
        "Use these settings for training",
        key="aug_use_for_training",
        type="primary",
        on_click=hand_over,
    )
    stored = st.session_state.get(AUGMENT_KEY)
    if not stored:
        st.caption("Nothing handed over yet: the Train page trains without augmentation.")
        return
    try:
        differences = changed_settings(AugmentParams.from_dict(stored), params)
    except ValueError as exc:
        st.warning(f"The stored settings are not valid any more ({exc}). Hand these over.")
        return
    if differences:
        st.info(
            "The Train page holds other settings than these controls show:\n"
            + "\n".join(f"- {line}" for line in differences)
            + "\n\nPress the button to hand over the current ones."
        )
    else:
        note = " (they change nothing: no augmentation)" if params.is_identity else ""
        st.success(f"The Train page will augment with exactly these settings{note}.")
    st.page_link("pages/train.py", label="Go to the Train page", icon="🏋️")


data = get_data()
st.header("1. Choose images")
chosen = image_choice_ui(data)

# On a phone Streamlit stacks these columns: the settings' whole column (about 1,600 px) came
# before the preview. There (narrow screens only; the desktop layout is unchanged) the preview
# goes first and stays pinned under the app's header, the grid capped at a third of the screen,
# so a student sees each change right above the slider they move while the settings scroll
# under it. CSS, because Streamlit has no column order or pinning for small screens. Pinned,
# it needs the app's own opaque background, and Streamlit has no CSS variable for that: the
# theme is pinned light in .streamlit/config.toml (the menu offers no theme switch, a phone in
# dark mode still gets the light app: tests/test_browser_sizes.py), so it is the configured
# background colour, else Streamlit's light default.
pinned_background = st.get_option("theme.backgroundColor") or "#ffffff"
st.html(
    f"""<style>
@media (max-width: {C.PHONE_MAX_WIDTH_PX}px) {{
  [data-testid="stColumn"]:has(.st-key-aug_preview) {{
    order: -1; position: sticky; top: 3.75rem; z-index: 2; max-height: 50vh;
    overflow-y: auto; background: {pinned_background};
    box-shadow: 0 6px 6px -6px rgba(0, 0, 0, 0.4);
  }}
  .st-key-aug_preview h2 {{ font-size: 1.25rem; padding: 0.25rem 0; }}
  .st-key-aug_grid img {{ max-height: 33vh; width: auto !important; }}
}}
</style>"""
)
controls, preview = st.columns([1, 2], gap="large")
with controls:
    st.header("2. Settings")
    params = controls_ui()
with preview, st.container(key="aug_preview"):
    st.header(f"3. Each image and {C.NUM_TO_AUGMENT} random versions")
    if params is not None:
        for warning in label_warnings(params):
            st.warning(warning, icon="⚠️")
    if params is not None and chosen is not None:
        grid_ui(*chosen, params)
    elif chosen is None:
        st.info("No images to show: CIFAR-10 could not be loaded. Upload a photo instead.")
save_widget_values(VIEW_KEY, VIEW_WIDGETS)
if params is None:
    st.stop()

if chosen is not None:
    st.header("4. What fills the corners?")
    fill_modes_ui(chosen[0][0], chosen[1][0], params.cval)

st.header("5. The same settings as code")
code_ui(params)

st.header("6. Train with these settings")
training_ui(params)
