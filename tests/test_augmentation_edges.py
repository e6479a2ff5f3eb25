"""Edge cases of the augmentation settings and transforms: exact messages, limits, defaults."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

from cifar_core.augmentation import (
    AugmentParams,
    Transform,
    apply_transform,
    augment_batch_numpy,
    preview_grid,
    random_transform,
)
from cifar_core.augmentation.params import LESSON_PRESET
from cifar_core.augmentation.pipeline import apply_transforms_tf, make_tf_augment

ALLOWED = (
    "rotation_range, width_shift_range, height_shift_range, shear_range, zoom_range, "
    "horizontal_flip, vertical_flip, fill_mode, cval, brightness_range"
)


@pytest.fixture(scope="module")
def real_images(sample_data) -> np.ndarray:
    """Eight real CIFAR-10 test images, uint8 (8, 32, 32, 3)."""
    return sample_data.x_test[:8]


# --- AugmentParams: what a student (or a settings file) is told -----------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([("rotation_range", 40)], "Augmentation settings must be a dict, got list"),
        ('{"rotation_range": 40}', "Augmentation settings must be a dict, got str"),
        (
            {"zoom": 0.2, "rotaton_range": 40, "fill_mode": "nearest"},
            f"Unknown augmentation setting(s): rotaton_range, zoom. Allowed: {ALLOWED}",
        ),
    ],
)
def test_from_dict_messages_name_the_problem_and_the_allowed_keys(data, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        AugmentParams.from_dict(data)


SHIFT_RULE = "(below 1: a fraction of the image size, 0.2 = 20 %; from 1 up: pixels)"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        # The whole message: which setting, what is allowed, and the value as typed, even when
        # it came as a numpy scalar from a slider.
        (
            {"rotation_range": np.float64(200.0)},
            "rotation_range must be between 0 and 180 degrees, got 200",
        ),
        ({"shear_range": np.int64(-3)}, "shear_range must be between 0 and 45 degrees, got -3"),
        ({"shear_range": 60}, "shear_range must be between 0 and 45 degrees, got 60"),
        (
            {"width_shift_range": -0.1},
            f"width_shift_range must be between 0 and 32 {SHIFT_RULE}, got -0.1",
        ),
        (
            {"height_shift_range": 40},
            f"height_shift_range must be between 0 and 32 {SHIFT_RULE}, got 40",
        ),
        ({"cval": 255.5}, "cval must be between 0 and 255 (a pixel value), got 255.5"),
        (
            {"zoom_range": 1.5},
            "zoom_range as one number must be at least 0 and below 1 (0.2 zooms by a scale "
            "between 0.8 and 1.2), got 1.5; use a (low, high) pair for other scales",
        ),
        (
            {"zoom_range": (0.5, 2.5)},
            "zoom_range as a (low, high) pair needs 0 < low <= high <= 2 "
            "(1 = unchanged, below 1 zooms in), got (0.5, 2.5)",
        ),
        (
            {"brightness_range": (-1, 1)},
            "brightness_range needs 0 <= low <= high <= 3 (1 = unchanged, 0 = black), "
            "or None for no change, got (-1, 1)",
        ),
        ({"zoom_range": "0.2"}, "zoom_range must be a number, got '0.2'"),
        ({"zoom_range": ("a", 1.0)}, "zoom_range must be a number, got 'a'"),
        (
            {"zoom_range": (0.5, 1, 2)},
            "zoom_range must be a (low, high) pair of numbers, got (0.5, 1, 2)",
        ),
        (
            {"brightness_range": 1.2},
            "brightness_range must be a (low, high) pair of numbers, got 1.2",
        ),
        ({"brightness_range": (0.5, None)}, "brightness_range must be a number, got None"),
        ({"rotation_range": True}, "rotation_range must be a number, got True"),
        ({"rotation_range": float("inf")}, "rotation_range must be a finite number, got inf"),
        ({"vertical_flip": 1}, "vertical_flip must be True or False, got 1"),
        ({"horizontal_flip": "yes"}, "horizontal_flip must be True or False, got 'yes'"),
        (
            {"fill_mode": "mirror"},
            "fill_mode must be one of 'constant', 'nearest', 'reflect', 'wrap', got 'mirror'",
        ),
    ],
)
def test_invalid_settings_say_which_what_is_allowed_and_what_came(
    kwargs: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        AugmentParams(**kwargs)


@pytest.mark.parametrize(
    ("name", "given", "stored"),
    [
        ("rotation_range", np.int64(40), 40.0),
        ("width_shift_range", np.int64(4), 4.0),
        ("height_shift_range", np.float32(0.25), 0.25),
        ("shear_range", 12, 12.0),
        ("zoom_range", np.float64(0.5), 0.5),
        ("zoom_range", np.array([0.5, 1.5]), (0.5, 1.5)),
        ("horizontal_flip", np.bool_(True), True),
        ("vertical_flip", np.bool_(True), True),
        ("fill_mode", np.str_("reflect"), "reflect"),
        ("cval", np.uint8(128), 128.0),
        ("brightness_range", [np.float64(0.5), 1], (0.5, 1.0)),
    ],
)
def test_slider_values_are_stored_as_plain_python_values(name: str, given, stored) -> None:
    # Streamlit sliders and numpy hand over numpy scalars and lists; the settings keep plain
    # floats, bools and tuples, so they compare equal and the run's JSON file can be written.
    params = AugmentParams(**{name: given})
    value = getattr(params, name)
    assert value == stored and type(value) is type(stored)
    assert params == AugmentParams(**{name: stored})
    assert json.loads(json.dumps(params.to_dict()))[name] == (
        list(stored) if isinstance(stored, tuple) else stored
    )


def test_to_dict_writes_pairs_as_json_lists() -> None:
    data = AugmentParams(zoom_range=(0.7, 1.1), brightness_range=(0.8, 1.3)).to_dict()
    assert data["zoom_range"] == [0.7, 1.1] and data["brightness_range"] == [0.8, 1.3]
    assert AugmentParams().to_dict()["brightness_range"] is None


# --- drawing: one random_transform = one image of a batch -------------------------------------


def test_random_transform_takes_one_batch_row_of_draws(real_images: np.ndarray) -> None:
    # Drawing transforms one by one from a seeded generator gives the same pictures as drawing
    # them for a whole batch: each transform uses exactly its own row of draws.
    params = AugmentParams(rotation_range=30, width_shift_range=0.2, horizontal_flip=True)
    rng = np.random.default_rng(21)
    one_by_one = np.stack(
        [apply_transform(im, random_transform(params, rng)) for im in real_images]
    )
    batch = augment_batch_numpy(real_images, params, np.random.default_rng(21))
    np.testing.assert_array_equal(one_by_one, batch)


# --- the TensorFlow twin's defaults are the preview's ------------------------------------------


def test_training_defaults_match_the_preview_defaults(real_images: np.ndarray) -> None:
    # Called without fill_mode / cval, both paths fill with "nearest"; with "constant" and no
    # cval, both fill with black.
    t = Transform(shift_x_px=5, shift_y_px=-3, zoom_x=0.9)
    training = apply_transforms_tf(real_images[:2] / 255, [t, t]).numpy()
    for image, trained in zip(real_images[:2], training, strict=True):
        assert np.abs(apply_transform(image, t) / 255 - trained).max() <= 0.5 / 255 + 1e-6
    black = apply_transforms_tf(real_images[:1] / 255, [t], "constant").numpy()[0]
    assert (black[:, :3] == 0).all()
    np.testing.assert_array_equal(apply_transform(real_images[0], t, "constant")[:, :3], 0)
    assert LESSON_PRESET.fill_mode == "nearest"


@pytest.mark.parametrize(
    "transform",
    [
        # Each reads up to 2.5 picture widths away on one side (x < -64, x > 64, y < -64, y > 64):
        # the fill modes' repeat rules, far from the border.
        Transform(
            rotation_deg=-135, shear_deg=45, zoom_x=2, zoom_y=2, shift_x_px=-32, shift_y_px=32
        ),
        Transform(
            rotation_deg=-135, shear_deg=45, zoom_x=2, zoom_y=2, shift_x_px=32, shift_y_px=-32
        ),
        Transform(
            rotation_deg=-135, shear_deg=-45, zoom_x=2, zoom_y=2, shift_x_px=-32, shift_y_px=-32
        ),
        Transform(
            rotation_deg=-135, shear_deg=-45, zoom_x=2, zoom_y=2, shift_x_px=32, shift_y_px=32
        ),
        Transform(rotation_deg=180, shear_deg=-45, zoom_x=1.9, shift_y_px=31.5, brightness=3.0),
    ],
)
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect", "wrap"])
def test_preview_equals_training_far_outside_the_picture(
    real_images: np.ndarray, transform: Transform, fill_mode: str
) -> None:
    # TensorFlow's own kernel is the reference for the preview's fill rules (see _map_coordinates).
    floats = real_images[:3] / 255.0
    training = apply_transforms_tf(floats, [transform] * 3, fill_mode, cval=90).numpy()
    for image, trained in zip(floats, training, strict=True):
        preview = apply_transform(image, transform, fill_mode, cval=90)
        assert np.abs(preview - trained).max() < 1e-5


@pytest.mark.parametrize("shape", [(1, 32, 3), (32, 1, 3), (2, 2, 1), (2, 32, 3), (32, 2, 3)])
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect", "wrap"])
def test_tiny_pictures_follow_the_training_fill_rules(shape: tuple, fill_mode: str) -> None:
    # One- and two-pixel-wide strips: the repeat rules' smallest periods, and no numpy
    # warnings (a one-pixel side has nothing to reflect or wrap: the edge pixel repeats).
    image = np.random.default_rng(2).random(shape, dtype=np.float32)
    for transform in (
        Transform(shift_x_px=-2, shift_y_px=2.5),
        Transform(shift_x_px=3.3, shift_y_px=-2, zoom_x=1.5),
        Transform(rotation_deg=30, zoom_x=2, zoom_y=2),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            preview = apply_transform(image, transform, fill_mode, cval=50)
        trained = apply_transforms_tf(image[None], [transform], fill_mode, cval=50).numpy()[0]
        assert np.abs(preview - trained).max() < 1e-5


# --- shapes and dtypes the functions refuse, with a message that says what they expect ---------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: apply_transform(np.zeros((32, 32), np.uint8), Transform()),
            "Expected images of shape (H, W, C), got shape (32, 32)",
        ),
        (
            lambda: apply_transform(np.zeros((32, 32, 3), np.int64), Transform(rotation_deg=5)),
            "Expected uint8 or float images, got dtype int64",
        ),
        (
            lambda: augment_batch_numpy(
                np.zeros((32, 32, 3)), LESSON_PRESET, np.random.default_rng()
            ),
            "Expected images of shape (N, H, W, C), got shape (32, 32, 3)",
        ),
        (
            lambda: preview_grid(np.zeros((2, 32, 32, 3), bool), LESSON_PRESET, seed=0),
            "Expected uint8 or float images, got dtype bool",
        ),
        (
            lambda: apply_transforms_tf(np.zeros((32, 32, 3)), [Transform()] * 32),
            "Expected a batch of shape (B, H, W, C) with known H and W, got (32, 32, 3)",
        ),
        (
            lambda: apply_transform(np.zeros((8, 8, 1)), Transform(), fill_mode="REFLECT"),
            "fill_mode must be one of 'constant', 'nearest', 'reflect', 'wrap', got 'REFLECT'",
        ),
    ],
)
def test_bad_images_are_refused_with_the_expected_shape(call, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()


@pytest.mark.parametrize(
    "spec", [(None, None, 32, 3), (None, 32, None, 3)], ids=["height", "width"]
)
def test_training_augmentation_needs_a_known_picture_size(spec: tuple) -> None:
    # A tf.data pipeline of pictures of unknown size: the shift fractions cannot be turned into
    # pixels, so building the pipeline stops with a clear error instead of a wrong warp.
    import tensorflow as tf

    augment = make_tf_augment(LESSON_PRESET, seed=0)
    traced = tf.function(augment, input_signature=[tf.TensorSpec(spec, tf.float32)])
    with pytest.raises(ValueError, match=r"with known H and W, got \(None, "):
        traced.get_concrete_function()


def test_training_augmentation_always_returns_float32(real_images: np.ndarray) -> None:
    # Pixels scaled with numpy come as float64; training gets float32 either way.
    floats = real_images[:4] / 255.0
    for params in (AugmentParams(), LESSON_PRESET):
        out = make_tf_augment(params, seed=3)(floats)
        assert out.dtype.name == "float32" and out.shape == floats.shape
    np.testing.assert_array_equal(
        make_tf_augment(AugmentParams(), 3)(floats).numpy(), floats.astype(np.float32)
    )


# --- settings at their limits: accepted, and drawn as documented -------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rotation_range": 180},
        {"rotation_range": 0},
        {"width_shift_range": 32},
        {"height_shift_range": 32.0},
        {"shear_range": 45},
        {"cval": 255},
        {"cval": 0},
        {"zoom_range": 0.0},
        {"zoom_range": 0.99},
        {"zoom_range": (2.0, 2.0)},
        {"zoom_range": (0.01, 0.01)},
        {"brightness_range": (0.0, 0.0)},
        {"brightness_range": (3.0, 3.0)},
    ],
)
def test_settings_at_their_limits_are_accepted(kwargs: dict) -> None:
    ((name, value),) = kwargs.items()
    got = getattr(AugmentParams(**kwargs), name)
    assert got == (tuple(value) if isinstance(value, tuple) else float(value))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rotation_range": 180.001}, "between 0 and 180 degrees"),
        ({"zoom_range": 1.0}, "below 1"),
        ({"zoom_range": (0.5, 2.001)}, "0 < low <= high <= 2"),
        ({"zoom_range": (0.0, 1.0)}, "0 < low <= high <= 2"),
        ({"brightness_range": (-0.001, 1.0)}, "0 <= low <= high <= 3"),
        ({"brightness_range": (1.0, 3.001)}, "0 <= low <= high <= 3"),
        ({"width_shift_range": 32.5}, "between 0 and 32"),
    ],
)
def test_settings_just_past_their_limits_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        AugmentParams(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rotation_range": 1},
        {"width_shift_range": 0.05},
        {"height_shift_range": 0.05},
        {"shear_range": 1},
        {"zoom_range": 0.05},
        {"zoom_range": (1.0, 1.1)},
        {"zoom_range": (0.9, 1.0)},
        {"horizontal_flip": True},
        {"vertical_flip": True},
        {"brightness_range": (1.0, 1.2)},
        {"brightness_range": (0.8, 1.0)},
    ],
)
def test_any_one_active_setting_is_not_the_identity(kwargs: dict) -> None:
    params = AugmentParams(**kwargs)
    assert not params.is_identity
    images = np.random.default_rng(0).random((64, 32, 32, 3), dtype=np.float32)
    assert not np.array_equal(augment_batch_numpy(images, params, np.random.default_rng(1)), images)


def test_shift_of_exactly_one_is_one_pixel_and_height_uses_the_height() -> None:
    # From 1 up a shift range counts pixels (1 = one pixel, not the whole width); fractions of
    # the height use the picture's height, not its width.
    rng = np.random.default_rng(0)
    one = [random_transform(AugmentParams(width_shift_range=1), rng) for _ in range(300)]
    assert 0.95 < max(abs(t.shift_x_px) for t in one) <= 1.0
    tall = [
        random_transform(AugmentParams(height_shift_range=0.5), rng, (10, 100, 3))
        for _ in range(300)
    ]
    assert 4.5 < max(abs(t.shift_y_px) for t in tall) <= 5.0


# --- pictures that are not square, and float64 pixels ----------------------------------------


def test_training_on_wide_pictures_uses_each_side(real_images: np.ndarray) -> None:
    # A 16 x 48 crop: the training augmentation draws shifts as fractions of the height and of
    # the width respectively, and turns about the crop's own centre, as the preview does.
    import tensorflow as tf

    params = AugmentParams(
        rotation_range=30, width_shift_range=0.25, height_shift_range=0.5, zoom_range=0.2
    )
    wide = np.concatenate([real_images[:6, 8:24]] * 3, axis=2)[:, :, :48] / 255.0  # (6, 16, 48, 3)
    out = make_tf_augment(params, seed=4)(wide).numpy()
    u = tf.random.Generator.from_seed(4).uniform((6, 9), dtype=tf.float32).numpy().astype(float)
    expected = [
        Transform(
            rotation_deg=30 * (2 * d[0] - 1),
            shift_x_px=0.25 * 48 * (2 * d[1] - 1),
            shift_y_px=0.5 * 16 * (2 * d[2] - 1),
            zoom_x=0.8 + 0.4 * d[4],
            zoom_y=0.8 + 0.4 * d[5],
        )
        for d in u
    ]
    for image, augmented, transform in zip(wide, out, expected, strict=True):
        assert np.abs(apply_transform(image, transform) - augmented).max() < 1e-4


def test_float64_pixels_keep_their_precision_through_whole_pixel_moves() -> None:
    # A float64 picture flipped or moved by whole pixels is only rearranged: no float32 rounding.
    image = np.random.default_rng(3).random((32, 32, 3))  # float64, full 53-bit precision
    np.testing.assert_array_equal(
        apply_transform(image, Transform(flip_horizontal=True, flip_vertical=True)),
        image[::-1, ::-1],
    )
    moved = apply_transform(image, Transform(shift_x_px=2, shift_y_px=-1))
    np.testing.assert_array_equal(moved[:-1, 2:], image[1:, :-2])
    assert moved.dtype == np.float64


def test_augmented_batches_keep_their_static_picture_size():
    # In a tf.data pipeline the batch size is unknown; height, width and channels must stay
    # known after augmentation (the model's Flatten needs them).
    import tensorflow as tf

    from cifar_core.augmentation.params import LESSON_PRESET
    from cifar_core.augmentation.pipeline import make_tf_augment

    augment = make_tf_augment(LESSON_PRESET, seed=3)
    ds = tf.data.Dataset.from_tensor_slices(tf.zeros((8, 32, 32, 3))).batch(4).map(augment)
    assert ds.element_spec.shape.as_list() == [None, 32, 32, 3]
