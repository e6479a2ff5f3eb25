"""Data augmentation in ImageDataGenerator's style: the transforms, drawn and warped in numpy.

The lab's preview warps with numpy here; training warps the same transforms, drawn by the
same formulas (`_scale_draws`, `_affine_coefficients`), in TensorFlow (`pipeline`). The
package's other modules: `params` (the settings), `preview` (the lab's pictures), `controls`
(settings ↔ the lab's control values), `code` (the matching Keras code) and `advice` (label
warnings and the controls table).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from cifar_core.augmentation.params import AugmentParams, _check_fill_mode

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
