"""Augmentation lab views: choose images, draw labelled mosaics, take a student's photo."""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cifar_core.augmentation import Transform
from cifar_core.constants import MIN_UPLOAD_SIDE, MOSAIC_SCALE, UPLOAD_MAX_HEIGHT, UPLOAD_MAX_WIDTH
from cifar_core.constants import MOSAIC_BACKGROUND as BACKGROUND
from cifar_core.constants import MOSAIC_FONT_SIZE as FONT_SIZE
from cifar_core.constants import MOSAIC_GAP as GAP
from cifar_core.constants import MOSAIC_HEADER_HEIGHT as HEADER_HEIGHT
from cifar_core.constants import MOSAIC_LABEL_WIDTH as LABEL_WIDTH
from cifar_core.constants import MOSAIC_TEXT_COLOUR as TEXT_COLOUR
from cifar_core.images import ImageDecodeError, decode_image, to_cifar_size, upscale_nearest

# A transform strong enough that a quarter of the picture comes from outside it, so the four
# fill modes look clearly different: turned 45°, zoomed out to 1.4, moved 4 px right, 3 px up.
FILL_DEMO = Transform(rotation_deg=45.0, shift_x_px=4.0, shift_y_px=-3.0, zoom_x=1.4, zoom_y=1.4)


# ---------------------------------------------------------------------------------------------
# Which images
# ---------------------------------------------------------------------------------------------


def first_of_class(labels: np.ndarray, class_index: int, count: int) -> np.ndarray:
    """The indices of the first `count` images of one class, in data-set order.

    Args:
        labels (np.ndarray): (N,) integer labels.
        class_index (int): The class to pick.
        count (int): How many images at most.

    Returns:
        np.ndarray: Up to `count` int64 indices (fewer if the class has fewer images).
    """
    return np.flatnonzero(np.asarray(labels) == class_index)[:count].astype(np.int64)


def random_indices(n_available: int, count: int, seed: int) -> np.ndarray:
    """`count` different indices drawn at random; the same seed draws the same ones.

    Args:
        n_available (int): Size of the data set.
        count (int): How many (at most n_available).
        seed (int): Seed of the draw.

    Returns:
        np.ndarray: int64 indices, without repeats.
    """
    rng = np.random.default_rng(seed)
    return rng.choice(n_available, size=min(count, n_available), replace=False).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Pictures: nearest-neighbour upscaling and one labelled mosaic instead of dozens of images
# ---------------------------------------------------------------------------------------------


def grid_cells(originals: np.ndarray, variants: np.ndarray) -> np.ndarray:
    """Puts each original in front of its variants: the rows and columns of the preview grid.

    Args:
        originals (np.ndarray): (N, H, W, C) images.
        variants (np.ndarray): (N, V, H, W, C), e.g. from preview_grid.

    Returns:
        np.ndarray: (N, 1 + V, H, W, C).
    """
    if variants.shape[0] != originals.shape[0] or variants.shape[2:] != originals.shape[1:]:
        raise ValueError(
            f"variants {variants.shape} do not match originals {originals.shape}: expected "
            f"({originals.shape[0]}, V, {', '.join(map(str, originals.shape[1:]))})"
        )
    return np.concatenate([originals[:, None], variants], axis=1)


def column_labels(num_variants: int) -> list[str]:
    """["original", "variant 1", …, "variant V"]."""
    return ["original", *(f"variant {i}" for i in range(1, num_variants + 1))]


def mosaic_size(
    rows: int,
    cols: int,
    cell_shape: tuple[int, int] = (32, 32),
    scale: int = MOSAIC_SCALE,
    gap: int = GAP,
) -> tuple[int, int]:
    """(height, width) in pixels of labelled_mosaic's output for rows × cols cells (H, W)."""
    cell_h, cell_w = cell_shape[0] * scale, cell_shape[1] * scale
    return (
        HEADER_HEIGHT + rows * cell_h + (rows - 1) * gap,
        LABEL_WIDTH + cols * cell_w + (cols - 1) * gap,
    )


def labelled_mosaic(
    cells: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    scale: int = MOSAIC_SCALE,
    gap: int = GAP,
) -> np.ndarray:
    """One picture for a whole grid: cells upscaled, column labels on top, row labels left.

    Sending one image to the browser instead of rows × cols small ones keeps the page fast.

    Args:
        cells (np.ndarray): (R, C, H, W, 3) uint8 images.
        row_labels (Sequence[str]): R labels (e.g. class names).
        col_labels (Sequence[str]): C labels (e.g. "original", "variant 1", …).
        scale (int): Upscaling factor, nearest neighbour.
        gap (int): White pixels between cells.

    Returns:
        np.ndarray: (HEADER_HEIGHT + R·H·scale + (R-1)·gap, LABEL_WIDTH + C·W·scale +
        (C-1)·gap, 3) uint8; mosaic_size gives the shape.

    Raises:
        ValueError: Wrong shape or dtype, or label counts that do not match.
    """
    cells = np.asarray(cells)
    if cells.ndim != 5 or cells.shape[-1] != 3 or cells.dtype != np.uint8:
        raise ValueError(f"Expected (R, C, H, W, 3) uint8 cells, got {cells.shape} {cells.dtype}")
    rows, cols, height, width, _ = cells.shape
    if len(row_labels) != rows or len(col_labels) != cols:
        raise ValueError(
            f"Need {rows} row and {cols} column labels, got {len(row_labels)} and {len(col_labels)}"
        )
    big = upscale_nearest(cells, scale)  # (R, C, H·s, W·s, 3)
    cell_h, cell_w = height * scale, width * scale
    out = np.empty((*mosaic_size(rows, cols, (height, width), scale, gap), 3), dtype=np.uint8)
    out[:] = BACKGROUND
    for r in range(rows):
        top = HEADER_HEIGHT + r * (cell_h + gap)
        for c in range(cols):
            left = LABEL_WIDTH + c * (cell_w + gap)
            out[top : top + cell_h, left : left + cell_w] = big[r, c]
    _draw_labels(out, row_labels, col_labels, cell_h + gap, cell_w + gap, cell_h)
    return out


def _draw_labels(
    out: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    row_pitch: int,
    col_pitch: int,
    cell_h: int,
) -> None:
    # Text goes into the white margins only; Pillow draws on a copy of each margin.
    font = _font()
    header = Image.fromarray(out[:HEADER_HEIGHT])
    draw = ImageDraw.Draw(header)
    for c, label in enumerate(col_labels):
        draw.text((LABEL_WIDTH + c * col_pitch + 2, 3), label, fill=TEXT_COLOUR, font=font)
    out[:HEADER_HEIGHT] = np.asarray(header)
    margin = Image.fromarray(np.ascontiguousarray(out[:, :LABEL_WIDTH]))
    draw = ImageDraw.Draw(margin)
    for r, label in enumerate(row_labels):
        top = HEADER_HEIGHT + r * row_pitch + cell_h // 2 - FONT_SIZE // 2
        draw.text((2, top), _fit(label, font, LABEL_WIDTH - 6), fill=TEXT_COLOUR, font=font)
    out[:, :LABEL_WIDTH] = np.asarray(margin)


@functools.lru_cache(maxsize=1)
def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=FONT_SIZE)  # Pillow's bundled font, any size
    except (ImportError, OSError, TypeError):  # Pillow built without FreeType
        return ImageFont.load_default()


def _fit(label: str, font: Any, width: int) -> str:
    # Long names ("automobile" fits; a photo's file name may not) are cut with an ellipsis.
    if font.getlength(label) <= width:
        return label
    while label and font.getlength(label + "…") > width:
        label = label[:-1]
    return label + "…"


def png_bytes(image: np.ndarray) -> bytes:
    """Encodes an RGB uint8 image as PNG, quickly (lossless: JPEG would smear the pixels).

    Args:
        image (np.ndarray): (H, W, 3) uint8.

    Returns:
        bytes: The PNG file.
    """
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# A student's own photo
# ---------------------------------------------------------------------------------------------


def upload_rules(max_mb: float) -> str:
    """What the upload box takes, and what happens to a file it refuses (for a caption).

    Streamlit's upload box refuses a file over its limit in the browser: it lists the file in
    red ("File must be … or smaller") and never sends it, so the page cannot react to it. This
    text says so in advance, with the fix.

    Args:
        max_mb (float): The upload limit in MB.

    Returns:
        str: One short paragraph.
    """
    side = MIN_UPLOAD_SIDE
    return (
        f"Photos up to {max_mb:g} MB and at least {side}×{side} pixels. A bigger file is refused "
        "by the box itself: it is listed in red and never reaches the lab, so nothing below "
        "changes and the photo shown stays the last one accepted. Make the photo smaller (any "
        f"photo editor can, or a phone's share-as-smaller option) or pick another under "
        f"{max_mb:g} MB, and remove the red entry with its ✕."
    )


def check_upload_size(width: int, height: int, min_side: int = MIN_UPLOAD_SIDE) -> None:
    """Refuses a picture too small to mean anything at 32×32.

    Args:
        width (int): Width of the decoded picture in pixels.
        height (int): Its height.
        min_side (int): The fewest pixels accepted on either side.

    Raises:
        ImageDecodeError: A side is shorter than min_side; the message gives the size and the
            minimum.
    """
    if min(width, height) < min_side:
        raise ImageDecodeError(
            f"The image is only {width}×{height} pixels; at least "
            f"{min_side}×{min_side} are needed (the network sees 32×32, and a smaller picture is just a "
            "few coloured blocks). Please upload a bigger photo."
        )


class UploadPreview(NamedTuple):
    """An uploaded photo, ready to show.

    Attributes:
        display (np.ndarray): (h, w, 3) uint8, within UPLOAD_MAX_WIDTH × UPLOAD_MAX_HEIGHT.
        cifar (np.ndarray): (32, 32, 3) uint8, as the network sees it.
        original_size (tuple[int, int]): (width, height) of the decoded photo.
    """

    display: np.ndarray
    cifar: np.ndarray
    original_size: tuple[int, int]


def prepare_upload(
    data: bytes, max_width: int = UPLOAD_MAX_WIDTH, max_height: int = UPLOAD_MAX_HEIGHT
) -> UploadPreview:
    """Decodes an upload safely and keeps only small versions of it (nothing big is kept).

    Args:
        data (bytes): The uploaded file.
        max_width (int): Width of the display copy at most.
        max_height (int): Height of the display copy at most.

    Returns:
        UploadPreview: The photo at display size and at 32×32.

    Raises:
        ImageDecodeError: The file is not a usable image, or smaller than MIN_UPLOAD_SIDE on a
            side; str(error) is a message for the user.
    """
    image = decode_image(data)  # (H, W, 3) uint8
    height, width, _ = image.shape
    check_upload_size(width, height)
    display = image
    scale = min(max_width / width, max_height / height)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        display = np.asarray(
            Image.fromarray(image).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        )
    return UploadPreview(display, to_cifar_size(image), (width, height))
