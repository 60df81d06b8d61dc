"""The device Delaunay fill (models/devicefill.py) against the numpy one, on CPU tensors here
and on CUDA in tests/test_gpu.py: the same values wherever the samples lie."""

import numpy as np
import pytest
import torch

from sparsepix.codec.classical import linear_float
from sparsepix.models import devicefill


def _both(values: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    on_device = devicefill.fill_one(torch.from_numpy(values.transpose(2, 0, 1).copy()), known)
    return linear_float(values, known), on_device.permute(1, 2, 0).numpy()


def _cases(astronaut):
    rng = np.random.default_rng(0)
    photo = astronaut[100:260, 50:290].astype(np.float32)
    for density in (0.002, 0.05, 0.3):
        yield photo, rng.random(photo.shape[:2]) < density
    grid = np.zeros((40, 50), bool)
    grid[::7, ::5] = True  # co-circular quadruples everywhere
    yield photo[:40, :50], grid
    row = np.zeros((30, 40), bool)
    row[12, 3:37:4] = True  # collinear: no triangle, all nearest
    yield photo[:30, :40], row
    one = np.zeros((9, 11), bool)
    one[4, 5] = True
    yield photo[:9, :11, :1], one  # one sample, one channel
    yield photo[:1, :60], rng.random((1, 60)) < 0.2  # one row: the 1-D fill
    border = np.zeros((32, 32), bool)
    border[[0, -1], :] = border[:, [0, -1]] = True  # everything inside the hull
    yield photo[:32, :32], border
    yield photo[:20, :24], np.ones((20, 24), bool)  # nothing to fill (the hidden restoration tasks)


def test_a_fully_known_canvas_comes_back_as_it_is(astronaut):
    values = astronaut[:20, :24].astype(np.float32)
    for fill in _both(values, np.ones((20, 24), bool)):
        assert np.array_equal(fill, values)


def test_matches_the_numpy_fill(astronaut):
    for values, known in _cases(astronaut):
        numpy_fill, device_fill = _both(values * known[..., None], known)
        assert device_fill.shape == numpy_fill.shape
        assert np.abs(device_fill - numpy_fill).max() <= 1e-3


def test_small_chunks_give_the_same_fill(astronaut, monkeypatch):
    values, known = next(iter(_cases(astronaut)))
    whole = _both(values * known[..., None], known)[1]
    monkeypatch.setattr(devicefill, "_CHUNK", 97)  # many scanline and pixel chunks
    assert np.array_equal(_both(values * known[..., None], known)[1], whole)


def test_batched_fill_keeps_each_image_to_itself(astronaut):
    rng = np.random.default_rng(1)
    canvas = torch.from_numpy(astronaut[:48, :64].astype(np.float32).transpose(2, 0, 1).copy())
    masks = torch.from_numpy(rng.random((2, 1, 48, 64)) < 0.1).float()
    batch = torch.stack([canvas, canvas.flip(-1)]) * masks
    out = devicefill.delaunay_fill(batch, masks)
    for i in range(2):
        known = masks[i, 0].numpy() > 0.5
        expected = linear_float(batch[i].permute(1, 2, 0).numpy(), known)
        assert np.abs(out[i].permute(1, 2, 0).numpy() - expected).max() <= 1e-3


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_generator_fills_on_cuda_as_on_the_cpu(astronaut):
    from sparsepix.models.generator import linear_fill

    rng = np.random.default_rng(2)
    canvas = torch.from_numpy(astronaut.astype(np.float32).transpose(2, 0, 1).copy())[None] / 127.5 - 1
    mask = torch.from_numpy(rng.random((1, 1, 512, 512)) < 0.05).float()
    on_cpu = linear_fill(canvas * mask, mask)
    on_gpu = linear_fill((canvas * mask).cuda(), mask.cuda())
    assert on_gpu.is_cuda and (on_gpu.cpu() - on_cpu).abs().max() <= 1e-3
