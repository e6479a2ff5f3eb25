"""Edge cases of cifar_core.images: exact messages and limits, every Pillow mode, PNG output."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cifar_core import images as I
from cifar_core.images import ImageDecodeError, decode_image, png_bytes, to_cifar_size
from tests.test_images import encode, noise_image, png_header_only

RESIZE = "Please resize it (any photo editor can) or upload a smaller one."


def padded_png(total_bytes: int) -> bytes:
    """A real PNG photo followed by filler bytes (as some apps append data): total_bytes long."""
    data = encode(noise_image(), "PNG")
    return data + b"\0" * (total_bytes - len(data))


# --- what the student reads when an upload is refused ------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty. Please upload a photo file."),
        # 11,063,000 bytes = 10.5505 MB: the size is shown to 0.1 MB, the 10 MB limit as is.
        (
            padded_png(11_063_000),
            "The file is 10.6 MB; the limit is 10 MB. Please upload a smaller photo.",
        ),
        # Just over the 50-megapixel limit, refused from the header before decoding.
        (
            png_header_only(7_250, 7_000),
            "The image is 7250×7000 pixels (50.8 megapixels); the limit is 50 megapixels. "
            + RESIZE,
        ),
        # Above twice Pillow's own limit: its guard refuses first, our message says the same.
        (
            png_header_only(20_000, 20_000),
            f"The image is 400 megapixels; the limit is 50 megapixels. {RESIZE}",
        ),
        (b"just some text", I._NOT_AN_IMAGE),
    ],
    ids=["empty", "too-many-bytes", "too-many-pixels", "pillow-bomb-guard", "not-an-image"],
)
def test_refusals_say_exactly_what_is_wrong_and_what_to_do(data: bytes, expected: str) -> None:
    with pytest.raises(ImageDecodeError) as info:
        decode_image(data)
    assert str(info.value) == expected


def test_limits_are_inclusive() -> None:
    # A file of exactly max_bytes and an image of exactly max_pixels are accepted.
    data = encode(Image.new("RGB", (100, 100), (10, 20, 30)), "PNG")
    out = decode_image(data, max_pixels=100 * 100, max_bytes=len(data))
    assert out.shape == (100, 100, 3) and (out == (10, 20, 30)).all()
    with pytest.raises(ImageDecodeError, match="100×100 pixels"):
        decode_image(data, max_pixels=100 * 100 - 1)
    with pytest.raises(ImageDecodeError, match="MB; the limit is"):
        decode_image(data, max_bytes=len(data) - 1)


def test_a_higher_own_limit_cannot_lift_pillows_guard(recwarn: pytest.WarningsRecorder) -> None:
    # 100 megapixels: above Pillow's MAX_IMAGE_PIXELS (89.5 MP), below twice it (only a warning
    # from Pillow). Asking for a 200-MP limit still refuses: the stricter limit applies.
    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < 100_000_000
    with pytest.raises(ImageDecodeError) as info:
        decode_image(png_header_only(10_000, 10_000), max_pixels=200_000_000)
    assert str(info.value) == (
        f"The image is 10000×10000 pixels (100 megapixels); the limit is 89.5 megapixels. {RESIZE}"
    )


def test_our_limit_holds_when_the_operator_turns_pillows_guard_off(monkeypatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(ImageDecodeError, match=r"\(60 megapixels\); the limit is 50 megapixels"):
        decode_image(png_header_only(10_000, 6_000))
    small = encode(Image.new("RGB", (30, 20), (1, 2, 3)), "PNG")
    assert (decode_image(small) == (1, 2, 3)).all()


def test_a_bomb_message_without_a_pixel_count_still_reads_well() -> None:
    # Pillow's wording is not an API: if it ever drops "(N pixels)", the student still gets
    # a sentence (and never an AttributeError from the regex).
    error = Image.DecompressionBombError("Image is a decompression bomb")
    assert I._too_big_message(error, I.MAX_PIXELS) == (
        f"The image is too large; the limit is 50 megapixels. {RESIZE}"
    )


# --- every colour mode becomes 8-bit RGB -------------------------------------------------------


@pytest.mark.parametrize("mode", ["I;16", "I;16B", "I;16L", "I;16N", "I"])
def test_16_bit_greys_are_scaled_in_every_layout(mode: str) -> None:
    # Pillow 13 opens 16-bit PNGs as "I;16"; the Pillow 10.4 that requirements.txt still
    # allows opens them as "I". Any 16-bit layout must be scaled (÷257), never clipped.
    grey = np.random.default_rng(5).integers(0, 65536, (8, 8)).astype(np.uint16)
    grey[0, :4] = [0, 129, 32896, 65535]  # → 0, 1, 128, 255
    if mode == "I":
        image = Image.fromarray(grey.astype(np.int32))
    else:
        layout = {"I;16": "<u2", "I;16B": ">u2", "I;16L": "<u2", "I;16N": "=u2"}[mode]
        image = Image.frombytes(mode, (8, 8), grey.astype(layout).tobytes())
    assert image.mode == mode
    out = np.asarray(I._to_rgb(image))
    assert out.shape == (8, 8, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 0], np.rint(grey / 257))
    assert list(out[0, :4, 1]) == [0, 1, 128, 255]


def test_32_bit_greys_out_of_range_clip_instead_of_wrapping() -> None:
    # 32-bit "I" images may hold any int: -1000 / 257 → -4 would wrap to 252, 70000 / 257 → 272
    # to 16, if they were not clipped to black and white first.
    image = Image.fromarray(np.array([[-1000, 0, 65535, 70_000, 2**31 - 1]], dtype=np.int32))
    assert image.mode == "I"
    assert list(np.asarray(I._to_rgb(image))[0, :, 0]) == [0, 0, 255, 255, 255]


def alpha_image(mode: str) -> Image.Image:
    """A 4×4 half-transparent red (or black, for grey modes) picture in `mode`."""
    if mode == "PA":
        image = Image.new("PA", (4, 4), (1, 128))
        image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)  # index 1 is red
        return image
    if mode == "LA":
        return Image.new("LA", (4, 4), (0, 128))
    return Image.new("RGBA", (4, 4), (255, 0, 0, 128)).convert(mode)  # RGBA, RGBa


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("RGBA", (255, 127, 127)),
        ("RGBa", (255, 127, 127)),  # premultiplied alpha
        ("PA", (255, 127, 127)),
        ("LA", (127, 127, 127)),
    ],
)
def test_every_alpha_mode_goes_on_white(mode: str, expected: tuple[int, int, int]) -> None:
    image = alpha_image(mode)
    assert image.mode == mode and "transparency" not in image.info
    out = np.asarray(I._to_rgb(image))
    assert out.shape == (4, 4, 3) and np.abs(out.astype(int) - expected).max() <= 1


# --- shrinking and PNG output ------------------------------------------------------------------


def test_detail_the_32x32_picture_can_show_stays_sharp() -> None:
    # Vertical stripes 4 output pixels wide (8 in the 64×64 photo): a detail a 32×32 image
    # can show. Lanczos keeps > 90% of the contrast (Pillow's bicubic keeps ~87%).
    x = np.arange(64)
    row = np.rint(127.5 + 127.5 * np.cos(2 * np.pi * x / 8)).astype(np.uint8)
    photo = np.repeat(np.tile(row, (64, 1))[..., None], 3, axis=2)
    out = to_cifar_size(photo).astype(int)
    contrast = out[16, 4:28, 0].max() - out[16, 4:28, 0].min()
    assert contrast >= 0.9 * 255, contrast
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


def test_png_bytes_round_trip_losslessly() -> None:
    image = np.asarray(noise_image((40, 30)))
    data = png_bytes(image)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(data)).format == "PNG"
    np.testing.assert_array_equal(decode_image(data), image)


def test_a_transparent_16_bit_grey_goes_on_white():
    # A 16-bit grey PNG whose transparent value is 0: those pixels are white, the rest grey.
    values = np.full((40, 40), 30_000, dtype=np.uint16)
    values[:20] = 0
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, "PNG", transparency=0)
    out = decode_image(buffer.getvalue())
    assert (out[:20] == 255).all()  # transparent: the white background
    assert (out[20:] == round(30_000 / 257)).all()  # opaque: its grey, scaled to 8 bits
