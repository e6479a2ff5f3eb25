"""Augmentation code for students: the matching legacy ImageDataGenerator and Keras 3 snippets."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from cifar_core.augmentation.params import AugmentParams
from cifar_core.constants import CIFAR_SIZE


def _fmt(value: float) -> str:
    # 40.0 → "40", 0.2 → "0.2", 0.123456 → "0.1235": short literals for code snippets.
    value = round(float(value), 4)
    return str(int(value)) if value == int(value) else repr(value)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return f"({_fmt(value[0])}, {_fmt(value[1])})"
    return _fmt(value)


def _legacy_snippet(params: AugmentParams) -> str:
    defaults = AugmentParams()
    args = [
        f"    {field.name}={_literal(getattr(params, field.name))},"
        for field in dataclasses.fields(AugmentParams)
        if getattr(params, field.name) != getattr(defaults, field.name)
    ]
    lines = [
        "# The classic lesson's way, now deprecated: Keras 3's keras.preprocessing.image has no",
        "# ImageDataGenerator, but tf.keras still exports it (TensorFlow 2.16-2.21; needs scipy).",
        "# Train with model.fit(datagen.flow(x_train, y_train)): fit_generator is gone.",
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator",
        "",
    ]
    if params.cval != 0 and params.fill_mode == "constant":
        lines.append("# cval is in the scale of your pixels: use cval / 255 on pixels in [0, 1].")
    if args:
        lines += ["datagen = ImageDataGenerator(", *args, ")"]
    else:
        lines.append("datagen = ImageDataGenerator()  # every setting at its default")
    return "\n".join(lines) + "\n"


def _shift_fraction(shift_range: float) -> float:
    # RandomTranslation only takes fractions (at most 1): pixels are divided by 32.
    return shift_range if shift_range < 1 else min(shift_range / CIFAR_SIZE, 1.0)


def _rotation_layer(params: AugmentParams, fill: str) -> list[str]:
    if not params.rotation_range:
        return []
    deg = _fmt(params.rotation_range)
    return [
        f"# a fraction of a full turn: {deg} / 360 = up to {deg} degrees either way",
        f"layers.RandomRotation({deg} / 360, {fill}),",
    ]


def _translation_layer(params: AugmentParams, fill: str) -> list[str]:
    if not (params.width_shift_range or params.height_shift_range):
        return []
    height = _fmt(_shift_fraction(params.height_shift_range))
    width = _fmt(_shift_fraction(params.width_shift_range))
    in_pixels = max(params.width_shift_range, params.height_shift_range) >= 1
    return [
        "# (height_factor, width_factor) as fractions of the image size"
        + (": pixels / 32" if in_pixels else ""),
        f"layers.RandomTranslation({height}, {width}, {fill}),",
    ]


def _shear_layer(params: AugmentParams, fill: str) -> list[str]:
    if not params.shear_range:
        return []
    factor = _fmt(math.tan(math.radians(params.shear_range)))
    return [
        f"# shear_range={_fmt(params.shear_range)} degrees -> tan = {factor}",
        f"layers.RandomShear(x_factor={factor}, {fill}),",
    ]


def _zoom_layer(params: AugmentParams, fill: str) -> list[str]:
    low, high = params.zoom_bounds
    if (low, high) == (1.0, 1.0):
        return []
    factor = f"({_fmt(low - 1)}, {_fmt(high - 1)})"
    return [
        f"# negative zooms in: {factor} draws a scale in [{_fmt(low)}, {_fmt(high)}];",
        "# width_factor draws the width scale independently, as ImageDataGenerator did",
        f"layers.RandomZoom({factor}, {factor}, {fill}),",
    ]


def _flip_layer(params: AugmentParams, fill: str) -> list[str]:
    # RandomFlip() alone flips both ways, so the mode is always spelt out.
    modes = {
        (True, False): "horizontal",
        (False, True): "vertical",
        (True, True): "horizontal_and_vertical",
    }
    mode = modes.get((params.horizontal_flip, params.vertical_flip))
    return [f'layers.RandomFlip("{mode}"),'] if mode else []


def _brightness_layer(params: AugmentParams, fill: str) -> list[str]:
    if params.brightness_range in (None, (1.0, 1.0)):
        return []
    low, high = params.brightness_range
    factor = f"({_fmt((low - 1) / 2)}, {_fmt((high - 1) / 2)})"
    return [
        "# adds instead of multiplying: half the change, what a mid-grey pixel gets",
        f"layers.RandomBrightness({factor}, value_range=(0, 1)),",
    ]


def _keras3_layers(params: AugmentParams) -> list[str]:
    fill = f'fill_mode="{params.fill_mode}"'
    if params.fill_mode == "constant":
        fill += f", fill_value={_fmt(params.cval / 255.0)}"
    builders = (
        _rotation_layer,
        _translation_layer,
        _shear_layer,
        _zoom_layer,
        _flip_layer,
        _brightness_layer,
    )
    return [line for build in builders for line in build(params, fill)]


def _keras3_snippet(params: AugmentParams) -> str:
    lines = [
        "# Keras 3 preprocessing layers closest to these settings. They expect pixels in [0, 1]",
        "# (the lesson divides by 255) and only augment while training (inside model.fit).",
        '# fill_mode is explicit: layers default to "reflect", ImageDataGenerator to "nearest".',
        "import keras",
        "from keras import layers",
        "",
    ]
    layer_lines = _keras3_layers(params)
    if layer_lines:
        lines += ["augment = keras.Sequential(", "    ["]
        lines += [f"        {line}" for line in layer_lines]
        lines += ["    ],", '    name="augment",', ")"]
    else:
        lines.append('augment = keras.Sequential([], name="augment")  # nothing to augment')
    return "\n".join(lines) + "\n"


def _differences(params: AugmentParams) -> list[str]:
    notes = [
        "ImageDataGenerator combines rotation, shift, shear and zoom into one matrix and "
        "resamples once; a chain of layers resamples once per layer, which blurs a little more.",
    ]
    if params.width_shift_range or params.height_shift_range:
        notes.append(
            "The last legacy ImageDataGenerator (tf_keras 2.21) drew its sideways shift from "
            "height_shift_range and its up/down shift from width_shift_range (tensorflow issue "
            "#82838). This lab and RandomTranslation follow the names; with equal ranges, as in "
            "the lesson, nobody notices."
        )
    if max(params.width_shift_range, params.height_shift_range) >= 1:
        notes.append(
            "RandomTranslation takes fractions only: pixel shifts were divided by 32, the "
            "CIFAR-10 image size. ImageDataGenerator drew whole pixels for an integer range; "
            "this lab draws any shift in the range."
        )
    if params.shear_range:
        notes.append(
            "keras.layers.RandomShear (Keras 3.x; checked on 3.15) takes tan(angle) instead of "
            "degrees and shears about the top-left corner (so it also slides the picture) without "
            "stretching; ImageDataGenerator shears about the centre and makes it 1/cos(angle) taller."
        )
    if params.zoom_bounds != (1.0, 1.0):
        notes.append(
            "RandomZoom keeps the aspect ratio unless width_factor is given; the snippet gives "
            "it, so width and height scales are drawn independently as in ImageDataGenerator."
        )
    if params.brightness_range not in (None, (1.0, 1.0)):
        notes.append(
            "brightness_range multiplies the pixels; RandomBrightness adds the same random "
            "offset to every pixel. ImageDataGenerator also went through an 8-bit PIL image, so "
            "it expected pixels in 0-255."
        )
    if params.fill_mode == "constant":
        notes.append(
            "cval / fill_value is in the scale of the pixels: 0-255 for ImageDataGenerator on "
            "uint8 data, divided by 255 for the layers on [0, 1] pixels."
        )
        notes.append(
            "ImageDataGenerator (scipy's 'constant') switches to cval as soon as a point falls "
            "outside the picture; TensorFlow, the layers and this lab blend cval with the edge "
            "pixel over a one-pixel band, so the border is a little softer."
        )
    if params.fill_mode == "wrap":
        notes.append(
            "fill_mode='wrap' follows TensorFlow (period = image size); scipy's 'wrap', used by "
            "ImageDataGenerator, overlaps the first and last pixel, so edges differ by a pixel."
        )
    return notes


def to_code(params: AugmentParams) -> dict[str, Any]:
    """Writes the current settings as code, the legacy way and the Keras 3 way.

    Args:
        params (AugmentParams): The augmentation settings.

    Returns:
        dict[str, Any]: "legacy" (str) the ImageDataGenerator call, "keras3" (str) the
        preprocessing-layer pipeline closest to it, "differences" (list[str]) what still
        differs, in plain English.
    """
    return {
        "legacy": _legacy_snippet(params),
        "keras3": _keras3_snippet(params),
        "differences": _differences(params),
    }
