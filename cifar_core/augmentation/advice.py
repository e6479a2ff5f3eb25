"""Augmentation advice: settings that can break a label, and the table behind the lab's controls."""

from __future__ import annotations

from typing import Any

from cifar_core.augmentation import _shift_pixels
from cifar_core.augmentation.code import _fmt
from cifar_core.augmentation.params import FILL_MODES, AugmentParams
from cifar_core.constants import (
    AUGMENT_LIMITS,
    CIFAR_SIZE,
    WARN_BRIGHTNESS,
    WARN_ROTATION_DEG,
    WARN_SHEAR_DEG,
    WARN_SHIFT_FRACTION,
    WARN_SHIFT_PX,
    WARN_ZOOM_IN,
    WARN_ZOOM_OUT,
)


def label_warnings(params: AugmentParams) -> list[str]:
    """Warns about settings that can make an augmented picture contradict its label.

    Args:
        params (AugmentParams): The augmentation settings.

    Returns:
        list[str]: One plain-English warning per risky setting (empty when all is fine).
    """
    warnings: list[str] = []
    if params.vertical_flip:
        warnings.append(
            "Vertical flip shows ships, trucks and horses upside down. CIFAR-10 photos are "
            "almost never upside down, so the network spends effort on pictures it will hardly "
            "ever be tested on. Horizontal flip is the safe one."
        )
    for name in ("width_shift_range", "height_shift_range"):
        value = getattr(params, name)
        pixels = _shift_pixels(value, CIFAR_SIZE)
        if (value < 1 and value > WARN_SHIFT_FRACTION) or (value >= 1 and value > WARN_SHIFT_PX):
            warnings.append(
                f"{name}={_fmt(value)} shifts by up to {pixels:.0f} of 32 pixels: the object can "
                "leave the frame, and a picture of the background keeps the object's label."
            )
    if params.rotation_range > WARN_ROTATION_DEG:
        warnings.append(
            f"Rotations up to {_fmt(params.rotation_range)} degrees turn objects upside down; "
            "ships and trucks hardly ever appear that way in the test set."
        )
    if params.shear_range > WARN_SHEAR_DEG:
        warnings.append(
            f"Shear up to {_fmt(params.shear_range)} degrees distorts shapes strongly: a cat "
            "can stop looking like a cat."
        )
    low, high = params.zoom_bounds
    if high > WARN_ZOOM_OUT:
        warnings.append(
            f"Zooming out to a scale of {_fmt(high)} shrinks the object into a small patch; "
            "most of the picture is fill."
        )
    if low < WARN_ZOOM_IN:
        warnings.append(
            f"Zooming in to a scale of {_fmt(low)} shows only the centre of the photo: the "
            "object may be cropped away."
        )
    if params.brightness_range is not None:
        b_low, b_high = params.brightness_range
        if b_low < WARN_BRIGHTNESS[0] or b_high > WARN_BRIGHTNESS[1]:
            warnings.append(
                f"brightness_range=({_fmt(b_low)}, {_fmt(b_high)}) can make pictures almost "
                "black or washed out: the object becomes hard to see."
            )
    return warnings


# fmt: off
_PARAM_ROWS: tuple[tuple[str, str, str, Any, str], ...] = (
    # (name, label, widget kind, a value worth trying, what this does)
    ("rotation_range", "Rotation (degrees)", "slider", 40.0,
     "Turns the picture by a random angle between -r and +r degrees."),
    ("width_shift_range", "Width shift", "slider", 0.2,
     "Moves the picture sideways by up to this fraction of its width (0.2 = 6 px of 32)."),
    ("height_shift_range", "Height shift", "slider", 0.2,
     "Moves the picture up or down by up to this fraction of its height."),
    ("shear_range", "Shear (degrees)", "slider", 10.0,
     "Slants the picture by a random angle φ, like pushing the top of a deck of cards, and "
     "stretches it vertically by 1/cos φ, as ImageDataGenerator's shear did (×1.41 at 45°)."),
    ("zoom_range", "Zoom", "slider", 0.2,
     "Scales width and height independently by a factor in [1 - z, 1 + z]; below 1 zooms in."),
    ("horizontal_flip", "Horizontal flip", "checkbox", True,
     "Mirrors the picture left-right half of the time."),
    ("vertical_flip", "Vertical flip", "checkbox", False,
     "Turns the picture upside down half of the time (rarely right for photos)."),
    ("fill_mode", "Fill mode", "select", "nearest",
     "How to fill the corners that come from outside the picture."),
    ("cval", "Fill value (constant)", "slider", 128.0,
     "The grey level (0-255) used by fill mode 'constant'."),
    ("brightness_range", "Brightness", "range_slider", (0.8, 1.2),
     "Multiplies the pixels by a random factor in [low, high]; off when not set."),
)
# fmt: on


def describe_params() -> list[dict[str, Any]]:
    """One row per AugmentParams setting, so that a page can build its controls from data.

    Returns:
        list[dict[str, Any]]: Keys name, label, kind ("slider", "checkbox", "select" or
        "range_slider"), min, max, step (None where they do not apply), default, suggested
        (a value worth trying), options (for "select", else None), help (one line).
    """
    defaults = AugmentParams()
    rows = []
    for name, label, kind, suggested, help_text in _PARAM_ROWS:
        low, high, step = AUGMENT_LIMITS.get(name, (None, None, None))
        rows.append(
            {
                "name": name,
                "label": label,
                "kind": kind,
                "min": low,
                "max": high,
                "step": step,
                "default": getattr(defaults, name),
                "suggested": suggested,
                "options": FILL_MODES if kind == "select" else None,
                "help": help_text,
            }
        )
    return rows
