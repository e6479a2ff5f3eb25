"""Tests of cifar_core.augmentation: hand-computed warps, distributions, and preview = training."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cifar_core.augmentation import (
    IDENTITY,
    AugmentParams,
    Transform,
    apply_transform,
    augment_batch_numpy,
    preview_grid,
    random_transform,
)
from cifar_core.augmentation.advice import describe_params, label_warnings
from cifar_core.augmentation.code import to_code
from cifar_core.augmentation.params import FILL_MODES, LESSON_PRESET
from cifar_core.augmentation.pipeline import apply_transforms_tf, make_tf_augment
from cifar_core.constants import AUGMENT_LIMITS

# Training (float in [0, 1]) may differ from the preview by uint8 rounding at most.
PIXEL_TOLERANCE = 1 / 255 + 1e-6


@pytest.fixture
def noise() -> np.ndarray:
    """A 32×32 RGB uint8 image where every pixel differs, so misplaced pixels show."""
    return np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)


@pytest.fixture
def noise_batch() -> np.ndarray:
    """Eight float32 images in [0, 1]."""
    return np.random.default_rng(1).random((8, 32, 32, 3), dtype=np.float32)


def gradient(axis: int, size: int = 32) -> np.ndarray:
    """A float64 (size, size, 1) image whose value is its column (axis=1) or row (axis=0)."""
    values = np.arange(size, dtype=np.float64)
    plane = np.tile(values, (size, 1)) if axis == 1 else np.tile(values[:, None], (1, size))
    return plane[..., None]


# --- apply_transform: hand-computed geometry -------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_identity_returns_the_same_image_and_dtype(noise: np.ndarray, dtype: type) -> None:
    image = noise if dtype == np.uint8 else (noise / 255).astype(dtype)
    out = apply_transform(image, IDENTITY)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, image)


def test_width_shift_moves_columns_only(noise: np.ndarray) -> None:
    out = apply_transform(noise, Transform(shift_x_px=3))
    np.testing.assert_array_equal(out[:, 3:], noise[:, :-3])  # content moved right, rows intact
    out = apply_transform(noise, Transform(shift_x_px=-3))
    np.testing.assert_array_equal(out[:, :-3], noise[:, 3:])


def test_height_shift_moves_rows_only(noise: np.ndarray) -> None:
    out = apply_transform(noise, Transform(shift_y_px=3))
    np.testing.assert_array_equal(out[3:], noise[:-3])  # content moved down
    out = apply_transform(noise, Transform(shift_y_px=-3))
    np.testing.assert_array_equal(out[:-3], noise[3:])


def test_single_bright_pixel_lands_where_the_shift_says() -> None:
    image = np.zeros((32, 32, 3), np.uint8)
    image[10, 12] = 255
    out = apply_transform(image, Transform(shift_x_px=5, shift_y_px=-4), fill_mode="constant")
    assert np.argwhere(out[..., 0]).tolist() == [[6, 17]]


@pytest.mark.parametrize(("degrees", "turns"), [(90, 1), (-90, -1), (180, 2)])
def test_rotation_is_counter_clockwise_like_rot90(
    noise: np.ndarray, degrees: float, turns: int
) -> None:
    out = apply_transform(noise, Transform(rotation_deg=degrees))
    np.testing.assert_array_equal(out, np.rot90(noise, k=turns))


def test_zoom_half_doubles_the_centre() -> None:
    # Output column x reads input column cx + 0.5 (x - cx), cx = 15.5; bilinear is exact on a ramp.
    out = apply_transform(gradient(axis=1), Transform(zoom_x=0.5, zoom_y=0.5))
    expected = 7.75 + 0.5 * np.arange(32)
    np.testing.assert_allclose(out[5, :, 0], expected, atol=1e-5)
    np.testing.assert_allclose(out[20, :, 0], expected, atol=1e-5)


def test_zoom_axes_are_separate() -> None:
    ramp = gradient(axis=0)  # value = row
    out = apply_transform(ramp, Transform(zoom_x=0.5))  # horizontal zoom leaves rows alone
    np.testing.assert_allclose(out, ramp, atol=1e-5)
    out = apply_transform(ramp, Transform(zoom_y=0.5))
    np.testing.assert_allclose(out[:, 3, 0], 7.75 + 0.5 * np.arange(32), atol=1e-5)


@pytest.mark.parametrize("degrees", [20.0, 45.0])
def test_shear_also_stretches_vertically_by_one_over_cos(degrees: float) -> None:
    # ImageDataGenerator's shear matrix [[1, -sin φ], [0, cos φ]] maps output row y to input row
    # cy + cos φ (y - cy): a feature d rows from the centre lands d / cos φ rows away (taller).
    phi = np.radians(degrees)
    out = apply_transform(gradient(axis=0), Transform(shear_deg=degrees))  # value = input row
    centre_rows = out[10:22, 16, 0]  # rows whose reads stay inside the picture
    np.testing.assert_allclose(np.diff(centre_rows), np.cos(phi), atol=1e-5)
    # A horizontal bar 6.5 rows below the centre (row 15.5) moves to 6.5 / cos φ rows below it;
    # a pure shear (a pushed deck of cards) would leave it 6.5 rows below.
    bar = np.zeros((32, 32, 1))
    bar[22] = 1.0
    lands = np.average(
        np.arange(32), weights=apply_transform(bar, Transform(shear_deg=degrees))[:, 16, 0]
    )
    assert lands - 15.5 == pytest.approx(6.5 / np.cos(phi), abs=0.05)
    # The lab's help text says so.
    shear_help = next(row["help"] for row in describe_params() if row["name"] == "shear_range")
    assert "1/cos" in shear_help and "vertically" in shear_help


def test_zoom_out_shrinks_into_the_fill(noise: np.ndarray) -> None:
    out = apply_transform(noise, Transform(zoom_x=2, zoom_y=2), fill_mode="constant", cval=7)
    assert (out[:7] == 7).all() and (out[:, -7:] == 7).all()  # outer band is fill
    assert not (out[12:20, 12:20] == 7).all()


# --- fill modes ------------------------------------------------------------------------------


def test_fill_constant_uses_cval(noise: np.ndarray) -> None:
    out = apply_transform(noise, Transform(shift_x_px=3), fill_mode="constant", cval=200)
    assert (out[:, :3] == 200).all()
    float_out = apply_transform(noise / 255, Transform(shift_x_px=3), "constant", cval=200)
    np.testing.assert_allclose(float_out[:, :3], 200 / 255, atol=1e-6)  # cval is 0-255


def test_fill_constant_blends_the_last_half_pixel(noise: np.ndarray) -> None:
    # Documented border case (TensorFlow's kernel): cval and the edge pixel are interpolated.
    out = apply_transform(noise / 255, Transform(shift_x_px=0.5), "constant", cval=255)
    np.testing.assert_allclose(out[:, 0], 0.5 + 0.5 * noise[:, 0] / 255, atol=1e-6)


def test_fill_nearest_repeats_the_edge(noise: np.ndarray) -> None:
    out = apply_transform(noise, Transform(shift_x_px=3), fill_mode="nearest")
    np.testing.assert_array_equal(out[:, :3], np.repeat(noise[:, :1], 3, axis=1))


def test_fill_reflect_mirrors_abcd_dcba(noise: np.ndarray) -> None:
    out = apply_transform(noise, Transform(shift_x_px=3), fill_mode="reflect")
    np.testing.assert_array_equal(out[:, :3], noise[:, [2, 1, 0]])  # edge pixel repeated
    out = apply_transform(noise, Transform(shift_y_px=-2), fill_mode="reflect")
    np.testing.assert_array_equal(out[-2:], noise[[31, 30]])


def test_fill_wrap_takes_the_opposite_side(noise: np.ndarray) -> None:
    out = apply_transform(noise, Transform(shift_x_px=3), fill_mode="wrap")
    np.testing.assert_array_equal(out[:, :3], noise[:, -3:])
    out = apply_transform(noise, Transform(shift_y_px=-4), fill_mode="wrap")
    np.testing.assert_array_equal(out[-4:], noise[:4])


# --- flips, brightness, dtypes, errors -------------------------------------------------------


def test_flips(noise: np.ndarray) -> None:
    np.testing.assert_array_equal(
        apply_transform(noise, Transform(flip_horizontal=True)), noise[:, ::-1]
    )
    np.testing.assert_array_equal(
        apply_transform(noise, Transform(flip_vertical=True)), noise[::-1]
    )


def test_flip_comes_after_the_warp(noise: np.ndarray) -> None:
    out = apply_transform(noise, Transform(shift_x_px=3, flip_horizontal=True))
    np.testing.assert_array_equal(out[:, :-3], noise[:, :-3][:, ::-1])


def test_brightness_scales_and_clips(noise: np.ndarray) -> None:
    half = apply_transform(noise, Transform(brightness=0.5))
    np.testing.assert_array_equal(half, np.rint(noise * 0.5).astype(np.uint8))
    double = apply_transform(noise, Transform(brightness=2.0))
    np.testing.assert_array_equal(double, np.clip(noise.astype(int) * 2, 0, 255))
    float_double = apply_transform(noise / 255, Transform(brightness=2.0))
    assert float_double.max() == 1.0 and float_double.dtype == np.float64


def test_uint8_output_is_rounded_and_in_range(noise: np.ndarray) -> None:
    transform = Transform(rotation_deg=33, zoom_x=0.8, shear_deg=12)
    out = apply_transform(noise, transform)
    assert out.dtype == np.uint8 and out.shape == noise.shape
    # The same warp in float, rounded to the nearest level and clipped: not truncated.
    exact = apply_transform(noise.astype(np.float32), transform)
    expected = np.clip(np.round(exact), 0, 255)
    assert np.abs(out.astype(np.float32) - expected).max() <= 1
    assert np.mean(out.astype(np.float32) == expected) > 0.99
    assert np.mean(out.astype(np.float32) == np.floor(exact)) < 0.9  # truncation would match


@pytest.mark.parametrize(
    ("image", "fill_mode", "match"),
    [
        (np.zeros((32, 32), np.uint8), "nearest", "shape"),
        (np.zeros((32, 32, 3), np.int32), "nearest", "dtype"),
        (np.zeros((32, 32, 3), np.uint8), "mirror", "fill_mode"),
    ],
)
def test_apply_transform_rejects_bad_input(image: np.ndarray, fill_mode: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        apply_transform(image, IDENTITY, fill_mode=fill_mode)


# --- random_transform: distributions ---------------------------------------------------------


def draw(params: AugmentParams, count: int = 3000, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    transforms = [random_transform(params, rng) for _ in range(count)]
    return {
        name: np.array([getattr(t, name) for t in transforms])
        for name in Transform.__dataclass_fields__
    }


def test_random_ranges_are_respected_and_filled() -> None:
    params = AugmentParams(
        rotation_range=40,
        width_shift_range=0.2,
        shear_range=10,
        zoom_range=0.2,
        brightness_range=(0.5, 1.5),
    )
    d = draw(params)
    for name, limit in [("rotation_deg", 40), ("shift_x_px", 6.4), ("shear_deg", 10)]:
        assert np.abs(d[name]).max() <= limit and np.abs(d[name]).max() > 0.98 * limit
        assert abs(d[name].mean()) < 0.05 * limit  # symmetric
    for name in ("zoom_x", "zoom_y"):
        assert d[name].min() >= 0.8 and d[name].max() <= 1.2
        assert d[name].min() < 0.81 and d[name].max() > 1.19
    assert d["brightness"].min() >= 0.5 and d["brightness"].max() <= 1.5
    assert (d["shift_y_px"] == 0).all()  # height_shift_range = 0


def test_zoom_axes_are_drawn_independently() -> None:
    d = draw(AugmentParams(zoom_range=0.3))
    assert abs(np.corrcoef(d["zoom_x"], d["zoom_y"])[0, 1]) < 0.06


def test_flips_happen_half_of_the_time() -> None:
    d = draw(AugmentParams(horizontal_flip=True))
    assert 0.45 < d["flip_horizontal"].mean() < 0.55
    assert not d["flip_vertical"].any()
    both = draw(AugmentParams(horizontal_flip=True, vertical_flip=True))
    assert 0.45 < both["flip_vertical"].mean() < 0.55


def test_width_range_drives_horizontal_shift_unlike_legacy_quirk() -> None:
    d = draw(AugmentParams(width_shift_range=0.3))
    assert np.abs(d["shift_x_px"]).max() > 9 and (d["shift_y_px"] == 0).all()
    d = draw(AugmentParams(height_shift_range=4))  # from 1 up: pixels
    assert (d["shift_x_px"] == 0).all()
    assert 3.9 < np.abs(d["shift_y_px"]).max() <= 4


def test_fraction_shift_uses_the_image_shape() -> None:
    rng = np.random.default_rng(0)
    shifts = [
        random_transform(AugmentParams(width_shift_range=0.5), rng, (10, 100, 3)).shift_x_px
        for _ in range(500)
    ]
    assert 45 < max(np.abs(shifts)) <= 50


def test_same_seed_gives_same_draws() -> None:
    assert draw(LESSON_PRESET, 50, seed=3)["rotation_deg"].tolist() == (
        draw(LESSON_PRESET, 50, seed=3)["rotation_deg"].tolist()
    )
    assert draw(LESSON_PRESET, 50, seed=3)["zoom_x"].tolist() != (
        draw(LESSON_PRESET, 50, seed=4)["zoom_x"].tolist()
    )


def test_identity_params_draw_the_identity() -> None:
    assert random_transform(AugmentParams(), np.random.default_rng(0)) == IDENTITY


# --- AugmentParams: validation and serialisation ---------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rotation_range": -5}, "rotation_range must be between 0 and 180 degrees, got -5"),
        ({"rotation_range": 200}, "between 0 and 180"),
        ({"rotation_range": "40"}, "rotation_range must be a number"),
        ({"rotation_range": float("nan")}, "finite"),
        ({"width_shift_range": -0.1}, "width_shift_range must be between 0 and 32"),
        ({"height_shift_range": 40}, "pixels"),
        ({"shear_range": 60}, "shear_range must be between 0 and 45 degrees"),
        ({"zoom_range": 1.5}, "zoom_range as one number must be at least 0 and below 1"),
        ({"zoom_range": (1.2, 0.8)}, "0 < low <= high <= 2"),
        ({"zoom_range": (0, 1)}, "0 < low"),
        ({"zoom_range": (0.5, 1, 2)}, "pair"),
        ({"horizontal_flip": "yes"}, "horizontal_flip must be True or False"),
        ({"vertical_flip": 1}, "True or False"),
        ({"fill_mode": "mirror"}, "fill_mode must be one of 'constant', 'nearest'"),
        ({"cval": 300}, "cval must be between 0 and 255"),
        ({"brightness_range": (1.5, 0.5)}, "brightness_range needs 0 <= low <= high"),
        ({"brightness_range": 1.2}, "pair"),
    ],
)
def test_invalid_settings_explain_themselves(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        AugmentParams(**kwargs)


def test_values_are_normalised() -> None:
    params = AugmentParams(
        rotation_range=np.int64(40), zoom_range=[0.8, 1.2], horizontal_flip=np.bool_(True)
    )
    assert params.rotation_range == 40.0 and isinstance(params.rotation_range, float)
    assert params.zoom_range == (0.8, 1.2)
    assert params.horizontal_flip is True
    assert hash(params) == hash(
        AugmentParams(rotation_range=40, zoom_range=(0.8, 1.2), horizontal_flip=True)
    )


@pytest.mark.parametrize(
    "params",
    [
        AugmentParams(),
        LESSON_PRESET,
        AugmentParams(
            zoom_range=(0.7, 1.1),
            brightness_range=(0.8, 1.3),
            fill_mode="constant",
            cval=128.5,
            shear_range=12.25,
            width_shift_range=4,
        ),
    ],
)
def test_dict_round_trip_through_json_is_exact(params: AugmentParams) -> None:
    data = json.loads(json.dumps(params.to_dict()))
    back = AugmentParams.from_dict(data)
    assert back == params
    assert back.to_dict() == params.to_dict()


def test_from_dict_rejects_unknown_keys_and_non_dicts() -> None:
    with pytest.raises(ValueError, match="Unknown augmentation setting.*rotaton_range"):
        AugmentParams.from_dict({"rotaton_range": 40})
    with pytest.raises(ValueError, match="must be a dict"):
        AugmentParams.from_dict([("rotation_range", 40)])
    assert AugmentParams.from_dict({"rotation_range": 10}) == AugmentParams(rotation_range=10)


def test_is_identity() -> None:
    assert AugmentParams().is_identity
    assert AugmentParams(zoom_range=(1, 1), brightness_range=(1, 1), fill_mode="wrap").is_identity
    assert not LESSON_PRESET.is_identity
    assert not AugmentParams(brightness_range=(0.9, 1.1)).is_identity


def test_lesson_preset() -> None:
    assert LESSON_PRESET.to_dict() == {
        "rotation_range": 40.0,
        "width_shift_range": 0.2,
        "height_shift_range": 0.2,
        "shear_range": 0.0,
        "zoom_range": 0.2,
        "horizontal_flip": True,
        "vertical_flip": False,
        "fill_mode": "nearest",
        "cval": 0.0,
        "brightness_range": None,
    }


# --- batches and the preview grid ------------------------------------------------------------


def test_preview_grid_shape_dtype_and_seed(noise_batch: np.ndarray) -> None:
    grid = preview_grid(noise_batch, LESSON_PRESET, seed=7, num_variants=5)
    assert grid.shape == (8, 5, 32, 32, 3) and grid.dtype == np.float32
    np.testing.assert_array_equal(grid, preview_grid(noise_batch, LESSON_PRESET, seed=7))
    assert not np.array_equal(grid, preview_grid(noise_batch, LESSON_PRESET, seed=8))
    assert not np.array_equal(grid[:, 0], grid[:, 1])  # variants differ


def test_preview_grid_with_identity_repeats_the_images(noise_batch: np.ndarray) -> None:
    grid = preview_grid(noise_batch, AugmentParams(), seed=0, num_variants=3)
    np.testing.assert_array_equal(grid, np.repeat(noise_batch[:, None], 3, axis=1))


def test_preview_grid_is_fast() -> None:
    images = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    params = AugmentParams(
        rotation_range=40,
        width_shift_range=0.2,
        height_shift_range=0.2,
        shear_range=10,
        zoom_range=0.2,
        horizontal_flip=True,
        brightness_range=(0.8, 1.2),
    )
    preview_grid(images, params, seed=0)  # warm up
    timings = []
    for seed in range(10):
        start = time.perf_counter()
        preview_grid(images, params, seed=seed)
        timings.append(time.perf_counter() - start)
    assert np.median(timings) < 0.05  # measured ~10 ms on 2 CPU cores


def test_augment_batch_numpy(noise_batch: np.ndarray) -> None:
    out = augment_batch_numpy(noise_batch, LESSON_PRESET, np.random.default_rng(0))
    assert out.shape == noise_batch.shape and out.dtype == noise_batch.dtype
    assert out.min() >= 0.0 and out.max() <= 1.0
    same = augment_batch_numpy(noise_batch, AugmentParams(), np.random.default_rng(0))
    np.testing.assert_array_equal(same, noise_batch)


# --- teaching helpers ------------------------------------------------------------------------


def test_to_code_snippets_compile_and_carry_the_factors() -> None:
    code = to_code(LESSON_PRESET)
    for key in ("legacy", "keras3"):
        compile(code[key], f"<{key}>", "exec")
    assert "ImageDataGenerator(" in code["legacy"] and "Keras 3" in code["legacy"]
    assert "rotation_range=40," in code["legacy"] and "zoom_range=0.2," in code["legacy"]
    assert "shear_range" not in code["legacy"] and "fill_mode" not in code["legacy"]  # defaults
    keras3 = code["keras3"]
    assert 'RandomRotation(40 / 360, fill_mode="nearest")' in keras3
    assert 'RandomTranslation(0.2, 0.2, fill_mode="nearest")' in keras3
    assert 'RandomZoom((-0.2, 0.2), (-0.2, 0.2), fill_mode="nearest")' in keras3
    assert 'RandomFlip("horizontal")' in keras3
    assert all(isinstance(note, str) and note for note in code["differences"])
    assert any("82838" in note for note in code["differences"])


def test_to_code_converts_pixels_shear_brightness_and_constant_fill() -> None:
    params = AugmentParams(
        width_shift_range=4,
        height_shift_range=8,
        shear_range=45,
        zoom_range=(0.5, 1.0),
        horizontal_flip=True,
        vertical_flip=True,
        fill_mode="constant",
        cval=255,
        brightness_range=(0.6, 1.4),
    )
    code = to_code(params)
    for key in ("legacy", "keras3"):
        compile(code[key], f"<{key}>", "exec")
    keras3 = code["keras3"]
    assert 'RandomTranslation(0.25, 0.125, fill_mode="constant", fill_value=1)' in keras3
    assert "RandomShear(x_factor=1," in keras3
    assert "RandomZoom((-0.5, 0), (-0.5, 0)," in keras3
    assert 'RandomFlip("horizontal_and_vertical")' in keras3
    assert "RandomBrightness((-0.2, 0.2), value_range=(0, 1))" in keras3
    assert "brightness_range=(0.6, 1.4)," in code["legacy"]
    assert any("RandomShear" in note for note in code["differences"])


def test_legacy_snippet_header_tells_the_truth_about_keras_3() -> None:
    header = to_code(LESSON_PRESET)["legacy"]
    assert "<= 2.15" not in header and "runs only" not in header  # the old, false claim
    for fact in (
        "deprecated",
        "Keras 3's keras.preprocessing.image has no",
        "tf.keras still",
        "2.16-2.21",
        "needs scipy",
        "fit_generator is gone",
    ):
        assert fact in header, fact


def test_legacy_snippet_runs_on_todays_tensorflow() -> None:
    # What the header claims, checked on the installed TensorFlow (2.16-2.21 keep the export).
    pytest.importorskip("scipy")  # ImageDataGenerator's affine transforms need it
    import keras
    import keras.preprocessing.image as keras_image

    assert not hasattr(keras_image, "ImageDataGenerator")  # gone from Keras 3's own namespace
    assert not hasattr(keras.Model, "fit_generator")
    namespace: dict = {}
    exec(to_code(LESSON_PRESET)["legacy"], namespace)  # noqa: S102 - our own generated code
    datagen = namespace["datagen"]
    x = np.random.default_rng(0).random((8, 32, 32, 3)).astype("float32")
    y = keras.utils.to_categorical(np.arange(8) % 10, 10)
    batch, _ = next(datagen.flow(x, y, batch_size=8, shuffle=False))
    assert batch.shape == x.shape and not np.allclose(batch, x)  # it really augments
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("rmsprop", "categorical_crossentropy")
    history = model.fit(datagen.flow(x, y, batch_size=4), epochs=1, verbose=0)  # as it says
    assert len(history.history["loss"]) == 1


def test_to_code_with_identity_settings() -> None:
    code = to_code(AugmentParams())
    assert "ImageDataGenerator()" in code["legacy"]
    assert "keras.Sequential([]" in code["keras3"]
    compile(code["keras3"], "<keras3>", "exec")


def test_label_warnings() -> None:
    assert label_warnings(LESSON_PRESET) == []
    (flip,) = label_warnings(AugmentParams(vertical_flip=True))
    assert "upside down" in flip and "almost never upside down" in flip  # not "never": some are
    assert len(label_warnings(AugmentParams(width_shift_range=0.4, height_shift_range=12))) == 2
    assert label_warnings(AugmentParams(width_shift_range=10)) == []  # 10 px is the limit
    assert label_warnings(AugmentParams(rotation_range=120))
    assert any("Zooming out" in w for w in label_warnings(AugmentParams(zoom_range=(0.9, 1.8))))
    assert any("Zooming in" in w for w in label_warnings(AugmentParams(zoom_range=(0.4, 1.0))))
    assert label_warnings(AugmentParams(shear_range=40))
    assert label_warnings(AugmentParams(brightness_range=(0.1, 1.0)))


def test_describe_params_covers_every_setting() -> None:
    rows = describe_params()
    assert [row["name"] for row in rows] == list(AugmentParams.__dataclass_fields__)
    for row in rows:
        assert row["default"] == getattr(AugmentParams(), row["name"])
        assert row["help"] and row["label"]
        if row["kind"] == "slider":
            assert row["min"] <= row["default"] <= row["max"] and row["step"] > 0
            assert AUGMENT_LIMITS[row["name"]] == (row["min"], row["max"], row["step"])
        # The suggested value is valid for AugmentParams.
        AugmentParams(**{row["name"]: row["suggested"]})
    assert next(r for r in rows if r["kind"] == "select")["options"] == FILL_MODES


def test_import_stays_cheap_without_tensorflow() -> None:
    code = (
        "import sys, cifar_core.augmentation, cifar_core.images\n"
        "assert 'tensorflow' not in sys.modules"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env=env, timeout=60)


# --- TensorFlow: training pipeline = preview -------------------------------------------------


def random_transforms(params: AugmentParams, count: int, seed: int) -> list[Transform]:
    rng = np.random.default_rng(seed)
    return [random_transform(params, rng) for _ in range(count)]


@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_tf_matches_preview_for_random_transforms(noise_batch: np.ndarray, fill_mode: str) -> None:
    params = AugmentParams(
        rotation_range=60,
        width_shift_range=0.3,
        height_shift_range=0.3,
        shear_range=20,
        zoom_range=(0.5, 1.8),
        horizontal_flip=True,
        vertical_flip=True,
        fill_mode=fill_mode,
        cval=77,
        brightness_range=(0.5, 1.5),
    )
    transforms = random_transforms(params, 8, seed=5)
    preview = np.stack(
        [
            apply_transform(im, t, fill_mode, 77)
            for im, t in zip(noise_batch, transforms, strict=True)
        ]
    )
    training = apply_transforms_tf(noise_batch, transforms, fill_mode, 77).numpy()
    assert np.abs(preview - training).max() <= 1e-5  # measured: 0


@pytest.mark.parametrize(
    "transform",
    [
        Transform(shift_x_px=3),
        Transform(shift_y_px=-2.5),
        Transform(rotation_deg=90),
        Transform(rotation_deg=-30, zoom_x=1.3, zoom_y=0.7),
        Transform(shear_deg=20, flip_horizontal=True),
        Transform(zoom_x=2, zoom_y=2, flip_vertical=True, brightness=1.4),
    ],
)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_tf_matches_preview_on_uint8(noise: np.ndarray, transform: Transform, fill_mode: str):
    preview = apply_transform(noise, transform, fill_mode, cval=128) / 255
    training = apply_transforms_tf(noise[None] / 255, [transform], fill_mode, 128).numpy()[0]
    assert np.abs(preview - training).max() <= PIXEL_TOLERANCE / 2  # uint8 rounding only


def test_tf_identity_and_bad_input(noise_batch: np.ndarray) -> None:
    same = apply_transforms_tf(noise_batch, [IDENTITY] * 8).numpy()
    np.testing.assert_array_equal(same, noise_batch)
    with pytest.raises(ValueError, match="2 transforms for 8 images"):
        apply_transforms_tf(noise_batch, [IDENTITY] * 2)


def test_make_tf_augment_inside_tf_data(noise_batch: np.ndarray) -> None:
    import tensorflow as tf

    def run(params: AugmentParams, seed: int) -> np.ndarray:
        augment = make_tf_augment(params, seed)
        labels = np.arange(16)
        ds = tf.data.Dataset.from_tensor_slices((np.concatenate([noise_batch] * 2), labels))
        ds = ds.batch(5).map(lambda x, y: (augment(x), y))  # 5, 5, 5, 1: a ragged last batch
        return np.concatenate([x.numpy() for x, _ in ds])

    inputs = np.concatenate([noise_batch] * 2)
    out = run(LESSON_PRESET, seed=1)
    assert out.shape == inputs.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert all(not np.allclose(a, b) for a, b in zip(out, inputs, strict=True))
    np.testing.assert_array_equal(out, run(LESSON_PRESET, seed=1))  # same seed, same batches
    np.testing.assert_array_equal(run(AugmentParams(), seed=1), inputs)


def test_training_draws_new_transforms_not_the_ones_previewed(noise_batch: np.ndarray) -> None:
    # Same settings and maths as the lab, but training draws its own random transforms, new for
    # every batch (every epoch): none of its images is one of the five variants shown.
    preview = preview_grid(noise_batch, LESSON_PRESET, seed=0)  # (8, 5, 32, 32, 3)
    augment = make_tf_augment(LESSON_PRESET, seed=0)
    epoch_1, epoch_2 = augment(noise_batch).numpy(), augment(noise_batch).numpy()
    for i in range(len(noise_batch)):
        for trained in (epoch_1[i], epoch_2[i]):
            assert not any(np.allclose(trained, shown, atol=1e-3) for shown in preview[i])
        assert not np.allclose(epoch_1[i], epoch_2[i], atol=1e-3)


def test_make_tf_augment_draws_like_the_preview(noise_batch: np.ndarray) -> None:
    # Flip-only settings: every output is the image or its mirror, about half of each.
    augment = make_tf_augment(AugmentParams(horizontal_flip=True), seed=0)
    images = np.concatenate([noise_batch] * 8)  # 64 images
    out = augment(images).numpy()
    flipped = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, images, strict=True)]
    kept = [np.array_equal(o, i) for o, i in zip(out, images, strict=True)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 16 <= sum(flipped) <= 48


def test_keras3_snippet_runs_on_keras() -> None:
    import keras

    assert hasattr(keras.layers, "RandomShear")  # the snippet relies on it (Keras >= 3.x)
    params = AugmentParams(
        rotation_range=20,
        width_shift_range=3,
        shear_range=10,
        zoom_range=0.1,
        horizontal_flip=True,
        fill_mode="constant",
        cval=128,
        brightness_range=(0.8, 1.2),
    )
    namespace: dict = {}
    exec(to_code(params)["keras3"], namespace)  # noqa: S102 - our own generated code
    batch = np.random.default_rng(0).random((4, 32, 32, 3)).astype("float32")
    out = np.asarray(namespace["augment"](batch, training=True))
    assert out.shape == batch.shape


# --- real CIFAR-10 images --------------------------------------------------------------------


def test_real_cifar_images_preview_equals_training(
    cifar_sample_images: tuple[np.ndarray, np.ndarray],
) -> None:
    images, labels = cifar_sample_images
    assert images.shape == (16, 32, 32, 3) and labels.min() >= 0 and labels.max() <= 9
    transforms = random_transforms(LESSON_PRESET, 16, seed=11)
    preview = np.stack([apply_transform(im, t) for im, t in zip(images, transforms, strict=True)])
    training = apply_transforms_tf(images / 255, transforms).numpy()
    assert np.abs(preview / 255 - training).max() <= PIXEL_TOLERANCE / 2
    # The lesson's settings keep the picture recognisable: most pixels stay close on average.
    assert np.abs(preview.astype(int) - images).mean() < 60
    grid = preview_grid(images[:8], LESSON_PRESET, seed=0)
    assert grid.shape == (8, 5, 32, 32, 3) and grid.dtype == np.uint8
