"""Data augmentation in ImageDataGenerator's style: numpy for the preview, TensorFlow to train."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:  # TensorFlow costs ~2.5 s to import: the functions that need it import it.
    import tensorflow as tf

FILL_MODES: tuple[str, ...] = ("constant", "nearest", "reflect", "wrap")

# What AugmentParams accepts. Shifts are capped at one CIFAR-10 image width (32 px).
MAX_ROTATION_DEG = 180.0
MAX_SHIFT_PX = 32.0
MAX_SHEAR_DEG = 45.0  # tan(45°) = 1 is the largest shear keras.layers.RandomShear accepts.
MAX_ZOOM = 2.0  # keras.layers.RandomZoom accepts factors up to +1, i.e. scale 2.
MAX_BRIGHTNESS = 3.0

# Slider ranges for the Augmentation lab, as (min, max, step): narrower than the limits above.
AUGMENT_LIMITS: dict[str, tuple[float, float, float]] = {
    "rotation_range": (0.0, 180.0, 5.0),
    "width_shift_range": (0.0, 0.5, 0.05),
    "height_shift_range": (0.0, 0.5, 0.05),
    "shear_range": (0.0, 45.0, 1.0),
    "zoom_range": (0.0, 0.9, 0.05),
    "cval": (0.0, 255.0, 1.0),
    "brightness_range": (0.0, 2.0, 0.05),
}

# Thresholds of label_warnings(): beyond them an augmented picture may no longer show its label.
WARN_SHIFT_FRACTION = 0.3
WARN_SHIFT_PX = 10.0
WARN_ROTATION_DEG = 90.0
WARN_SHEAR_DEG = 30.0
WARN_ZOOM_OUT = 1.5
WARN_ZOOM_IN = 0.5
WARN_BRIGHTNESS = (0.3, 2.0)

CIFAR_SIZE = 32


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


def _show(value: object) -> str:
    # Numbers as a student typed them (-5, 0.2), not as numpy prints them (np.float64(-5.0)).
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{float(value):g}"
    return repr(value)


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


# ---------------------------------------------------------------------------------------------
# One concrete transform, and drawing it at random
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Transform:
    """One concrete augmentation, applied in this order: affine warp, flips, brightness.

    Attributes:
        rotation_deg (float): Rotation in degrees; positive turns the picture counter-clockwise.
        shift_x_px (float): Horizontal shift in pixels; positive moves the content right.
        shift_y_px (float): Vertical shift in pixels; positive moves the content down.
        shear_deg (float): Shear angle in degrees, with ImageDataGenerator's shear matrix.
        zoom_x (float): Horizontal scale; below 1 zooms in (0.5 shows the centre twice as wide).
        zoom_y (float): Vertical scale; below 1 zooms in.
        flip_horizontal (bool): Mirror left-right after the warp.
        flip_vertical (bool): Flip upside down after the warp.
        brightness (float): Pixel multiplier (1.0 = unchanged), clipped to the pixel range.
    """

    rotation_deg: float = 0.0
    shift_x_px: float = 0.0
    shift_y_px: float = 0.0
    shear_deg: float = 0.0
    zoom_x: float = 1.0
    zoom_y: float = 1.0
    flip_horizontal: bool = False
    flip_vertical: bool = False
    brightness: float = 1.0


IDENTITY = Transform()


class _Transforms(NamedTuple):
    """The fields of Transform for a whole batch: one numpy array or tf.Tensor per field."""

    rotation_deg: Any
    shift_x_px: Any
    shift_y_px: Any
    shear_deg: Any
    zoom_x: Any
    zoom_y: Any
    flip_horizontal: Any
    flip_vertical: Any
    brightness: Any


# One uniform number in [0, 1) per random choice. All nine are drawn even when a range is 0, so
# that moving one slider leaves the other choices of a seed as they were (a calmer preview).
_NUM_DRAWS = 9


def _shift_pixels(shift_range: float, size: int) -> float:
    # ImageDataGenerator's rule: below 1 is a fraction of the size, from 1 up a number of pixels.
    return shift_range * size if shift_range < 1 else shift_range


def _scale_draws(
    params: AugmentParams, draws: Sequence[Any], height: int, width: int
) -> _Transforms:
    """Turns uniform draws into transforms with ImageDataGenerator.get_random_transform's laws.

    Only arithmetic and comparisons, so numpy arrays and tf.Tensors both work: the preview and
    the training pipeline share this code, hence the same distributions (width_shift_range moves
    sideways, as named; random_transform says how the legacy class differed).
    """
    zoom_low, zoom_high = params.zoom_bounds
    bright_low, bright_high = params.brightness_range or (1.0, 1.0)

    def symmetric(limit: float, draw: Any) -> Any:
        return (2.0 * draw - 1.0) * limit  # uniform in [-limit, limit]

    def flip(enabled: bool, draw: Any) -> Any:
        return draw < 0.5 if enabled else draw < 0.0  # p = 0.5, or never (same type either way)

    return _Transforms(
        rotation_deg=symmetric(params.rotation_range, draws[0]),
        shift_x_px=symmetric(_shift_pixels(params.width_shift_range, width), draws[1]),
        shift_y_px=symmetric(_shift_pixels(params.height_shift_range, height), draws[2]),
        shear_deg=symmetric(params.shear_range, draws[3]),
        # Two independent draws: the aspect ratio changes, as with ImageDataGenerator.
        zoom_x=zoom_low + (zoom_high - zoom_low) * draws[4],
        zoom_y=zoom_low + (zoom_high - zoom_low) * draws[5],
        flip_horizontal=flip(params.horizontal_flip, draws[6]),
        flip_vertical=flip(params.vertical_flip, draws[7]),
        brightness=bright_low + (bright_high - bright_low) * draws[8],
    )


def _sample_numpy(
    params: AugmentParams, rng: np.random.Generator, count: int, height: int, width: int
) -> _Transforms:
    draws = rng.random((count, _NUM_DRAWS))  # (count, 9), one vectorised call
    return _scale_draws(params, list(draws.T), height, width)


def random_transform(
    params: AugmentParams, rng: np.random.Generator, image_shape: Sequence[int] = (32, 32)
) -> Transform:
    """Draws one random transform, like ImageDataGenerator.get_random_transform.

    Angles, shifts and shear are uniform in [-range, range]; zoom x and y uniform in the zoom
    bounds, drawn independently; each enabled flip has p = 0.5; brightness uniform in its range.
    width_shift_range drives the horizontal shift, as its name says: the legacy class swapped
    the two ranges in effect (tensorflow issue #82838). A pixel range such as 4 draws any shift
    in [-4, 4] here; ImageDataGenerator drew whole pixels when given an int.

    Args:
        params (AugmentParams): The augmentation settings.
        rng (np.random.Generator): Source of randomness; the same seed gives the same draws.
        image_shape (Sequence[int]): (height, width) or (height, width, channels), for shifts
            given as fractions.

    Returns:
        Transform: The drawn transform.
    """
    batch = _sample_numpy(params, rng, 1, int(image_shape[0]), int(image_shape[1]))
    return _unstack(batch)[0]


def _stack(transforms: Sequence[Transform]) -> _Transforms:
    return _Transforms(
        *(np.array([getattr(t, name) for t in transforms]) for name in _Transforms._fields)
    )


def _unstack(batch: _Transforms) -> list[Transform]:
    count = len(batch.rotation_deg)
    return [
        Transform(**{name: getattr(batch, name)[i].item() for name in _Transforms._fields})
        for i in range(count)
    ]


# ---------------------------------------------------------------------------------------------
# The affine matrix, shared by numpy and TensorFlow
# ---------------------------------------------------------------------------------------------


def _affine_coefficients(
    t: _Transforms, height: int, width: int, cos: Callable[[Any], Any], sin: Callable[[Any], Any]
) -> tuple[Any, ...]:
    """Returns (a0, a1, a2, b0, b1, b2): output pixel (x, y) reads input (a0·x + a1·y + a2,
    b0·x + b1·y + b2), with x the column and y the row.

    This is ImageDataGenerator's apply_affine_transform: M = rotation · shift · shear · zoom,
    taken about the image centre ((W - 1) / 2, (H - 1) / 2), mapping *output* to *input*
    coordinates. Works on numpy arrays (np.cos) and tf.Tensors (tf.cos) alike.
    """
    theta = t.rotation_deg * (math.pi / 180.0)
    shear = t.shear_deg * (math.pi / 180.0)
    # IDG's shift moves the point that is *read*, so the content moves the other way.
    tx, ty = -t.shift_x_px, -t.shift_y_px
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    cos_t, sin_t = cos(theta), sin(theta)
    # Linear part of R·Sh·Z, with R = [[c, -s], [s, c]], Sh = [[1, -sin φ], [0, cos φ]].
    a0 = cos_t * t.zoom_x
    a1 = -t.zoom_y * sin(theta + shear)
    b0 = sin_t * t.zoom_x
    b1 = t.zoom_y * cos(theta + shear)
    # Offset: the centre stays put, then the rotated shift R·(tx, ty).
    a2 = cx - a0 * cx - a1 * cy + cos_t * tx - sin_t * ty
    b2 = cy - b0 * cx - b1 * cy + sin_t * tx + cos_t * ty
    return a0, a1, a2, b0, b1, b2


# ---------------------------------------------------------------------------------------------
# numpy: the preview
# ---------------------------------------------------------------------------------------------


def _map_coordinates(coord: np.ndarray, length: int, fill_mode: str) -> np.ndarray:
    """Maps input coordinates that fall outside [0, length - 1] back inside.

    A line-by-line copy of TensorFlow's ImageProjectiveTransformV3 kernel (MapCoordinate,
    itself after scipy.ndimage), so that the preview shows the pixels training will see:
    "reflect" is scipy's 'reflect' (d c b a | a b c d | d c b a, the edge pixel repeated, not
    scipy's 'mirror'); "wrap" is (a b c d | a b c d), not blended across the seam.
    """
    if fill_mode == "constant":
        return coord  # out-of-range reads become cval in _bilinear
    top = float(length - 1)
    if fill_mode == "nearest" or length <= 1:
        return np.clip(coord, 0.0, top)
    if fill_mode == "reflect":
        period = 2 * length
        below = period * np.trunc(-coord / period) + coord
        below = np.where(below < -length, below + period, -below - 1)
        above = coord - period * np.trunc(coord / period)
        above = np.where(above >= length, period - above - 1, above)
    else:  # wrap
        below = coord + length * (np.trunc(-coord / top) + 1)
        above = coord - length * np.trunc(coord / top)
    mapped = np.where(coord < 0, below, np.where(coord > top, above, coord))
    return np.clip(mapped, 0.0, top).astype(np.float32)


def _bilinear(images: np.ndarray, x: np.ndarray, y: np.ndarray, fill_value: float) -> np.ndarray:
    """Bilinear reads at (x, y) per image, cval outside the picture, as TensorFlow's kernel."""
    count, height, width, channels = images.shape
    # One flat table of all pixels plus a last row holding cval: reads from outside the picture
    # point at that row, so each corner is a single np.take (the preview must stay fast).
    fill_row = np.full((1, channels), fill_value, dtype=images.dtype)
    table = np.concatenate([images.reshape(-1, channels), fill_row])
    outside = count * height * width
    first_row = (np.arange(count) * height)[:, None, None]  # (N, 1, 1)
    x0, y0 = np.floor(x), np.floor(y)
    x1, y1 = x0 + 1, y0 + 1

    def read(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        r = np.clip(rows, -1, height).astype(np.intp)  # clip first: far-away floats stay ints
        c = np.clip(cols, -1, width).astype(np.intp)
        index = np.where(inside, (first_row + r) * width + c, outside)  # (N, H, W)
        return np.take(table, index, axis=0)  # (N, H, W, C)

    wx0, wx1 = (x1 - x)[..., None], (x - x0)[..., None]  # (N, H, W, 1)
    wy0, wy1 = (y1 - y)[..., None], (y - y0)[..., None]
    top = wx0 * read(y0, x0) + wx1 * read(y0, x1)
    bottom = wx0 * read(y1, x0) + wx1 * read(y1, x1)
    return wy0 * top + wy1 * bottom


def _warp_numpy(
    images: np.ndarray, coefficients: tuple[Any, ...], fill_mode: str, fill_value: float
) -> np.ndarray:
    """Affine warp of (N, H, W, C) float32/float64 images with per-image coefficients."""
    count, height, width, _ = images.shape
    # float32 like the TensorFlow kernel, in the same order of operations.
    a0, a1, a2, b0, b1, b2 = (
        np.asarray(c, dtype=np.float32).reshape(count, 1, 1) for c in coefficients
    )
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)  # (H, W) each
    x_in = a0 * cols + a1 * rows + a2  # (N, H, W)
    y_in = b0 * cols + b1 * rows + b2
    x = _map_coordinates(x_in, width, fill_mode)
    y = _map_coordinates(y_in, height, fill_mode)
    return _bilinear(images, x, y, fill_value).astype(images.dtype)


def _check_images(images: np.ndarray, rank: int) -> None:
    if images.ndim != rank:
        shape = "(H, W, C)" if rank == 3 else "(N, H, W, C)"
        raise ValueError(f"Expected images of shape {shape}, got shape {images.shape}")
    if not (images.dtype == np.uint8 or np.issubdtype(images.dtype, np.floating)):
        raise ValueError(f"Expected uint8 or float images, got dtype {images.dtype}")


def _apply_numpy(images: np.ndarray, t: _Transforms, fill_mode: str, cval: float) -> np.ndarray:
    """Applies per-image transforms to (N, H, W, C) images; same dtype out."""
    _check_fill_mode(fill_mode)
    is_uint8 = images.dtype == np.uint8
    # cval is a 0-255 pixel value; float images are taken to be in [0, 1].
    fill_value, top = (float(cval), 255.0) if is_uint8 else (float(cval) / 255.0, 1.0)
    _, height, width, _ = images.shape
    coefficients = _affine_coefficients(t, height, width, np.cos, np.sin)
    # Pixels in float32 (as TensorFlow) unless they came as float64, which keeps its precision.
    work = images.astype(np.float64 if images.dtype == np.float64 else np.float32)
    out = _warp_numpy(work, coefficients, fill_mode, fill_value)
    out = np.where(t.flip_horizontal[:, None, None, None], out[:, :, ::-1], out)
    out = np.where(t.flip_vertical[:, None, None, None], out[:, ::-1], out)
    brightness = np.asarray(t.brightness, dtype=out.dtype)
    if np.any(brightness != 1.0):
        out = np.clip(out * brightness[:, None, None, None], 0.0, top)
    if is_uint8:
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return out.astype(images.dtype)


def apply_transform(
    image: np.ndarray, transform: Transform, fill_mode: str = "nearest", cval: float = 0.0
) -> np.ndarray:
    """Applies one transform to one image, deterministically.

    Rotation, shift, shear and zoom form one matrix about the image centre (as
    ImageDataGenerator's apply_affine_transform), read with bilinear interpolation; then the
    flips; then brightness. Out-of-picture pixels follow fill_mode with TensorFlow's rules (see
    _map_coordinates). Checked against the legacy class (tf_keras 2.21 + scipy): "nearest" and
    "reflect" agree to 0.001 of a grey level. "constant" blends cval with the edge pixel over a
    one-pixel band, as TensorFlow does, where scipy cuts hard to cval; "wrap" repeats with
    period = size, where scipy's overlaps the first and last pixel.

    Args:
        image (np.ndarray): (H, W, C) uint8 (0-255) or float (taken to be in [0, 1]).
        transform (Transform): What to do.
        fill_mode (str): "constant" (cval), "nearest" (a a | a b c d | d d), "reflect"
            (scipy's and IDG's 'reflect': d c b a | a b c d | d c b a) or "wrap"
            (a b c d | a b c d | a b c d).
        cval (float): Fill value for "constant", as a 0-255 pixel value (cval / 255 for floats).

    Returns:
        np.ndarray: The transformed image, same shape and dtype (uint8 rounded and clipped).

    Raises:
        ValueError: Wrong image shape or dtype, or unknown fill_mode.
    """
    image = np.asarray(image)
    _check_images(image, rank=3)
    _check_fill_mode(fill_mode)
    if transform == IDENTITY:
        return image.copy()
    return _apply_numpy(image[None], _stack([transform]), fill_mode, cval)[0]


def augment_batch_numpy(
    images: np.ndarray, params: AugmentParams, rng: np.random.Generator
) -> np.ndarray:
    """Augments each image of a batch with its own random transform.

    Args:
        images (np.ndarray): (N, H, W, C) uint8 or float images in [0, 1].
        params (AugmentParams): The augmentation settings.
        rng (np.random.Generator): Source of randomness.

    Returns:
        np.ndarray: (N, H, W, C) augmented images, same dtype.
    """
    images = np.asarray(images)
    _check_images(images, rank=4)
    count, height, width, _ = images.shape
    transforms = _sample_numpy(params, rng, count, height, width)
    return _apply_numpy(images, transforms, params.fill_mode, params.cval)


def preview_grid(
    images: np.ndarray, params: AugmentParams, seed: int, num_variants: int = 5
) -> np.ndarray:
    """Draws num_variants augmented versions of each image, for the Augmentation lab.

    Args:
        images (np.ndarray): (N, H, W, C) uint8 or float images in [0, 1].
        params (AugmentParams): The augmentation settings.
        seed (int): The same seed gives the same grid.
        num_variants (int): Versions per image.

    Returns:
        np.ndarray: (N, num_variants, H, W, C), same dtype as images.
    """
    images = np.asarray(images)
    _check_images(images, rank=4)
    count = images.shape[0]
    repeated = np.repeat(images, num_variants, axis=0)  # (N·V, H, W, C), one warp call for all
    out = augment_batch_numpy(repeated, params, np.random.default_rng(seed))
    return out.reshape(count, num_variants, *images.shape[1:])


# ---------------------------------------------------------------------------------------------
# TensorFlow: the same math in-graph, for training
# ---------------------------------------------------------------------------------------------


def _apply_tf(images: tf.Tensor, t: _Transforms, fill_mode: str, fill_value: float) -> tf.Tensor:
    """The TensorFlow twin of _apply_numpy for (B, H, W, C) float32 images in [0, 1]."""
    import tensorflow as tf

    _check_fill_mode(fill_mode)
    height, width = int(images.shape[1]), int(images.shape[2])
    a0, a1, a2, b0, b1, b2 = (
        tf.cast(c, tf.float32) for c in _affine_coefficients(t, height, width, tf.cos, tf.sin)
    )
    zeros = tf.zeros_like(a0)
    # The 8 projective parameters [a0, a1, a2, b0, b1, b2, c0, c1]; c0 = c1 = 0 for an affine map.
    matrices = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)  # (B, 8)
    # Fill modes are spelt in capitals here; "REFLECT" is scipy's 'reflect' (d c b a | a b c d),
    # the same as IDG's and keras.ops.image.affine_transform's "reflect".
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=matrices,
        output_shape=tf.shape(images)[1:3],
        fill_value=tf.constant(fill_value, tf.float32),
        interpolation="BILINEAR",
        fill_mode=fill_mode.upper(),
    )
    flip_h = tf.reshape(tf.cast(t.flip_horizontal, tf.bool), (-1, 1, 1, 1))
    flip_v = tf.reshape(tf.cast(t.flip_vertical, tf.bool), (-1, 1, 1, 1))
    out = tf.where(flip_h, tf.reverse(out, axis=[2]), out)
    out = tf.where(flip_v, tf.reverse(out, axis=[1]), out)
    brightness = tf.reshape(tf.cast(t.brightness, tf.float32), (-1, 1, 1, 1))
    return tf.clip_by_value(out * brightness, 0.0, 1.0)


def _check_tf_batch(images: tf.Tensor) -> None:
    if images.shape.rank != 4 or images.shape[1] is None or images.shape[2] is None:
        raise ValueError(
            f"Expected a batch of shape (B, H, W, C) with known H and W, got {images.shape}"
        )


def apply_transforms_tf(
    batch: np.ndarray | tf.Tensor,
    transforms: Sequence[Transform],
    fill_mode: str = "nearest",
    cval: float = 0.0,
) -> tf.Tensor:
    """Applies given transforms with the training pipeline's TensorFlow code, image by image.

    The deterministic twin of apply_transform: the same transform gives the same pixels.

    Args:
        batch (np.ndarray | tf.Tensor): (B, H, W, C) float images in [0, 1].
        transforms (Sequence[Transform]): One transform per image.
        fill_mode (str): "constant", "nearest", "reflect" or "wrap".
        cval (float): Fill value for "constant", a 0-255 pixel value (divided by 255 here).

    Returns:
        tf.Tensor: (B, H, W, C) float32 in [0, 1].

    Raises:
        ValueError: The number of transforms differs from the batch size, or a bad fill_mode.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(batch, dtype=tf.float32)
    _check_tf_batch(images)
    if len(transforms) != images.shape[0]:
        raise ValueError(f"Got {len(transforms)} transforms for {images.shape[0]} images")
    return _apply_tf(images, _stack(transforms), fill_mode, float(cval) / 255.0)


def make_tf_augment(params: AugmentParams, seed: int) -> Callable[[tf.Tensor], tf.Tensor]:
    """Builds the training-time augmentation: random transforms drawn and applied in-graph.

    Use it after batching: ``ds.batch(128).map(lambda x, y: (augment(x), y))``. Draws come from
    a tf.random.Generator seeded with seed, so a pipeline mapped in order repeats itself; with
    num_parallel_calls the order in which batches take draws may vary.

    Fill-mode names: IDG, scipy, tf.raw_ops.ImageProjectiveTransformV3 (in capitals) and
    keras.ops.image.affine_transform all mean d c b a | a b c d by "reflect" (scipy's "mirror"
    is d c b | a b c d; Keras on the torch backend turns "reflect" into "mirror"). Defaults
    differ: IDG "nearest", keras.ops.image.affine_transform "constant", the Random* layers
    "reflect" - so this module always passes params.fill_mode explicitly.

    Args:
        params (AugmentParams): The augmentation settings (cval on the 0-255 scale).
        seed (int): Seed of the in-graph random generator.

    Returns:
        Callable[[tf.Tensor], tf.Tensor]: Maps a (B, H, W, C) float32 batch in [0, 1] to its
        augmented version, same shape.
    """
    import tensorflow as tf

    if params.is_identity:
        # Nothing to draw: hand the batch back untouched (no resampling, no cost).
        return lambda batch: tf.convert_to_tensor(batch, dtype=tf.float32)

    generator = tf.random.Generator.from_seed(seed)
    fill_value = params.cval / 255.0  # the pipeline's pixels are in [0, 1]

    def augment(batch: tf.Tensor) -> tf.Tensor:
        images = tf.convert_to_tensor(batch, dtype=tf.float32)  # (B, H, W, C)
        _check_tf_batch(images)
        height, width = int(images.shape[1]), int(images.shape[2])
        draws = generator.uniform((tf.shape(images)[0], _NUM_DRAWS), dtype=tf.float32)
        columns = tf.unstack(draws, num=_NUM_DRAWS, axis=1)  # 9 × (B,)
        transforms = _scale_draws(params, columns, height, width)
        return _apply_tf(images, transforms, params.fill_mode, fill_value)

    return augment


# ---------------------------------------------------------------------------------------------
# Teaching helpers: code snippets, label warnings, the controls table
# ---------------------------------------------------------------------------------------------


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
