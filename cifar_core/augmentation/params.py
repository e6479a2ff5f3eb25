"""Augmentation settings: ImageDataGenerator's parameters, checked, and the lesson's preset."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from cifar_core.constants import (
    MAX_BRIGHTNESS,
    MAX_ROTATION_DEG,
    MAX_SHEAR_DEG,
    MAX_SHIFT_PX,
    MAX_ZOOM,
)

FILL_MODES: tuple[str, ...] = ("constant", "nearest", "reflect", "wrap")


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AugmentParams:
    """ImageDataGenerator's augmentation settings: same names, meanings and defaults.

    Attributes:
        rotation_range (float): Rotate by a random angle in [-r, r] degrees (0 to 180).
        width_shift_range (float): Shift sideways by up to this much: a fraction of the width
            below 1 (0.2 = 20 %), a number of pixels from 1 up (at most 32).
        height_shift_range (float): The same for up/down shifts, as a fraction of the height.
        shear_range (float): Shear by a random angle in [-s, s] degrees (0 to 45).
        zoom_range (float | tuple[float, float]): z in [0, 1) zooms by a scale in [1 - z, 1 + z],
            or a (low, high) pair of scales in (0, 2]. Below 1 zooms *in*. Width and height
            scales are drawn independently, so the aspect ratio changes too.
        horizontal_flip (bool): Mirror left-right half of the time.
        vertical_flip (bool): Flip upside down half of the time.
        fill_mode (str): How to fill pixels that come from outside the picture: "constant"
            (cval), "nearest" (edge pixel repeated), "reflect" (mirror) or "wrap" (other side).
        cval (float): Fill value for fill_mode="constant", a pixel value from 0 to 255 as for
            ImageDataGenerator on uint8 data; float images in [0, 1] use cval / 255.
        brightness_range (tuple[float, float] | None): Multiply the pixels by a random factor in
            [low, high] (1.0 = unchanged), or None for no brightness change.

    Raises:
        ValueError: A setting is out of range; the message says what is allowed.
    """

    rotation_range: float = 0.0
    width_shift_range: float = 0.0
    height_shift_range: float = 0.0
    shear_range: float = 0.0
    zoom_range: float | tuple[float, float] = 0.0
    horizontal_flip: bool = False
    vertical_flip: bool = False
    fill_mode: str = "nearest"
    cval: float = 0.0
    brightness_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        # Normalise to plain floats/tuples so that equal settings compare, hash and serialise
        # equally (slider values may arrive as ints or numpy scalars, JSON pairs as lists).
        shift_rule = "(below 1: a fraction of the image size, 0.2 = 20 %; from 1 up: pixels)"
        checked = {
            "rotation_range": _bounded("rotation_range", self.rotation_range, MAX_ROTATION_DEG),
            "width_shift_range": _bounded(
                "width_shift_range", self.width_shift_range, MAX_SHIFT_PX, shift_rule
            ),
            "height_shift_range": _bounded(
                "height_shift_range", self.height_shift_range, MAX_SHIFT_PX, shift_rule
            ),
            "shear_range": _bounded("shear_range", self.shear_range, MAX_SHEAR_DEG),
            "zoom_range": _check_zoom(self.zoom_range),
            "horizontal_flip": _check_bool("horizontal_flip", self.horizontal_flip),
            "vertical_flip": _check_bool("vertical_flip", self.vertical_flip),
            "fill_mode": _check_fill_mode(self.fill_mode),
            "cval": _bounded("cval", self.cval, 255.0, "(a pixel value)"),
            "brightness_range": _check_brightness(self.brightness_range),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @property
    def zoom_bounds(self) -> tuple[float, float]:
        """tuple[float, float]: The (low, high) zoom scales that zoom_range stands for."""
        if isinstance(self.zoom_range, tuple):
            return self.zoom_range
        return (1.0 - self.zoom_range, 1.0 + self.zoom_range)

    @property
    def is_identity(self) -> bool:
        """bool: True when these settings never change a picture."""
        return (
            self.rotation_range == 0
            and self.width_shift_range == 0
            and self.height_shift_range == 0
            and self.shear_range == 0
            and self.zoom_bounds == (1.0, 1.0)
            and not self.horizontal_flip
            and not self.vertical_flip
            and self.brightness_range in (None, (1.0, 1.0))
        )

    def to_dict(self) -> dict[str, Any]:
        """Returns the settings as a JSON-safe dict (pairs become lists)."""
        return {
            field.name: _json_safe(getattr(self, field.name)) for field in dataclasses.fields(self)
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AugmentParams:
        """Builds settings from a dict such as to_dict() wrote; missing keys keep their defaults.

        Args:
            data (Mapping[str, Any]): Setting name → value, e.g. read back from JSON.

        Returns:
            AugmentParams: The validated settings.

        Raises:
            ValueError: data is not a dict, has unknown keys, or holds invalid values.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"Augmentation settings must be a dict, got {type(data).__name__}")
        allowed = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(str(key) for key in data if key not in allowed)
        if unknown:
            raise ValueError(
                f"Unknown augmentation setting(s): {', '.join(unknown)}. "
                f"Allowed: {', '.join(allowed)}"
            )
        return cls(**data)


def _show(value: float | np.integer | np.floating) -> str:
    # Numbers as a student typed them (-5, 0.2), not as numpy prints them (np.float64(-5.0)).
    # Only ever called with a value _number() accepted.
    return f"{float(value):g}"


def _number(name: str, value: object) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ValueError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def _bounded(name: str, value: object, high: float, unit: str = "degrees") -> float:
    number = _number(name, value)
    if not 0.0 <= number <= high:
        raise ValueError(f"{name} must be between 0 and {high:g} {unit}, got {_show(value)}")
    return number


def _pair(name: str, value: object) -> tuple[float, float]:
    if not isinstance(value, (list, tuple, np.ndarray)) or len(value) != 2:
        raise ValueError(f"{name} must be a (low, high) pair of numbers, got {value!r}")
    return (_number(name, value[0]), _number(name, value[1]))


def _check_zoom(value: object) -> float | tuple[float, float]:
    if isinstance(value, (list, tuple, np.ndarray)):
        low, high = _pair("zoom_range", value)
        if not 0.0 < low <= high <= MAX_ZOOM:
            raise ValueError(
                f"zoom_range as a (low, high) pair needs 0 < low <= high <= {MAX_ZOOM:g} "
                f"(1 = unchanged, below 1 zooms in), got ({_show(low)}, {_show(high)})"
            )
        return (low, high)
    zoom = _number("zoom_range", value)
    if not 0.0 <= zoom < 1.0:
        raise ValueError(
            "zoom_range as one number must be at least 0 and below 1 (0.2 zooms by a scale "
            f"between 0.8 and 1.2), got {_show(value)}; use a (low, high) pair for other scales"
        )
    return zoom


def _check_brightness(value: object) -> tuple[float, float] | None:
    if value is None:
        return None
    low, high = _pair("brightness_range", value)
    if not 0.0 <= low <= high <= MAX_BRIGHTNESS:
        raise ValueError(
            f"brightness_range needs 0 <= low <= high <= {MAX_BRIGHTNESS:g} (1 = unchanged, "
            f"0 = black), or None for no change, got ({_show(low)}, {_show(high)})"
        )
    return (low, high)


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_fill_mode(value: object) -> str:
    if value not in FILL_MODES:
        allowed = ", ".join(repr(mode) for mode in FILL_MODES)
        raise ValueError(f"fill_mode must be one of {allowed}, got {value!r}")
    return str(value)


def _json_safe(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# The settings of the classic Keras CIFAR-10 lesson.
LESSON_PRESET = AugmentParams(
    rotation_range=40,
    width_shift_range=0.2,
    height_shift_range=0.2,
    zoom_range=0.2,
    horizontal_flip=True,
    fill_mode="nearest",
)
