import numpy as np
import pytest

from sparsepix.codec import reconstructors
from sparsepix.codec.samplers import random_mask
from sparsepix.errors import InputError, ModelError

CLASSICAL = ["nearest", "linear", "telea", "ns", "pushpull"]


def _canvas(image: np.ndarray, density: float, seed: int = 0):
    img = image if image.ndim == 3 else image[..., None]
    h, w = img.shape[:2]
    mask = random_mask(seed, h, w, max(1, int(density * h * w)))
    return img * mask[..., None], mask, img


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255**2 / mse)


@pytest.mark.parametrize("name", CLASSICAL)
@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 57, 3), (43, 1, 3), (2, 2, 1), (31, 17, 3), (64, 48, 1)])
def test_shapes_and_kept_pixels_exact(name, shape):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    canvas, mask, img = _canvas(image, 0.2)
    out = reconstructors.reconstruct(reconstructors.CLASSICAL[name], canvas, mask)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out[mask], img[mask])


@pytest.mark.parametrize("name", CLASSICAL)
def test_single_sample_fills_whole_image(name):
    canvas = np.zeros((9, 11, 3), np.uint8)
    mask = np.zeros((9, 11), bool)
    canvas[4, 5] = (10, 200, 30)
    mask[4, 5] = True
    out = reconstructors.reconstruct(reconstructors.CLASSICAL[name], canvas, mask)
    if name in ("nearest", "linear", "pushpull"):
        assert (out == (10, 200, 30)).all()


@pytest.mark.parametrize("name", CLASSICAL)
def test_quality_on_a_photo(name, astronaut):
    canvas, mask, img = _canvas(astronaut, 0.05)
    out = reconstructors.reconstruct(reconstructors.CLASSICAL[name], canvas, mask)
    zero_fill = psnr(canvas, img)
    assert psnr(out, img) > zero_fill + 10  # every method is far better than leaving holes
    assert psnr(out, img) > 19.5  # measured: nearest 19.9, linear 21.8 dB on this image


def test_linear_beats_nearest(astronaut):
    canvas, mask, img = _canvas(astronaut, 0.05)
    lin = reconstructors.reconstruct(reconstructors.CLASSICAL["linear"], canvas, mask)
    near = reconstructors.reconstruct(reconstructors.CLASSICAL["nearest"], canvas, mask)
    assert psnr(lin, img) > psnr(near, img) + 1


def test_linear_is_exact_on_a_plane():
    yy, xx = np.mgrid[0:40, 0:50]
    plane = np.stack([2 * xx + yy, xx + 3 * yy, 100 + xx], -1).astype(np.uint8)
    canvas, mask, _ = _canvas(plane, 0.1)
    mask[[0, 0, -1, -1], [0, -1, 0, -1]] = True  # corners: the hull covers the image
    canvas[mask] = plane[mask]
    out = reconstructors.reconstruct(reconstructors.CLASSICAL["linear"], canvas, mask)
    assert np.abs(out.astype(int) - plane).max() <= 1


def test_unknown_model_and_file_resolution():
    from sparsepix import catalog

    with pytest.raises(ModelError, match="unknown model"):
        catalog.get("magic")
    with pytest.raises(InputError, match="bad model reference"):
        catalog.get("natural@x")
    assert catalog.for_file("").name == reconstructors.DEFAULT_CLASSICAL
    with pytest.raises(ModelError, match="lacks"):
        catalog.for_file("no-such-model@3")
    assert catalog.for_file("no-such-model@3", asked="nearest").name == "nearest"
    assert catalog.for_file("linear").name == "linear"


def test_model_references_parse_one_way():
    ref = reconstructors.ModelRef.parse("natural-opt@12")
    assert (ref.name, ref.version, str(ref)) == ("natural-opt", 12, "natural-opt@12")
    assert reconstructors.ModelRef.parse("linear") == reconstructors.ModelRef("linear")
    for bad in ("", "@3", "Natural", "a@0", "a@256", "a@", "a b", "x" * 49):
        with pytest.raises(InputError):
            reconstructors.ModelRef.parse(bad)
