"""Tests of cifar_core.images: every kind of upload, good and bad, built in memory with Pillow."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from cifar_core.constants import MAX_UPLOAD_MB
from cifar_core.images import (
    ALLOWED_TYPES,
    MAX_PIXELS,
    ImageDecodeError,
    decode_image,
    to_cifar_size,
)

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    """The bytes of image saved as fmt."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that *declares* width × height (1-bit grey) but holds no pixels: a few bytes."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def noise_image(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """An RGB photo-like image (noise compresses badly, so a truncated file really is cut)."""
    array = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(array)


# --- good files ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "WEBP", "JPEG", "GIF"])
def test_decodes_every_allowed_format(fmt: str) -> None:
    image = Image.new("RGB", (20, 10), BLUE)
    options = {"lossless": True} if fmt == "WEBP" else {}
    out = decode_image(encode(image, fmt, **options))
    assert out.shape == (10, 20, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - BLUE).max() <= 3  # JPEG is lossy
    out[0, 0] = 0  # writable


def test_allowed_types_for_the_uploader() -> None:
    assert ALLOWED_TYPES == ("jpg", "jpeg", "png", "webp", "bmp", "gif")
    assert MAX_UPLOAD_MB == 10


def test_cmyk_jpeg_becomes_rgb() -> None:
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # no cyan, full magenta+yellow = red
    out = decode_image(encode(cmyk, "JPEG", quality=95))
    assert np.abs(out.astype(int) - RED).max() <= 3


def test_16_bit_png_is_scaled_not_clipped() -> None:
    # Random 16-bit greys, most of them between two 8-bit levels, plus the edge cases:
    # 128 / 257 = 0.498 → 0, 129 / 257 = 0.502 → 1, 65534 / 257 = 254.996 → 255.
    ramp = np.random.default_rng(3).integers(0, 65536, (16, 16)).astype(np.uint16)
    ramp[0, :5] = [0, 128, 129, 65534, 65535]
    data = encode(Image.fromarray(ramp), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")  # really a 16-bit PNG
    out = decode_image(data)
    expected = np.rint(ramp / 257)
    assert (np.floor(ramp / 257) != expected).sum() > 50  # truncating would show here
    np.testing.assert_array_equal(out[..., 0], expected)  # rounded to the nearest level
    assert list(out[0, :5, 0]) == [0, 0, 1, 255, 255]
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


def test_palette_png_with_transparency_goes_on_white() -> None:
    image = Image.new("P", (8, 8), 0)
    image.putpalette([0, 0, 0, *RED] + [0] * 762)  # index 0 black, index 1 red
    image.paste(1, (0, 0, 4, 8))  # left half red
    out = decode_image(encode(image, "PNG", transparency=0))  # black is transparent
    assert (out[:, :4] == RED).all() and (out[:, 4:] == WHITE).all()


def test_rgba_is_composited_on_white() -> None:
    image = Image.new("RGBA", (4, 4), (255, 0, 0, 128))  # half-transparent red
    out = decode_image(encode(image, "PNG"))
    assert np.abs(out.astype(int) - (255, 127, 127)).max() <= 1


@pytest.mark.parametrize(
    ("mode", "colour", "expected"),
    [("L", 100, (100, 100, 100)), ("1", 1, WHITE), ("LA", (0, 0), WHITE), ("P", 3, (3, 3, 3))],
)
def test_other_modes(mode: str, colour: object, expected: tuple[int, int, int]) -> None:
    image = Image.new(mode, (4, 4), colour)
    if mode == "P":
        image.putpalette([v for i in range(256) for v in (i, i, i)])
    assert (decode_image(encode(image, "PNG")) == expected).all()


def test_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (8, 8), colour) for colour in (RED, GREEN, BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    assert (decode_image(data) == RED).all()


def test_exif_orientation_is_applied() -> None:
    image = Image.new("RGB", (40, 20), BLUE)  # landscape: red left half, blue right half
    image.paste(RED, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display", as a phone held upright writes
    out = decode_image(encode(image, "JPEG", exif=exif, quality=95))
    assert out.shape == (40, 20, 3)  # portrait now
    assert np.abs(out[5:15].astype(int) - RED).max() <= 8  # left went to the top
    assert np.abs(out[25:35].astype(int) - BLUE).max() <= 8


# --- bad files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"hello, this is text", b"\x80\x03}q\x00.", b"%PDF-1.4 not really", b"GIF89a"]
)
def test_non_images_are_refused(data: bytes) -> None:
    with pytest.raises(ImageDecodeError, match="not an image Pillow can read"):
        decode_image(data)


def test_empty_file() -> None:
    with pytest.raises(ImageDecodeError, match="empty"):
        decode_image(b"")


def test_other_formats_are_refused() -> None:
    with pytest.raises(ImageDecodeError, match="JPEG, PNG, WebP, BMP or GIF"):
        decode_image(encode(Image.new("RGB", (4, 4)), "TIFF"))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_files_are_refused(fmt: str) -> None:
    data = encode(noise_image(), fmt)
    with pytest.raises(ImageDecodeError, match="truncated or damaged"):
        decode_image(data[: len(data) // 2])


def test_huge_image_is_refused_by_pillows_guard_without_decoding() -> None:
    data = png_header_only(20_000, 20_000)  # 400 megapixels declared in 57 bytes
    start = time.perf_counter()
    with pytest.raises(ImageDecodeError, match=r"400 megapixels; the limit is 50 megapixels"):
        decode_image(data)
    assert time.perf_counter() - start < 0.5  # refused from the header: nothing allocated


def test_large_image_is_refused_by_our_limit() -> None:
    assert MAX_PIXELS < 10_000 * 6_000
    with pytest.raises(ImageDecodeError, match=r"10000×6000 pixels .* resize it"):
        decode_image(png_header_only(10_000, 6_000))
    with pytest.raises(ImageDecodeError, match="limit is 0.001 megapixels"):
        decode_image(encode(Image.new("RGB", (100, 100)), "PNG"), max_pixels=1_000)


def test_too_many_bytes() -> None:
    data = encode(noise_image(), "PNG")
    with pytest.raises(ImageDecodeError, match="MB; the limit is"):
        decode_image(data, max_bytes=1_000)


def test_decode_error_is_a_value_error() -> None:
    assert issubclass(ImageDecodeError, ValueError)


# --- to_cifar_size ---------------------------------------------------------------------------


def test_to_cifar_size_crops_the_centre_square() -> None:
    wide = np.zeros((64, 128, 3), np.uint8)
    wide[:, 32:96] = GREEN  # the centre square; red bands left and right are cropped away
    wide[:, :32] = wide[:, 96:] = RED
    out = to_cifar_size(wide)
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    assert (out == GREEN).all()
    tall = np.zeros((90, 30, 3), np.uint8)
    tall[30:60] = BLUE
    assert (to_cifar_size(tall) == BLUE).all()


def test_to_cifar_size_keeps_colours_and_upscales_small_images() -> None:
    assert (to_cifar_size(np.full((8, 8, 3), 77, np.uint8)) == 77).all()
    photo = np.asarray(noise_image((1200, 900)))
    assert to_cifar_size(photo).shape == (32, 32, 3)
    # Area-like filtering: the mean brightness of noise survives the 28× reduction.
    assert abs(to_cifar_size(photo).mean() - photo.mean()) < 3


def test_to_cifar_size_rejects_bad_arrays() -> None:
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        to_cifar_size(np.zeros((32, 32), np.uint8))
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        to_cifar_size(np.zeros((32, 32, 3), np.float32))


def test_decode_then_resize_end_to_end() -> None:
    out = to_cifar_size(decode_image(encode(noise_image((300, 200)), "JPEG")))
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8


# --- uint8 pixels out of the augmentation (apply_transform): rounded, never truncated -------
# (tests/test_augmentation.py::test_uint8_output_is_rounded_and_in_range checks dtype and
# shape only; these check the values.)


def test_augmented_uint8_pixels_are_rounded_to_the_nearest_level() -> None:
    from cifar_core.augmentation import Transform, apply_transform

    stripes = np.zeros((32, 32, 3), np.uint8)
    stripes[:, 1::2] = 3  # columns 0, 3, 0, 3, …
    # A quarter-pixel shift reads 3/4 of one column and 1/4 of its neighbour: 0.75 and 2.25.
    out = apply_transform(stripes, Transform(shift_x_px=0.25))
    exact = apply_transform(stripes / 255.0, Transform(shift_x_px=0.25)) * 255
    np.testing.assert_allclose(exact[4, 1:5, 0], [2.25, 0.75, 2.25, 0.75], atol=1e-9)
    assert list(out[4, 1:5, 0]) == [2, 1, 2, 1]  # truncating gives 2, 0; ceiling 3, 1
    # Near the top (columns 254, 255, …): 254.75 → 255 and 254.25 → 254, nothing wraps to 0.
    top = stripes // 3 + 254
    near_top = apply_transform(top, Transform(shift_x_px=0.25))
    assert list(near_top[4, 1:5, 0]) == [255, 254, 255, 254]


def test_augmented_uint8_pixels_match_the_exact_result_rounded_and_clipped() -> None:
    from cifar_core.augmentation import Transform, apply_transform

    noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    # Brightness 1.3 pushes a tenth of the pixels past 255: they must clip, not wrap.
    t = Transform(rotation_deg=33, zoom_x=0.8, shear_deg=12, brightness=1.3)
    out = apply_transform(noise, t)
    exact = apply_transform(noise / 255.0, t) * 255  # float64 all the way, in [0, 255]
    assert out.dtype == np.uint8 and out.shape == noise.shape
    expected = np.clip(np.rint(exact), 0, 255)
    assert (exact >= 254.5).mean() > 0.05 and (out == 255).mean() >= (exact >= 254.5).mean()
    assert (np.floor(exact) != expected).mean() > 0.3  # truncating would differ this often
    diff = np.abs(out.astype(int) - expected)
    # float32 (uint8 path) vs float64 arithmetic may flip an exact .5 tie, nothing more.
    assert diff.max() <= 1 and (diff > 0).mean() < 0.005
