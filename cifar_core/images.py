"""Images: decode a student's uploaded photo safely (Pillow only) and shrink it to 32×32."""

from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cifar_core.constants import CIFAR_SIZE, MAX_PIXELS, MAX_UPLOAD_BYTES

# File extensions for the uploader, and the only Pillow decoders tried (fewer parsers exposed to
# untrusted bytes). The JPEG decoder also opens the multi-picture JPEGs (MPO) of many phones.
ALLOWED_TYPES: tuple[str, ...] = ("jpg", "jpeg", "png", "webp", "bmp", "gif")
PILLOW_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "BMP", "GIF")

_FORMATS_IN_WORDS = "JPEG, PNG, WebP, BMP or GIF"
_NOT_AN_IMAGE = (
    f"This file is not an image Pillow can read ({_FORMATS_IN_WORDS}). Please upload a photo file."
)
_DAMAGED = (
    "The image is truncated or damaged and cannot be decoded. Please open it in an image viewer "
    "and save it again, or upload another photo."
)
# Background for transparent pictures: white, like a page or a browser shows them.
_BACKGROUND = (255, 255, 255)


class ImageDecodeError(ValueError):
    """An upload is not a usable image; the message says what is wrong and how to fix it."""


def decode_image(
    data: bytes, max_pixels: int = MAX_PIXELS, max_bytes: int = MAX_UPLOAD_BYTES
) -> np.ndarray:
    """Decodes an uploaded image file into an RGB array, refusing anything unsafe.

    Reads JPEG, PNG, WebP, BMP and GIF (first frame), applies the EXIF orientation, converts
    every colour mode (CMYK, 16-bit, palette, grey, 1-bit) to 8-bit RGB and puts transparent
    pictures on white. Only Pillow is used: nothing is ever unpickled. Sizes are checked from
    the header, before any pixel is decoded; Pillow's decompression-bomb guard stays on.

    Args:
        data (bytes): The file's content.
        max_pixels (int): Largest width × height accepted.
        max_bytes (int): Largest file size accepted.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB, writable.

    Raises:
        ImageDecodeError: The file is empty, too big, not an image, or damaged.
    """
    data = bytes(data)
    if not data:
        raise ImageDecodeError("The file is empty. Please upload a photo file.")
    if len(data) > max_bytes:
        raise ImageDecodeError(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            f"{max_bytes / 1024 / 1024:.0f} MB. Please upload a smaller photo."
        )
    try:
        with Image.open(io.BytesIO(data), formats=list(PILLOW_FORMATS)) as image:
            _check_pixels(image.size, max_pixels)
            image.seek(0)  # first frame of an animation
            image.load()
            rgb = _to_rgb(_upright(image))
    except ImageDecodeError:
        raise
    except UnidentifiedImageError as error:
        raise ImageDecodeError(_NOT_AN_IMAGE) from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's guard refused at the header (above twice its limit), before our own check.
        raise ImageDecodeError(_too_big_message(error, max_pixels)) from error
    except Exception as error:  # noqa: BLE001 - any decoder failure on user data means "damaged"
        raise ImageDecodeError(_DAMAGED) from error
    return np.array(rgb, dtype=np.uint8)


def _pixel_limit(max_pixels: int) -> int:
    # Pillow's own guard warns above Image.MAX_IMAGE_PIXELS and refuses above twice that; the
    # stricter of both limits applies.
    if Image.MAX_IMAGE_PIXELS is None:
        return max_pixels
    return min(max_pixels, Image.MAX_IMAGE_PIXELS)


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    # Checked from the header, before any pixel is decoded: nothing big is allocated.
    limit = _pixel_limit(max_pixels)
    width, height = size
    if width * height > limit:
        raise ImageDecodeError(
            f"The image is {width}×{height} pixels ({_megapixels(width * height)}); the limit "
            f"is {_megapixels(limit)}. Please resize it (any photo editor can) or upload a "
            "smaller one."
        )


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.3g} megapixels"  # 400, 89.5, 0.001


def _too_big_message(error: Exception, max_pixels: int) -> str:
    # The exception does not carry the size as numbers, only inside its message.
    found = re.search(r"\((\d+) pixels\)", str(error))
    size = _megapixels(int(found.group(1))) if found else "too large"
    return (
        f"The image is {size}; the limit is {_megapixels(_pixel_limit(max_pixels))}. Please "
        "resize it (any photo editor can) or upload a smaller one."
    )


def _upright(image: Image.Image) -> Image.Image:
    # Phones store photos sideways plus an EXIF "orientation" tag; without this a portrait photo
    # would reach the network lying on its side.
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a broken EXIF block should not refuse a good photo
        return image


def _to_rgb(image: Image.Image) -> Image.Image:
    """Converts any Pillow mode to 8-bit RGB; transparent pixels go on a white background."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # 16-bit grey (PNG): Pillow's own conversion would clip everything above 255 to white.
        values = np.asarray(image, dtype=np.float64)
        grey = np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)
        key = image.info.get("transparency")  # a PNG's transparent grey value, if it has one
        if isinstance(key, int):
            rgb = np.repeat(grey[..., None], 3, axis=-1)
            rgb[values == key] = _BACKGROUND  # rebuilt from an array, the image loses its key
            return Image.fromarray(rgb)
        image = Image.fromarray(grey)  # "L"
    if image.mode in ("RGBA", "LA", "PA", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")  # RGB, L, 1, P, CMYK, YCbCr, ...


def to_cifar_size(image: np.ndarray) -> np.ndarray:
    """Shows a photo as the network sees it: centre square, shrunk to 32×32.

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB, e.g. from decode_image.

    Returns:
        np.ndarray: (32, 32, 3) uint8 RGB.

    Raises:
        ValueError: The array is not (H, W, 3) uint8.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"Expected an (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
    height, width, _ = image.shape
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = Image.fromarray(np.ascontiguousarray(image[top : top + side, left : left + side]))
    # Lanczos averages over the whole footprint when shrinking (no aliasing); reducing_gap first
    # box-averages a big photo cheaply, which changes nothing visible at 32×32.
    small = square.resize(
        (CIFAR_SIZE, CIFAR_SIZE), resample=Image.Resampling.LANCZOS, reducing_gap=3.0
    )
    return np.array(small, dtype=np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    """An RGB uint8 image as PNG bytes (encoded once, then shown by any number of sessions)."""
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()


def upscale_nearest(image: np.ndarray, scale: int) -> np.ndarray:
    """Blows an image up by an integer factor, each pixel becoming a scale×scale block.

    Args:
        image (np.ndarray): (H, W) grey, (H, W, C), or a stack (..., H, W, C).
        scale (int): Factor, at least 1.

    Returns:
        np.ndarray: (..., H·scale, W·scale, C), same dtype.
    """
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    if image.ndim == 2:
        return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    return np.repeat(np.repeat(image, scale, axis=-3), scale, axis=-2)
