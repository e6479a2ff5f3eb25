"""Heat maps: a saliency map as numbers (resize, scale, compare) and as a picture (overlay).

Plain numpy, no model: the colour map is a few anchor colours interpolated, so no plotting
library is needed to show a map on the page.
"""

from __future__ import annotations

import numpy as np

from cifar_core.constants import OVERLAY_ALPHA, OVERLAY_SCALE
from cifar_core.images import upscale_nearest

# Eleven evenly spaced stops of matplotlib's perceptually uniform "inferno" map (van der Walt &
# Smith, 2015): black → purple → orange → pale yellow, readable in grey and by colour-blind eyes.
HEAT_COLOURS: tuple[tuple[int, int, int], ...] = (
    (0x00, 0x00, 0x04),
    (0x16, 0x0B, 0x39),
    (0x42, 0x0A, 0x68),
    (0x6A, 0x17, 0x6E),
    (0x93, 0x26, 0x67),
    (0xBC, 0x37, 0x54),
    (0xDD, 0x51, 0x3A),
    (0xF3, 0x78, 0x19),
    (0xFC, 0xA5, 0x0A),
    (0xF6, 0xD7, 0x46),
    (0xFC, 0xFF, 0xA4),
)
_FLAT = 1e-6  # a map whose range is below this share of its largest value is flat


# --- Maps as numbers --------------------------------------------------------------------------


def check_image(image: np.ndarray) -> np.ndarray:
    """An RGB image (H, W, 3) as an array; a clear ValueError for any other shape."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"Expected an RGB image of shape (H, W, 3), got {image.shape}.")
    return image


def resize_bilinear(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a 2-D map with half-pixel centres (as tf.image.resize does).

    Args:
        values: (h, w) map.
        size: (H, W) wanted.

    Returns:
        (H, W) float32.
    """
    values = np.asarray(values, dtype=np.float32)

    def axis_weights(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # Where each output pixel's centre falls on the input grid, clamped at the borders.
        centre = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        low = np.floor(centre).astype(np.int64)
        return low, np.minimum(low + 1, n_in - 1), (centre - low).astype(np.float32)

    y0, y1, fy = axis_weights(values.shape[0], size[0])
    x0, x1, fx = axis_weights(values.shape[1], size[1])
    rows = values[y0] * (1 - fy)[:, None] + values[y1] * fy[:, None]  # (H, w)
    return rows[:, x0] * (1 - fx) + rows[:, x1] * fx


def unit_range(values: np.ndarray) -> np.ndarray:
    """A map scaled to [0, 1] (float32); a flat (or non-finite) map has nothing to show: zeros."""
    low, high = float(values.min()), float(values.max())
    span = high - low
    if not np.isfinite(span) or span <= _FLAT * max(abs(low), abs(high)):
        return np.zeros(values.shape, dtype=np.float32)
    return ((values - low) / span).astype(np.float32)


# --- Showing a map ----------------------------------------------------------------------------


def heat_colours(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (clipped; NaN → 0) → RGB uint8 from HEAT_COLOURS, linearly blended."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0)
    stops = np.asarray(HEAT_COLOURS, dtype=np.float32)  # (S, 3)
    position = np.clip(values, 0, 1) * (len(stops) - 1)
    low = np.minimum(np.floor(position).astype(np.int64), len(stops) - 2)
    t = (position - low)[..., None]
    return np.round(stops[low] * (1 - t) + stops[low + 1] * t).astype(np.uint8)


def heat_legend(width: int = 256, height: int = 12) -> np.ndarray:
    """A colour bar for the maps: (height, width, 3) uint8, 0 (left) → 1 (right)."""
    return np.repeat(heat_colours(np.linspace(0, 1, width))[None], height, axis=0)


def overlay(
    image: np.ndarray, heat: np.ndarray, scale: int = OVERLAY_SCALE, alpha: float = OVERLAY_ALPHA
) -> np.ndarray:
    """The image with a heat map blended over it, enlarged for the page.

    Args:
        image: (H, W, 3) uint8.
        heat: a map in [0, 1] (clipped), any size: resized bilinearly to (H, W).
        scale: enlargement (nearest neighbour, so the 32×32 pixels stay visible).
        alpha: weight of the heat colours (0: the image only, 1: the map only).

    Returns:
        (H·scale, W·scale, 3) uint8 RGB.
    """
    image = check_image(image)
    heat = np.asarray(heat, dtype=np.float32)
    if heat.ndim != 2:
        raise ValueError(f"Expected a 2-D heat map, got shape {heat.shape}.")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be within 0–1, got {alpha}.")
    if heat.shape != image.shape[:2]:
        heat = resize_bilinear(heat, image.shape[:2])
    blended = (1 - alpha) * image.astype(np.float32) + alpha * heat_colours(heat)
    return upscale_nearest(np.round(blended).astype(np.uint8), scale)


# --- Comparing maps ---------------------------------------------------------------------------


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (ties share their mean rank), as Adebayo et al.

    Returns:
        −1…1; NaN when either map is flat (a correlation is undefined there).
    """
    ranks = [_ranks(np.asarray(m, dtype=np.float64).ravel()) for m in (a, b)]
    if ranks[0].shape != ranks[1].shape:
        raise ValueError(f"Maps of different sizes: {np.shape(a)} and {np.shape(b)}.")
    if ranks[0].std() == 0 or ranks[1].std() == 0:
        return float("nan")
    return float(np.corrcoef(ranks[0], ranks[1])[0, 1])


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    _, group, counts = np.unique(values, return_inverse=True, return_counts=True)
    return (np.bincount(group, weights=ranks) / counts)[group]
