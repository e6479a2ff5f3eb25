"""Lab controls: augmentation settings ↔ the values the lab's controls show, and in words.

The controls are built from `advice.describe_params` (one row per setting); these functions
turn settings into the values those controls show and back, and say what changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cifar_core.augmentation.advice import describe_params
from cifar_core.augmentation.params import AugmentParams
from cifar_core.constants import BRIGHTNESS_OFF


def params_to_controls(params: AugmentParams) -> dict[str, Any]:
    """The value each control shows for these settings (one entry per describe_params row).

    Sliders get floats, the brightness range slider a (low, high) tuple (BRIGHTNESS_OFF for
    None), and a (low, high) zoom pair becomes the single number z that covers it.

    Args:
        params (AugmentParams): The settings.

    Returns:
        dict[str, Any]: Parameter name → control value.
    """
    values: dict[str, Any] = {}
    for row in describe_params():
        value = getattr(params, row["name"])
        if row["name"] == "zoom_range" and isinstance(value, tuple):
            low, high = value
            widest = min(max(1.0 - low, high - 1.0), row["max"])
            value = round(round(widest / row["step"]) * row["step"], 6)  # on the slider's steps
        elif row["kind"] == "range_slider":
            value = tuple(float(v) for v in value) if value is not None else BRIGHTNESS_OFF
        elif row["kind"] == "slider":
            value = float(value)
        values[row["name"]] = value
    return values


def controls_to_params(values: Mapping[str, Any]) -> AugmentParams:
    """Builds the settings from control values (the inverse of params_to_controls).

    Args:
        values (Mapping[str, Any]): Parameter name → control value; missing names keep their
            defaults.

    Returns:
        AugmentParams: The validated settings.

    Raises:
        ValueError: A value is out of range; the message says what is allowed.
    """
    settings = dict(values)
    brightness = settings.get("brightness_range")
    if brightness is not None and tuple(float(v) for v in brightness) == BRIGHTNESS_OFF:
        settings["brightness_range"] = None  # the same settings as "never touched"
    return AugmentParams.from_dict(settings)


def changed_settings(old: AugmentParams, new: AugmentParams) -> list[str]:
    """Says which settings differ, e.g. "rotation_range: 40 → 10".

    Args:
        old (AugmentParams): The settings before.
        new (AugmentParams): The settings now.

    Returns:
        list[str]: One line per setting that differs, in describe_params order.
    """
    lines = []
    for row in describe_params():
        before, after = getattr(old, row["name"]), getattr(new, row["name"])
        if before != after:
            lines.append(f"{row['name']}: {_short(before)} → {_short(after)}")
    return lines


def settings_in_words(params: AugmentParams) -> str:
    """The settings that differ from ImageDataGenerator's defaults, as a call would spell them.

    Args:
        params (AugmentParams): The settings.

    Returns:
        str: E.g. "rotation_range=40, zoom_range=0.2, horizontal_flip=True", or
        "no augmentation (every setting at its default)".
    """
    defaults = AugmentParams()
    parts = [
        f"{row['name']}={_short(getattr(params, row['name']))}"
        for row in describe_params()
        if getattr(params, row["name"]) != getattr(defaults, row["name"])
    ]
    return ", ".join(parts) or "no augmentation (every setting at its default)"


def _short(value: Any) -> str:
    if isinstance(value, tuple):
        return f"({_short(value[0])}, {_short(value[1])})"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
