"""Pillow's own API opens and saves .spx once sparsepix is imported (pil_plugin.py)."""

import io

import numpy as np
import pytest
from PIL import Image, UnidentifiedImageError

import sparsepix


@pytest.fixture
def spx_path(tmp_path, small_rgb):
    path = tmp_path / "a.spx"
    Image.fromarray(small_rgb).save(path, density=0.1, model="linear", seed=7)
    return path


def test_open_is_lazy_and_load_decodes_with_the_files_model(spx_path, small_rgb):
    with Image.open(spx_path) as image:
        assert image.format == "SPX" and image.mode == "RGB"
        assert image.size == (small_rgb.shape[1], small_rgb.shape[0])
        assert image.info["model"] == "linear" and image.info["sampler"] == "adaptive"
        assert image.info["density"] == pytest.approx(0.1, abs=1e-3)
        assert image.info["bpp"] == pytest.approx(8 * spx_path.stat().st_size / small_rgb[..., 0].size)
        assert image.tile  # nothing reconstructed yet
        pixels = np.asarray(image)
    assert np.array_equal(pixels, sparsepix.decode(spx_path.read_bytes()))


def test_save_takes_the_encoders_options(tmp_path, small_rgb):
    for i, options in enumerate([{"density": 0.03, "quality": 65, "optimize": 5}, {"sampler": "sobel"}]):
        buf = io.BytesIO()
        Image.fromarray(small_rgb).save(buf, format="SPX", **options)
        assert buf.getvalue() == sparsepix.encode(small_rgb, **options)


def test_save_to_a_rate(tmp_path, small_rgb):
    path = tmp_path / "r.spx"
    Image.fromarray(small_rgb).save(path, bpp=0.3)
    assert 0.95 * 0.3 <= Image.open(path).info["bpp"] <= 0.3
    Image.fromarray(small_rgb).save(path, size=400)
    assert path.stat().st_size <= 400


def test_grayscale_round_trip(tmp_path, small_rgb):
    path = tmp_path / "g.spx"
    Image.fromarray(small_rgb[..., 1]).save(path)
    with Image.open(path) as image:
        assert image.mode == "L" and np.asarray(image).shape == small_rgb.shape[:2]


def test_unknown_or_conflicting_options_are_refused_and_leave_no_file(tmp_path, small_rgb):
    for options in ({"densty": 0.1}, {"bpp": 0.2, "density": 0.1}, {"bpp": 0.2, "size": 100}):
        path = tmp_path / "x.spx"
        with pytest.raises(sparsepix.InputError):
            Image.fromarray(small_rgb).save(path, **options)
        assert not path.exists()


def test_a_damaged_file_is_not_identified(spx_path):
    spx_path.write_bytes(spx_path.read_bytes()[:40])
    with pytest.raises(UnidentifiedImageError):
        Image.open(spx_path)
