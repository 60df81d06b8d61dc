"""Images as users have them: EXIF orientation, transparency, 16 bits, animations, sizes the
decoder would refuse. What is changed on the way in is a SparsepixWarning; nothing silently."""

import io
import warnings

import numpy as np
import pytest
from PIL import Image

import sparsepix
from sparsepix.codec.imageio import image_from_bytes, pil_to_array
from sparsepix.errors import SparsepixWarning


def _bytes(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return buf.getvalue()


def _quiet(data: bytes) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("error", SparsepixWarning)
        return image_from_bytes(data)


def test_exif_orientation_is_applied(small_rgb):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to view"
    stored = Image.fromarray(small_rgb)
    data = _bytes(stored, "JPEG", exif=exif, quality=95)
    shown = _quiet(data)
    assert shown.shape == (small_rgb.shape[1], small_rgb.shape[0], 3)  # portrait as viewers show it


def test_transparency_is_composited_over_the_background_with_a_warning():
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 200  # hidden red under full transparency
    rgba[:4, ..., 3] = 255
    with pytest.warns(SparsepixWarning, match="transparency composited over background #ffffff"):
        out = image_from_bytes(_bytes(Image.fromarray(rgba, "RGBA")))
    assert (out[4:] == 255).all() and (out[:4] == [200, 0, 0]).all()
    with pytest.warns(SparsepixWarning):
        black = image_from_bytes(_bytes(Image.fromarray(rgba, "RGBA")), background=(0, 0, 0))
    assert (black[4:] == 0).all()
    rgba[..., 3] = 255  # an opaque alpha channel goes without a word
    assert _quiet(_bytes(Image.fromarray(rgba, "RGBA"))).shape == (8, 8, 3)


def test_16_bit_grey_and_colour_are_cut_to_their_high_byte_alike():
    import cv2

    deep = (np.arange(64, dtype=np.uint16) * 1000).reshape(8, 8)
    with pytest.warns(SparsepixWarning, match="16-bit"):
        grey = image_from_bytes(_bytes(Image.fromarray(deep)))
    ok, colour = cv2.imencode(".png", np.dstack([deep] * 3))
    with pytest.warns(SparsepixWarning, match="16-bit"):
        rgb = image_from_bytes(colour.tobytes())
    assert np.array_equal(grey, deep >> 8) and np.array_equal(rgb[..., 0], grey)


def test_extra_frames_are_announced(small_rgb):
    frames = [Image.fromarray(np.roll(small_rgb, i, axis=1)) for i in range(3)]
    data = _bytes(frames[0], "GIF", save_all=True, append_images=frames[1:])
    with pytest.warns(SparsepixWarning, match="3 frames; only the first"):
        image_from_bytes(data)


def test_samples_the_codec_cannot_hold_are_refused():
    for image in (Image.new("F", (4, 4)), Image.new("I", (4, 4))):
        with pytest.raises(sparsepix.InputError, match="not supported"):
            pil_to_array(image)


def test_encode_refuses_what_decoders_would_refuse(monkeypatch, small_rgb):
    monkeypatch.setenv("SPARSEPIX_MAX_PIXELS", "1000")
    with pytest.raises(sparsepix.InputError, match="SPARSEPIX_MAX_PIXELS"):
        sparsepix.encode(small_rgb)
