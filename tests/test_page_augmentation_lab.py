"""The Augmentation lab in AppTest: grid, controls, seed, presets, uploads, code, hand-over."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from cifar_core import constants as C
from cifar_core.augmentation import AugmentParams, controls
from cifar_core.augmentation import preview as V
from cifar_core.augmentation.advice import describe_params
from cifar_core.augmentation.code import to_code
from cifar_core.augmentation.params import LESSON_PRESET
from tests.conftest import open_app
from tests.test_images import encode, noise_image, png_header_only
from ui.common import AUGMENT_KEY

REPO = Path(__file__).resolve().parents[1]
PAGE = "pages/augmentation_lab.py"
GRID_ALT = "Grid of"


@pytest.fixture()
def media(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Every file the page hands to Streamlit's media manager, by URL (to read images back)."""
    files: dict[str, bytes] = {}
    original = MediaFileManager.add

    def add(self, path_or_data, mimetype, coordinates, *args, **kwargs):
        url = original(self, path_or_data, mimetype, coordinates, *args, **kwargs)
        files[url] = path_or_data
        return url

    monkeypatch.setattr(MediaFileManager, "add", add)
    return files


def open_page(session_state: dict | None = None) -> AppTest:
    """The app, switched to this page and run once."""
    at = open_app(PAGE, session_state=session_state)
    assert not at.exception, [e.value for e in at.exception]
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def grid(at: AppTest):
    """The grid's image proto (url, alt): one picture for the whole grid."""
    (found,) = [
        img for el in at.get("image") for img in el.proto.imgs if img.alt.startswith(GRID_ALT)
    ]
    return found


def grid_pixels(at: AppTest, media: dict[str, bytes]) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(media[grid(at).url])).convert("RGB"))


def cell(mosaic: np.ndarray, row: int, col: int) -> np.ndarray:
    """One 32×32 cell of the grid mosaic, scaled back down."""
    side, pitch = 32 * V.MOSAIC_SCALE, 32 * V.MOSAIC_SCALE + V.GAP
    top, left = V.HEADER_HEIGHT + row * pitch, V.LABEL_WIDTH + col * pitch
    return mosaic[top : top + side : V.MOSAIC_SCALE, left : left + side : V.MOSAIC_SCALE]


def control_values(at: AppTest) -> dict:
    getters = {"slider": at.slider, "range_slider": at.slider, "checkbox": at.checkbox}
    return {
        row["name"]: getters.get(row["kind"], at.selectbox)(key=f"aug_{row['name']}").value
        for row in describe_params()
    }


# --- the grid --------------------------------------------------------------------------------


def test_page_renders_one_grid_picture_of_8_images_and_5_variants(app_env, media, sample_data):
    at = open_page()
    assert at.title[0].value == "Augmentation lab"
    mosaic = grid_pixels(at, media)
    assert mosaic.shape == (*V.mosaic_size(8, 1 + C.NUM_TO_AUGMENT), 3)
    # Rows are labelled with class names: the first 8 airplanes by default.
    assert grid(at).alt.count("airplane") == 8
    # The lab opens on the lesson's settings: each original (the real image) is followed by five
    # different versions of it, not five identical copies.
    first_planes = sample_data.x_train[sample_data.y_train == 0][:8]
    for row in range(8):
        assert (cell(mosaic, row, 0) == first_planes[row]).all()
        versions = [cell(mosaic, row, col) for col in range(1, 1 + C.NUM_TO_AUGMENT)]
        assert not any((v == first_planes[row]).all() for v in versions), row
        assert len({v.tobytes() for v in versions}) == C.NUM_TO_AUGMENT, row
    # Two pictures in all (the grid and the fill modes), not 48 small ones.
    assert sum(len(el.proto.imgs) for el in at.get("image")) == 2


def test_a_slider_changes_the_grid_and_the_variants_differ(app_env, media):
    at = open_page()
    before = grid(at).url
    at.slider(key="aug_rotation_range").set_value(10.0)
    rerun(at)
    assert grid(at).url != before
    mosaic = grid_pixels(at, media)
    assert not (cell(mosaic, 0, 1) == cell(mosaic, 0, 0)).all()
    assert not (cell(mosaic, 0, 1) == cell(mosaic, 0, 2)).all()


def test_same_seed_same_grid_and_reroll_is_the_next_seed(app_env):
    at = open_page()
    at.button(key="aug_preset").click()
    first = grid(rerun(at)).url
    assert grid(rerun(at)).url == first  # same seed, same grid
    at.button(key="aug_reroll").click()
    rerolled = grid(rerun(at)).url
    assert at.number_input(key="aug_seed").value == C.DEFAULT_PREVIEW_SEED + 1
    assert rerolled != first
    at.number_input(key="aug_seed").set_value(C.DEFAULT_PREVIEW_SEED)
    assert grid(rerun(at)).url == first
    at.number_input(key="aug_seed").set_value(C.DEFAULT_PREVIEW_SEED + 1)
    assert grid(rerun(at)).url == rerolled


def test_choose_images_by_class_at_random_and_how_many(app_env, media):
    at = open_page()
    at.selectbox(key="aug_class").set_value(3)  # cat
    at.slider(key="aug_count").set_value(3)
    rerun(at)
    assert grid(at).alt.count("cat") == 3
    assert grid_pixels(at, media).shape == (*V.mosaic_size(3, 1 + C.NUM_TO_AUGMENT), 3)
    at.radio(key="aug_source").set_value("random")
    first = grid(rerun(at)).url
    at.number_input(key="aug_pick_seed").set_value(7)
    assert grid(rerun(at)).url != first


# --- controls --------------------------------------------------------------------------------


def test_controls_are_built_from_describe_params_with_their_help(app_env):
    at = open_page()
    assert control_values(at) == controls.params_to_controls(LESSON_PRESET)
    captions = " ".join(c.value for c in at.caption)
    for row in describe_params():
        assert row["help"] in captions
    assert at.slider(key="aug_cval").disabled  # only used by fill mode "constant"
    at.selectbox(key="aug_fill_mode").set_value("constant")
    assert not rerun(at).slider(key="aug_cval").disabled


def test_lesson_preset_and_reset(app_env):
    at = open_page()
    at.button(key="aug_reset").click()
    assert control_values(rerun(at)) == controls.params_to_controls(AugmentParams())
    at.button(key="aug_preset").click()
    assert control_values(rerun(at)) == controls.params_to_controls(LESSON_PRESET)


def test_the_lab_opens_on_the_lesson_settings_and_keeps_the_students(app_env):
    at = open_page()
    assert at.session_state["aug_lab_params"] == LESSON_PRESET.to_dict()
    assert controls.settings_in_words(LESSON_PRESET) in at.button(key="aug_preset").help
    # The student turns augmentation off and moves one slider; a page switch keeps that.
    at.button(key="aug_reset").click()
    rerun(at)
    at.slider(key="aug_zoom_range").set_value(0.1)
    rerun(at)
    mine = AugmentParams(zoom_range=0.1)
    at.switch_page("pages/home.py")
    rerun(at)
    at.switch_page(PAGE)
    assert control_values(rerun(at)) == controls.params_to_controls(mine)
    # Unusable remembered settings fall back to the lesson's, not to "no augmentation".
    broken = open_page({"aug_lab_params": {"zoom_range": 5}})
    assert control_values(broken) == controls.params_to_controls(LESSON_PRESET)


def test_intro_tells_what_the_notebooks_did_and_what_training_draws(app_env):
    at = open_page()
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "augmented nothing" not in text and "exactly this math" not in text
    assert "draws *new* random versions of every image in every epoch" in text
    for fact in (
        "mis-indented",
        "Notebook 000 augmented only the last image",
        "never ends",
        "`num_aug` is never incremented",
        "never used",
        "did augment every batch",
        "source: their own code",
    ):
        assert fact in text, fact


def test_risky_settings_show_label_warnings(app_env):
    at = open_page()
    assert not at.warning
    at.checkbox(key="aug_vertical_flip").check()
    at.slider(key="aug_rotation_range").set_value(120.0)
    warnings = " ".join(w.value for w in rerun(at).warning)
    assert "Vertical flip" in warnings and "Rotations up to 120 degrees" in warnings


def test_invalid_settings_show_the_message(app_env, monkeypatch):
    def refuse(values):
        raise ValueError("zoom_range must be below 1")

    monkeypatch.setattr(controls, "controls_to_params", refuse)
    at = open_page()
    assert [e.value for e in at.error] == [
        "These settings cannot be used: zoom_range must be below 1"
    ]
    assert not at.code  # nothing built from settings that do not exist


def test_controls_survive_a_page_switch(app_env):
    at = open_page()
    at.button(key="aug_preset").click()
    rerun(at)
    at.slider(key="aug_shear_range").set_value(12.0)
    rerun(at)
    expected = LESSON_PRESET.to_dict() | {"shear_range": 12.0}
    assert at.session_state["aug_lab_params"] == expected
    at.switch_page("pages/home.py")
    rerun(at)
    at.switch_page(PAGE)
    assert control_values(rerun(at)) == controls.params_to_controls(
        AugmentParams.from_dict(expected)
    )


def test_controls_start_from_the_remembered_settings(app_env):
    # What a return visit sees after Streamlit dropped the widgets' own state.
    at = open_page({"aug_lab_params": LESSON_PRESET.to_dict(), "aug_lab_view": {"aug_seed": 9}})
    assert control_values(at) == controls.params_to_controls(LESSON_PRESET)
    assert at.number_input(key="aug_seed").value == 9


# --- code and hand-over ----------------------------------------------------------------------


def test_code_panel_shows_both_snippets_and_the_differences(app_env):
    at = open_page()
    at.button(key="aug_preset").click()
    rerun(at)
    code = to_code(LESSON_PRESET)
    assert [c.value for c in at.code] == [code["legacy"].strip(), code["keras3"].strip()]
    assert all(c.language == "python" for c in at.code)
    bullets = "\n".join(f"- {note}" for note in code["differences"])
    assert bullets in [m.value for m in at.markdown]


def test_use_for_training_stores_the_params_for_the_train_page(app_env):
    at = open_page()
    assert "Nothing handed over yet" in " ".join(c.value for c in at.caption)
    at.button(key="aug_preset").click()
    rerun(at)
    at.slider(key="aug_shear_range").set_value(10.0)
    rerun(at)
    at.button(key="aug_use_for_training").click()
    rerun(at)
    params = AugmentParams.from_dict(at.session_state["aug_lab_params"])
    assert at.session_state[AUGMENT_KEY] == params.to_dict()
    assert params == AugmentParams(**{**LESSON_PRESET.to_dict(), "shear_range": 10.0})
    assert [s.value for s in at.success] == [
        "The Train page will augment with exactly these settings."
    ]
    assert at.get("page_link")
    # Move a control: the page says the Train page holds other settings, and which.
    at.slider(key="aug_shear_range").set_value(5.0)
    info = " ".join(i.value for i in rerun(at).info)
    assert "shear_range: 10 → 5" in info
    assert at.session_state[AUGMENT_KEY]["shear_range"] == 10.0  # unchanged until pressed
    # The Train page picks the settings up and offers the augmentation toggle.
    at.switch_page("pages/train.py")
    rerun(at)
    assert at.toggle(key="train_augment").value is True


# --- uploads ---------------------------------------------------------------------------------


def test_an_upload_is_shown_full_size_and_at_32_and_fills_the_grid(app_env, media):
    at = open_page()
    at.radio(key="aug_source").set_value("upload")
    rerun(at)
    assert "Upload a photo" in at.info[0].value
    assert V.upload_rules(C.MAX_UPLOAD_MB) in [c.value for c in at.caption]  # limits said up front
    assert grid(at).alt.count("airplane") == 8  # CIFAR-10 images until a photo arrives
    photo = noise_image((600, 300))
    at.file_uploader(key="aug_upload").set_value(("mine.jpg", encode(photo, "JPEG"), "image/jpeg"))
    rerun(at)
    assert not at.error
    full, small = (el.proto.imgs[0] for el in at.get("image")[:2])
    assert "mine.jpg (600×300 pixels), the last one accepted" in full.caption
    assert Image.open(io.BytesIO(media[full.url])).size == (V.UPLOAD_MAX_WIDTH, 160)
    assert Image.open(io.BytesIO(media[small.url])).size == (32 * C.UPLOAD_SCALE,) * 2
    assert "your photo" in grid(at).alt
    assert grid_pixels(at, media).shape == (*V.mosaic_size(1, 1 + C.NUM_TO_AUGMENT), 3)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.png", b"hello, this is text", "not an image Pillow can read"),
        ("cut.png", encode(noise_image(), "PNG")[:300], "truncated or damaged"),
        ("bomb.png", png_header_only(20_000, 20_000), "400 megapixels"),
        (
            "dot.png",
            encode(Image.new("RGB", (1, 1), (255, 0, 0)), "PNG"),
            f"only 1×1 pixels; at least {V.MIN_UPLOAD_SIDE}×{V.MIN_UPLOAD_SIDE} are needed",
        ),
    ],
    ids=["text", "truncated", "bomb", "one-pixel"],
)
def test_a_bad_upload_shows_an_error_and_the_page_keeps_working(app_env, name, data, message):
    at = open_page()
    at.radio(key="aug_source").set_value("upload")
    rerun(at)
    # A good photo first: the bad upload replaces it (the page must not keep showing it).
    photo = encode(noise_image((64, 64)), "PNG")
    at.file_uploader(key="aug_upload").set_value(("good.png", photo, "image/png"))
    assert "your photo" in grid(rerun(at)).alt
    at.file_uploader(key="aug_upload").set_value((name, data, "image/png"))
    rerun(at)
    (error,) = at.error
    assert message in error.value
    assert grid(at).alt.count("airplane") == 8  # the CIFAR images fill the grid again
    assert not any("good.png" in img.caption for el in at.get("image") for img in el.proto.imgs)
    at.slider(key="aug_rotation_range").set_value(30.0)
    rerun(at)
    assert at.code  # the rest of the page works on


# --- cost ------------------------------------------------------------------------------------


def test_the_page_does_not_import_tensorflow(app_env):
    code = (
        "import sys; from streamlit.testing.v1 import AppTest;"
        f"at = AppTest.from_file({str(REPO / 'app.py')!r}, default_timeout=60); at.run();"
        f"at.switch_page({PAGE!r}); at.run();"
        "assert not at.exception, at.exception;"
        "assert at.title[0].value == 'Augmentation lab';"
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False"
