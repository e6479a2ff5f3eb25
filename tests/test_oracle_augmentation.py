"""The app's augmentation geometry against an independent oracle: the legacy ImageDataGenerator.

tests/test_augmentation.py checks "preview = training", but both paths share the affine formula
(_affine_coefficients), so a wrong sign in it passes there. Here every result is compared with
what the deprecated `tensorflow.keras.preprocessing.image.ImageDataGenerator` (still exported by
TF 2.21, with scipy doing the warp) computes for the same transform, on real CIFAR-10 images and
many random parameter draws: the numpy preview (apply_transform), the TensorFlow twin
(apply_transforms_tf) and the in-graph training augmentation (make_tf_augment).

How a concrete Transform maps onto the legacy `apply_transform(x, transform_parameters)` dict
(see `legacy_params`), and where the app differs from the legacy class on purpose:

* `theta`, `shear`, `zx`, `zy`, `flip_horizontal`, `flip_vertical`, `brightness`: same meaning.
* `tx`, `ty` are the offsets of the point that is *read*: `tx = +3` moves the content 3 px
  LEFT. Transform.shift_x_px / shift_y_px say where the content goes (+ = right / down), so
  `tx = -shift_x_px`, `ty = -shift_y_px` (test_legacy_conventions pins this down).
* In the legacy class `tx` (sideways) is drawn from height_shift_range and `ty` (up/down) from
  width_shift_range (tensorflow issue #82838). The app follows the names: width_shift_range
  moves sideways. test_legacy_shift_ranges_are_swapped_on_purpose documents the quirk; the
  make_tf_augment oracle uses the app's (named) convention with unequal ranges.
* fill_mode "constant": scipy's "constant" (the legacy default path) jumps to cval as soon as
  a read point leaves the picture; TensorFlow and the app blend cval with the edge pixel over a
  one-pixel band. That is exactly scipy's "grid-constant", which the legacy class passes
  straight to scipy: the whole picture is compared against it, and against "constant" where
  every read stays inside the picture.
* fill_mode "wrap": TensorFlow's (and the app's) wrap repeats with period = size and does not
  blend across the seam; scipy's "wrap" overlaps the first and last pixel. Compared where every
  read stays inside the picture.
* brightness: the legacy class goes through an 8-bit PIL image (ImageEnhance.Brightness); the
  app multiplies and clips. They agree to one grey level on uint8 pixels.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from cifar_core import augmentation as aug
from cifar_core.augmentation import AugmentParams, Transform, apply_transform
from cifar_core.augmentation.params import LESSON_PRESET
from cifar_core.augmentation.pipeline import apply_transforms_tf, make_tf_augment

# Grey levels on the 0-255 scale. apply_transform's docstring claims agreement with the legacy
# class to 0.001 of a grey level for "nearest" and "reflect"; measured on real CIFAR-10 images:
# at most ~0.0007 (float32 coordinates), mean ~2e-5. A wrong sign moves pixels by tens of levels.
MAX_TOLERANCE = 0.01
MEAN_TOLERANCE = 0.001
DRAWS = 150  # random transforms per fill mode

# The legacy fill mode that computes what the app's fill mode computes on the whole picture.
EXACT_LEGACY_MODE = {"nearest": "nearest", "reflect": "reflect", "constant": "grid-constant"}


@pytest.fixture(scope="module")
def idg():
    """The legacy class, the independent oracle (deprecated, needs scipy)."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    return ImageDataGenerator


@pytest.fixture(scope="module")
def real_images(sample_data) -> np.ndarray:
    """Real CIFAR-10 test images, uint8 (N, 32, 32, 3)."""
    return sample_data.x_test


def legacy_params(t: Transform) -> dict:
    """A Transform as the legacy apply_transform's transform_parameters (see module docstring)."""
    return {
        "theta": t.rotation_deg,
        "tx": -t.shift_x_px,  # legacy tx: horizontal offset of the read point (content left)
        "ty": -t.shift_y_px,  # legacy ty: vertical offset of the read point (content up)
        "shear": t.shear_deg,
        "zx": t.zoom_x,
        "zy": t.zoom_y,
        "flip_horizontal": t.flip_horizontal,
        "flip_vertical": t.flip_vertical,
        "brightness": None if t.brightness == 1.0 else t.brightness,
    }


def legacy_apply(idg, image: np.ndarray, t: Transform, fill_mode: str, cval: float = 0.0):
    """The legacy class's result for one image; float images stay on their own scale."""
    generator = idg(fill_mode=fill_mode, cval=cval)
    return generator.apply_transform(image.copy(), legacy_params(t))


def inside_mask(idg, t: Transform) -> np.ndarray:
    """Output pixels whose bilinear reads all fall inside the picture, as the legacy class sees.

    Computed by the oracle itself: warp an all-ones picture with cval = 0 ("constant").
    """
    ones = np.ones((32, 32, 1), np.float64)
    warped = legacy_apply(idg, ones, dataclasses.replace(t, brightness=1.0), "constant")
    return warped[..., 0] > 1 - 1e-9


def draw_transform(rng: np.random.Generator) -> Transform:
    """Every geometric parameter at once, well beyond the lesson's ranges; flips half the time.

    Brightness stays 1: it is a per-pixel step after the warp, compared on its own below.
    """
    return Transform(
        rotation_deg=rng.uniform(-180, 180),
        shift_x_px=rng.uniform(-12, 12),
        shift_y_px=rng.uniform(-12, 12),
        shear_deg=rng.uniform(-45, 45),
        zoom_x=rng.uniform(0.5, 1.6),
        zoom_y=rng.uniform(0.5, 1.6),
        flip_horizontal=bool(rng.random() < 0.5),
        flip_vertical=bool(rng.random() < 0.5),
    )


def preview_vs_legacy(idg, images, fill_mode, cval, seed, count=DRAWS, mask=False):
    """Per draw: max and mean |preview - legacy| in grey levels (float64 pixels), and the
    fraction of the picture compared (1 unless mask)."""
    rng = np.random.default_rng(seed)
    legacy_mode = EXACT_LEGACY_MODE.get(fill_mode, fill_mode) if not mask else fill_mode
    diffs = []
    for _ in range(count):
        t = draw_transform(rng)
        image = images[rng.integers(len(images))].astype(np.float64)
        ours = apply_transform(image / 255.0, t, fill_mode, cval) * 255.0  # float: [0, 1]
        ref = legacy_apply(idg, image, t, legacy_mode, cval)  # legacy: pixels as given, 0-255
        diff = np.abs(ours - ref)
        if mask:
            diff = diff[inside_mask(idg, t)]
        diffs.append(
            (diff.max(initial=0.0), diff.mean() if diff.size else 0.0, diff.size / ref.size)
        )
    return np.array(diffs)


# --- the oracle's own conventions ------------------------------------------------------------


def test_legacy_conventions(idg, real_images: np.ndarray) -> None:
    """Pins down how the legacy dict reads, independently of the app's code."""
    image = real_images[0].astype(np.float64)
    gen = idg(fill_mode="nearest")
    left = gen.apply_transform(image.copy(), {"tx": 3})
    np.testing.assert_allclose(left[:, :-3], image[:, 3:], atol=1e-9)  # tx = +3: content left
    up = gen.apply_transform(image.copy(), {"ty": 3})
    np.testing.assert_allclose(up[:-3], image[3:], atol=1e-9)  # ty = +3: content up
    turned = gen.apply_transform(image.copy(), {"theta": 90})
    np.testing.assert_allclose(turned, np.rot90(image), atol=1e-9)  # counter-clockwise
    # Shear slants and stretches rows by 1/cos: the sign decides which way the top goes.
    ramp = np.tile(np.arange(32.0)[None, :, None], (32, 1, 1))  # value = column
    sheared = gen.apply_transform(ramp, {"shear": 20})
    assert sheared[5, 16, 0] > sheared[26, 16, 0]  # positive shear: top reads further right


def test_legacy_shift_ranges_are_swapped_on_purpose(idg) -> None:
    """tensorflow issue #82838: the legacy width_shift_range moves the picture up/down.

    The app's width_shift_range moves sideways, as named (random_transform's docstring);
    this documents the difference, it is not something to copy.
    """
    only_width = idg(width_shift_range=0.25).get_random_transform((32, 32, 3), seed=1)
    only_height = idg(height_shift_range=0.25).get_random_transform((32, 32, 3), seed=1)
    assert only_width["tx"] == 0 and only_width["ty"] != 0  # ty: vertical
    assert only_height["ty"] == 0 and only_height["tx"] != 0  # tx: horizontal
    rng = np.random.default_rng(1)
    ours = aug.random_transform(AugmentParams(width_shift_range=0.25), rng)
    assert ours.shift_x_px != 0 and ours.shift_y_px == 0


# --- numpy: the preview ----------------------------------------------------------------------


@pytest.mark.parametrize("fill_mode", ["nearest", "reflect", "constant"])
def test_preview_matches_legacy_on_real_images(idg, real_images, fill_mode: str) -> None:
    diffs = preview_vs_legacy(idg, real_images, fill_mode, cval=100.0, seed=1)
    assert diffs[:, 0].max() < MAX_TOLERANCE, f"worst draw differs by {diffs[:, 0].max():.4f}"
    assert diffs[:, 1].mean() < MEAN_TOLERANCE


@pytest.mark.parametrize("fill_mode", ["constant", "wrap"])
def test_preview_matches_legacy_wherever_reads_stay_inside(idg, real_images, fill_mode) -> None:
    # The legacy class's own "constant" and "wrap" (scipy's) differ at the border on purpose
    # (module docstring); everywhere the picture itself is read, the pixels must agree.
    diffs = preview_vs_legacy(idg, real_images, fill_mode, cval=200.0, seed=2, mask=True)
    assert diffs[:, 0].max() < MAX_TOLERANCE
    assert diffs[:, 2].mean() > 0.3  # a good part of every picture is compared


def test_uint8_preview_matches_legacy_to_one_grey_level(idg, real_images) -> None:
    # The Augmentation lab shows uint8 pictures; scipy rounds its uint8 output too.
    rng = np.random.default_rng(3)
    for _ in range(60):
        t = draw_transform(rng)
        image = real_images[rng.integers(len(real_images))]
        ours = apply_transform(image, t, "nearest").astype(int)
        ref = legacy_apply(idg, image, t, "nearest").astype(int)
        assert np.abs(ours - ref).max() <= 1


def test_brightness_and_flips_match_legacy(idg, real_images) -> None:
    rng = np.random.default_rng(4)
    for i in range(40):
        t = Transform(
            brightness=rng.uniform(0.2, 2.5),
            flip_horizontal=bool(i % 2),
            flip_vertical=bool(i // 2 % 2),
        )
        image = real_images[i]
        ours = apply_transform(image, t).astype(float)
        ref = legacy_apply(idg, image.astype(np.float64), t, "nearest")  # via PIL, 8-bit
        assert np.abs(ours - ref).max() <= 1.0


# --- TensorFlow: the training pipeline -------------------------------------------------------


@pytest.mark.parametrize("fill_mode", ["nearest", "reflect", "constant"])
def test_training_transform_matches_legacy_on_real_images(idg, real_images, fill_mode) -> None:
    rng = np.random.default_rng(5)
    transforms = [draw_transform(rng) for _ in range(64)]
    images = real_images[rng.choice(len(real_images), 64, replace=False)]
    out = apply_transforms_tf(images / 255.0, transforms, fill_mode, cval=100.0).numpy() * 255
    diffs = [
        np.abs(o - legacy_apply(idg, im.astype(np.float64), t, EXACT_LEGACY_MODE[fill_mode], 100.0))
        for o, im, t in zip(out, images, transforms, strict=True)
    ]
    assert max(d.max() for d in diffs) < MAX_TOLERANCE
    assert np.mean([d.mean() for d in diffs]) < MEAN_TOLERANCE


def legacy_laws(params: AugmentParams, draws: np.ndarray, size: int = 32) -> list[Transform]:
    """Transforms from uniform draws in [0, 1) with get_random_transform's laws.

    Written from the legacy class's documentation, not from the app's code: each of the nine
    columns (one per Transform field, in field order: the app's documented draw layout, one
    generator.uniform((B, 9)) per batch) is turned into uniform [-r, r] angles/shifts, a zoom
    in the legacy class's own zoom bounds, a flip with p = 0.5. The shift ranges follow the
    app's names (width → horizontal), not the legacy quirk.
    """
    zoom_low, zoom_high = (float(z) for z in _idg_zoom_range(params.zoom_range))

    def pixels(shift_range: float) -> float:
        return shift_range * size if shift_range < 1 else shift_range

    def symmetric(limit: float, u: float) -> float:
        return limit * (2 * u - 1)

    return [
        Transform(
            rotation_deg=symmetric(params.rotation_range, d[0]),
            shift_x_px=symmetric(pixels(params.width_shift_range), d[1]),
            shift_y_px=symmetric(pixels(params.height_shift_range), d[2]),
            shear_deg=symmetric(params.shear_range, d[3]),
            zoom_x=zoom_low + (zoom_high - zoom_low) * d[4],
            zoom_y=zoom_low + (zoom_high - zoom_low) * d[5],
            flip_horizontal=bool(params.horizontal_flip and d[6] < 0.5),
            flip_vertical=bool(params.vertical_flip and d[7] < 0.5),
        )
        for d in draws.astype(np.float64)
    ]


def _idg_zoom_range(zoom_range) -> list[float]:
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    return ImageDataGenerator(zoom_range=zoom_range).zoom_range  # the legacy parsing


TRAINING_PARAMS = [
    pytest.param(LESSON_PRESET, id="lesson"),
    pytest.param(
        AugmentParams(
            rotation_range=120,
            width_shift_range=0.3,
            height_shift_range=2.0,  # pixels, and unequal to the width range: catches a swap
            shear_range=35,
            zoom_range=(0.6, 1.5),
            horizontal_flip=True,
            vertical_flip=True,
            fill_mode="constant",
            cval=180,
        ),
        id="everything",
    ),
]


@pytest.mark.parametrize("params", TRAINING_PARAMS)
def test_make_tf_augment_matches_legacy_for_its_draws(idg, real_images, params) -> None:
    """The in-graph training augmentation, random draws and all, against the oracle."""
    import tensorflow as tf

    seed, batch = 12, 48
    augment = make_tf_augment(params, seed=seed)
    mirror = tf.random.Generator.from_seed(seed)  # replays the augmentation's generator
    legacy_mode = EXACT_LEGACY_MODE[params.fill_mode]
    worst = []
    for start in (0, batch):  # two batches: the second takes the generator's next draws
        images = real_images[start : start + batch]
        out = augment(images / 255.0).numpy() * 255
        draws = mirror.uniform((batch, 9), dtype=tf.float32).numpy()
        for o, im, t in zip(out, images, legacy_laws(params, draws), strict=True):
            ref = legacy_apply(idg, im.astype(np.float64), t, legacy_mode, params.cval)
            worst.append(np.abs(o - ref).max())
    assert max(worst) < MAX_TOLERANCE, f"worst image differs by {max(worst):.3f} grey levels"


# --- the oracle catches the bugs the shared-formula tests missed ------------------------------


def _shear_sign_flipped(original):
    def coefficients(t, height, width, cos, sin):
        return original(t._replace(shear_deg=-t.shear_deg), height, width, cos, sin)

    return coefficients


def _rotated_shift_sign_wrong(original):
    def coefficients(t, height, width, cos, sin):
        a0, a1, a2, b0, b1, b2 = original(t, height, width, cos, sin)
        theta = t.rotation_deg * (math.pi / 180.0)
        # a2's "- sin θ · ty" term (ty = -shift_y) written with a + sign
        return a0, a1, a2 + 2 * sin(theta) * -t.shift_y_px, b0, b1, b2

    return coefficients


@pytest.mark.parametrize("mutate", [_shear_sign_flipped, _rotated_shift_sign_wrong])
def test_oracle_catches_a_wrong_sign_that_preview_equals_training_misses(
    idg, real_images, monkeypatch, mutate
) -> None:
    # The mutant is shared by preview and training (they still agree), yet the oracle sees it.
    monkeypatch.setattr(aug, "_affine_coefficients", mutate(aug._affine_coefficients))
    rng = np.random.default_rng(6)
    t = draw_transform(rng)
    assert np.allclose(
        apply_transform(real_images[0] / 255.0, t),
        apply_transforms_tf(real_images[:1] / 255.0, [t]).numpy()[0],
        atol=1e-5,
    )
    diffs = preview_vs_legacy(idg, real_images, "nearest", 0.0, seed=7, count=30)
    assert np.median(diffs[:, 0]) > 10  # tens of grey levels, far beyond MAX_TOLERANCE
