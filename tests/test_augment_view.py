"""Tests of cifar_core.augmentation.preview: image choice, settings ↔ controls, mosaics, uploads."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from cifar_core import constants as C
from cifar_core.augmentation import AugmentParams, apply_transform, controls, preview_grid
from cifar_core.augmentation import preview as V
from cifar_core.augmentation.advice import describe_params
from cifar_core.augmentation.params import FILL_MODES, LESSON_PRESET
from cifar_core.images import ImageDecodeError, upscale_nearest
from tests.test_images import encode, noise_image, png_header_only

# --- which images ----------------------------------------------------------------------------


def test_first_of_class_on_real_labels(sample_data) -> None:
    cat = sample_data.class_names.index("cat")
    indices = V.first_of_class(sample_data.y_train, cat, 8)
    assert len(indices) == 8 and (np.diff(indices) > 0).all()
    assert (sample_data.y_train[indices] == cat).all()
    # "The first N": no cat comes before the last one picked that was left out.
    assert np.count_nonzero(sample_data.y_train[: indices[-1] + 1] == cat) == 8


def test_first_of_class_with_fewer_images_than_asked() -> None:
    labels = np.array([0, 1, 0, 2])
    assert V.first_of_class(labels, 0, 8).tolist() == [0, 2]
    assert V.first_of_class(labels, 5, 8).tolist() == []


def test_random_indices_are_seeded_and_distinct() -> None:
    first = V.random_indices(5000, 8, seed=3)
    assert first.tolist() == V.random_indices(5000, 8, seed=3).tolist()
    assert first.tolist() != V.random_indices(5000, 8, seed=4).tolist()
    assert len(set(first.tolist())) == 8 and first.max() < 5000
    assert sorted(V.random_indices(5, 8, seed=0).tolist()) == [0, 1, 2, 3, 4]


# --- settings ↔ controls ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        AugmentParams(),
        LESSON_PRESET,
        AugmentParams(shear_range=12, vertical_flip=True, fill_mode="constant", cval=128),
        AugmentParams(brightness_range=(0.5, 1.5), zoom_range=0.3),
    ],
)
def test_controls_round_trip(params: AugmentParams) -> None:
    values = controls.params_to_controls(params)
    assert controls.controls_to_params(values) == params


def test_every_control_value_fits_its_widget() -> None:
    values = controls.params_to_controls(LESSON_PRESET)
    for row in describe_params():
        value = values[row["name"]]
        if row["kind"] == "slider":
            assert isinstance(value, float) and row["min"] <= value <= row["max"], row["name"]
        elif row["kind"] == "range_slider":
            assert isinstance(value, tuple) and row["min"] <= value[0] <= value[1] <= row["max"]
        elif row["kind"] == "checkbox":
            assert isinstance(value, bool)
        else:
            assert value in row["options"]
    assert set(values) == {row["name"] for row in describe_params()}


def test_brightness_off_is_none_and_zoom_pair_becomes_one_number() -> None:
    assert controls.params_to_controls(AugmentParams())["brightness_range"] == C.BRIGHTNESS_OFF
    assert controls.controls_to_params({"brightness_range": (1.0, 1.0)}).brightness_range is None
    assert controls.controls_to_params({"brightness_range": (0.8, 1.0)}).brightness_range == (
        0.8,
        1.0,
    )
    assert controls.params_to_controls(AugmentParams(zoom_range=(0.7, 1.1)))["zoom_range"] == 0.3


def test_invalid_control_values_explain_themselves() -> None:
    with pytest.raises(ValueError, match="rotation_range must be between 0 and 180"):
        controls.controls_to_params({"rotation_range": 500.0})


def test_changed_settings() -> None:
    assert controls.changed_settings(LESSON_PRESET, LESSON_PRESET) == []
    lines = controls.changed_settings(LESSON_PRESET, AugmentParams(rotation_range=10))
    assert lines[0] == "rotation_range: 40 → 10"
    assert "horizontal_flip: True → False" in lines and len(lines) == 5
    brightness = controls.changed_settings(
        AugmentParams(), AugmentParams(brightness_range=(0.5, 1.5))
    )
    assert brightness == ["brightness_range: None → (0.5, 1.5)"]


# --- pictures --------------------------------------------------------------------------------


def test_upscale_nearest_makes_blocks() -> None:
    image = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    big = upscale_nearest(image, 3)
    assert big.shape == (6, 6, 3) and big.dtype == np.uint8
    assert (big[:3, 3:] == image[0, 1]).all() and (big[3:, :3] == image[1, 0]).all()
    assert upscale_nearest(np.zeros((4, 2, 2, 3)), 2).shape == (4, 4, 4, 3)
    grey = upscale_nearest(np.array([[0, 1], [2, 3]]), 2)  # a feature map: (H, W)
    assert (grey == [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]).all()
    with pytest.raises(ValueError, match="at least 1"):
        upscale_nearest(image, 0)


def test_grid_cells_put_the_original_first(cifar_sample_images) -> None:
    images = cifar_sample_images[0][:3]
    variants = preview_grid(images, LESSON_PRESET, seed=0, num_variants=C.NUM_TO_AUGMENT)
    cells = V.grid_cells(images, variants)
    assert cells.shape == (3, 1 + C.NUM_TO_AUGMENT, 32, 32, 3)
    assert (cells[:, 0] == images).all() and (cells[:, 1:] == variants).all()
    with pytest.raises(ValueError, match="do not match"):
        V.grid_cells(images, variants[:2])


def test_column_labels() -> None:
    assert V.column_labels(2) == ["original", "variant 1", "variant 2"]


def test_mosaic_places_every_cell_and_labels_only_the_margins(cifar_sample_images) -> None:
    images = cifar_sample_images[0][:4]
    variants = preview_grid(images, LESSON_PRESET, seed=1, num_variants=C.NUM_TO_AUGMENT)
    cells = V.grid_cells(images, variants)  # (4, 6, 32, 32, 3)
    mosaic = V.labelled_mosaic(cells, ["a", "b", "c", "d"], V.column_labels(C.NUM_TO_AUGMENT))
    assert mosaic.shape == (*V.mosaic_size(4, 6), 3) and mosaic.dtype == np.uint8
    side, pitch = 32 * V.MOSAIC_SCALE, 32 * V.MOSAIC_SCALE + V.GAP
    for r in range(4):
        for c in range(6):
            top, left = V.HEADER_HEIGHT + r * pitch, V.LABEL_WIDTH + c * pitch
            block = mosaic[top : top + side, left : left + side]
            assert (block == upscale_nearest(cells[r, c], V.MOSAIC_SCALE)).all(), (r, c)
    assert (mosaic[V.HEADER_HEIGHT :, V.LABEL_WIDTH + side : V.LABEL_WIDTH + pitch] == 255).all()
    assert (mosaic[: V.HEADER_HEIGHT] != 255).any()  # column labels drawn
    assert (mosaic[V.HEADER_HEIGHT :, : V.LABEL_WIDTH] != 255).any()  # row labels drawn


def test_mosaic_cuts_long_labels_and_checks_its_input() -> None:
    cells = np.zeros((1, 2, 8, 8, 3), dtype=np.uint8)
    mosaic = V.labelled_mosaic(cells, ["a very long file name.jpeg"], ["x", "y"], scale=1)
    assert mosaic.shape == (*V.mosaic_size(1, 2, (8, 8), scale=1), 3)
    with pytest.raises(ValueError, match="row and 2 column labels"):
        V.labelled_mosaic(cells, ["a", "b"], ["x", "y"])
    with pytest.raises(ValueError, match="uint8 cells"):
        V.labelled_mosaic(cells.astype(np.float32), ["a"], ["x", "y"])


def test_png_bytes_are_lossless() -> None:
    image = np.asarray(noise_image((40, 30)))
    assert (np.asarray(Image.open(io.BytesIO(V.png_bytes(image)))) == image).all()


def test_fill_demo_shows_four_different_fills(cifar_sample_images) -> None:
    image = cifar_sample_images[0][0]
    filled = [apply_transform(image, V.FILL_DEMO, fill_mode=m, cval=128) for m in FILL_MODES]
    for i in range(len(filled)):
        for j in range(i + 1, len(filled)):
            assert (filled[i] != filled[j]).mean() > 0.05, (FILL_MODES[i], FILL_MODES[j])


def test_preview_and_mosaic_of_eight_real_images_are_fast(sample_data) -> None:
    images = sample_data.x_train[:8]
    labels = [sample_data.class_names[i] for i in sample_data.y_train[:8]]

    def render() -> bytes:
        variants = preview_grid(images, LESSON_PRESET, 0, C.NUM_TO_AUGMENT)
        cells = V.grid_cells(images, variants)
        return V.png_bytes(V.labelled_mosaic(cells, labels, V.column_labels(5)))

    render()  # warm
    times = []
    for _ in range(5):
        start = time.perf_counter()
        render()
        times.append(time.perf_counter() - start)
    assert min(times) < 0.25, times  # ~25 ms here; generous for a shared 2-core machine


# --- a student's own photo -------------------------------------------------------------------


def test_prepare_upload_keeps_only_small_versions() -> None:
    photo = V.prepare_upload(encode(noise_image((1000, 500)), "PNG"))
    assert photo.display.shape == (160, V.UPLOAD_MAX_WIDTH, 3)
    assert photo.cifar.shape == (32, 32, 3) and photo.cifar.dtype == np.uint8
    assert photo.original_size == (1000, 500)
    tall = V.prepare_upload(encode(noise_image((300, 3000)), "PNG"))
    assert tall.display.shape == (V.UPLOAD_MAX_HEIGHT, 48, 3)
    small = V.prepare_upload(encode(Image.new("RGB", (20, 10), (255, 0, 0)), "BMP"))
    assert small.display.shape == (10, 20, 3) and (small.cifar == (255, 0, 0)).all()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello, this is text", "not an image Pillow can read"),
        (encode(noise_image(), "PNG")[:300], "truncated or damaged"),
        (png_header_only(20_000, 20_000), "400 megapixels"),
    ],
    ids=["text", "truncated", "bomb"],
)
def test_prepare_upload_refuses_bad_files(data: bytes, message: str) -> None:
    with pytest.raises(ImageDecodeError, match=message):
        V.prepare_upload(data)


@pytest.mark.parametrize(
    ("size", "shown"), [((1, 1), "1×1"), ((7, 100), "7×100"), ((64, 5), "64×5")]
)
def test_prepare_upload_refuses_pictures_too_small_to_mean_anything(size, shown) -> None:
    # A 1×1 upload used to be accepted silently as a flat red square.
    data = encode(Image.new("RGB", size, (255, 0, 0)), "PNG")
    side = V.MIN_UPLOAD_SIDE
    with pytest.raises(ImageDecodeError, match=f"only {shown} pixels.*at least {side}×{side}"):
        V.prepare_upload(data)


def test_prepare_upload_accepts_the_smallest_allowed_picture() -> None:
    side = V.MIN_UPLOAD_SIDE
    photo = V.prepare_upload(encode(noise_image((side, side)), "PNG"))
    assert photo.original_size == (side, side) and photo.cifar.shape == (32, 32, 3)


def test_upload_rules_say_the_limits_and_what_a_refused_file_does() -> None:
    rules = V.upload_rules(10)
    side = V.MIN_UPLOAD_SIDE
    for fact in (
        "up to 10 MB",
        f"at least {side}×{side} pixels",
        "never reaches the lab",
        "stays the last one accepted",
        "under 10 MB",
        "✕",
    ):
        assert fact in rules, fact


def test_settings_in_words() -> None:
    assert controls.settings_in_words(LESSON_PRESET) == (
        "rotation_range=40, width_shift_range=0.2, height_shift_range=0.2, zoom_range=0.2, "
        "horizontal_flip=True"
    )
    assert controls.settings_in_words(AugmentParams()).startswith("no augmentation")
    assert controls.settings_in_words(AugmentParams(fill_mode="constant", cval=128)) == (
        "fill_mode=constant, cval=128"
    )
