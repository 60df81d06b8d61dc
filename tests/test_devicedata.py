"""Training batches made on the device (train/devicedata.py) against the codec's own numpy code.

Run here on CPU tensors; test_gpu.py repeats the comparison on CUDA where there is one.
"""

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as samples

from sparsepix.codec.predictive import decode_pred, encode_pred
from sparsepix.codec.prng import splitmix64 as splitmix64_np
from sparsepix.codec.quality import params_for_quality
from sparsepix.codec.samplers import random_mask, sobel_mask
from sparsepix.errors import InputError
from sparsepix.models.generator import linear_fill
from sparsepix.train import devicedata
from sparsepix.train.config import TrainConfig
from sparsepix.train.loop import Trainer

SEEDS = [0, 1, 12345678901234567, 2**63 - 5]


def _crops() -> np.ndarray:
    """Four 64x64 photo crops (B, H, W, 3): texture, edges, flat areas."""
    return np.stack(
        [
            samples.astronaut()[100:164, 180:244],
            samples.coffee()[150:214, 200:264],
            samples.chelsea()[40:104, 100:164],
            samples.rocket()[200:264, 250:314],
        ]
    )


def _nchw(crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(crops.transpose(0, 3, 1, 2)))


def test_splitmix64_matches_the_codec_bit_for_bit():
    index = np.arange(0, 5000, 7, dtype=np.uint64)
    got = devicedata.splitmix64(
        devicedata._seed_column(SEEDS, torch.device("cpu")), torch.from_numpy(index.astype(np.int64))
    )
    for row, seed in zip(got.numpy(), SEEDS):
        assert np.array_equal(row.view(np.uint64), splitmix64_np(seed, index))


def test_random_masks_are_the_codecs():
    counts = torch.tensor([1, 40, 409, 2048])
    masks = devicedata.random_masks(SEEDS, 64, 64, counts)
    for mask, seed, count in zip(masks.numpy(), SEEDS, counts.tolist()):
        assert np.array_equal(mask, random_mask(seed, 64, 64, count))


def test_sobel_masks_are_the_codecs():
    crops = _crops()
    counts = torch.tensor([41, 205, 410, 820])
    masks = devicedata.sobel_masks(_nchw(crops), SEEDS, counts)
    for mask, crop, seed, count in zip(masks.numpy(), crops, SEEDS, counts.tolist()):
        assert mask.sum() == count
        # Keys are float64 logs: a near-tie may round the other way on another platform.
        assert np.count_nonzero(mask != sobel_mask(crop, seed, count)) <= 2


@pytest.mark.parametrize("density", [0.02, 0.15])
def test_lossy_values_equal_the_encoders_at_every_quality(density):
    crops = _crops()
    count = int(density * 64 * 64)
    for crop, seed in zip(crops[:2], SEEDS[1:3]):
        indices = np.flatnonzero(random_mask(seed, 64, 64, count))
        values = crop.reshape(-1, 3)[indices]
        for quality in range(1, 101):
            params = params_for_quality(quality)
            expected = decode_pred(encode_pred(values, indices, 64, seed, params), indices, 64, seed, 3)
            got = devicedata.pred_values(
                torch.from_numpy(values), torch.from_numpy(indices), 64, seed, quality
            )
            assert np.array_equal(got.numpy(), expected), quality


def test_far_neighbours_predict_zero_as_the_spec_says():
    # Two samples more than 256 px apart: every weight rounds to 0 (docs/FORMAT.md).
    indices = np.array([0] + list(range(300 * 400 - 80, 300 * 400)))
    values = np.random.default_rng(0).integers(0, 256, (len(indices), 3), dtype=np.uint8)
    params = params_for_quality(65)
    expected = decode_pred(encode_pred(values, indices, 400, 9, params), indices, 400, 9, 3)
    got = devicedata.pred_values(torch.from_numpy(values), torch.from_numpy(indices), 400, 9, 65)
    assert np.array_equal(got.numpy(), expected)


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    """Twelve photo crops, two of them smaller than the training crop (padded as the workers do)."""
    folder = tmp_path_factory.mktemp("photos")
    photo = samples.astronaut()
    for i in range(12):
        side = 24 if i < 2 else 48
        Image.fromarray(photo[i * 37 : i * 37 + side, i * 29 : i * 29 + side]).save(folder / f"{i:02d}.png")
    return folder


def _device_config(image_dir, out, **kw) -> TrainConfig:
    base = dict(data=(str(image_dir),), out=str(out), preset="tiny", crop=32, batch=2, steps=4, val_count=4)
    base.update(val_every=1000, ckpt_every=2, log_every=1, workers=0, device="cpu", task="sparse")
    base.update(data_path="device", quality=65, **kw)
    return TrainConfig(**base)


def test_batches_are_deterministic_and_shaped_as_the_workers(image_dir, tmp_path):
    trainer = Trainer(_device_config(image_dir, tmp_path, preset="tiny-refine", batch=3), quiet=True)
    made = trainer.device_batches
    canvas, mask, target, labels, coarse = made.batch(5)
    again = made.batch(5)
    assert all(torch.equal(a, b) for a, b in zip((canvas, mask, target, labels, coarse), again))
    assert not torch.equal(canvas, made.batch(6)[0])
    assert canvas.shape == target.shape == coarse.shape == (3, 3, 32, 32) and mask.shape == (3, 1, 32, 32)
    assert canvas.min() >= -1 and canvas.max() <= 1 and labels.tolist() == [-1, -1, -1]
    assert torch.equal(canvas * (1 - mask), -(1 - mask).expand_as(canvas))  # dropped: 0 (-1 as floats)
    assert torch.allclose(coarse, linear_fill(canvas * mask, mask), atol=1e-5)
    density = mask.mean((1, 2, 3))
    assert (density >= 0.01 - 1e-3).all() and (density <= 0.2 + 1e-3).all()


def test_training_on_device_batches_resumes_exactly(image_dir, tmp_path):
    straight = Trainer(_device_config(image_dir, tmp_path / "s", steps=4), quiet=True).train()
    first = Trainer(_device_config(image_dir, tmp_path / "r", steps=2), quiet=True).train()
    resume = str(tmp_path / "r" / "latest.pt")
    second = Trainer(_device_config(image_dir, tmp_path / "r", steps=4), resume=resume, quiet=True).train()
    assert [r["step"] for r in first + second] == [1, 2, 3, 4]
    for a, b in zip(straight, first + second):
        assert {k: v for k, v in a.items() if k != "images_per_s"} == {
            k: v for k, v in b.items() if k != "images_per_s"
        }


def test_unported_steps_are_refused_by_name(image_dir, tmp_path):
    with pytest.raises(InputError, match="optimize"):
        Trainer(_device_config(image_dir, tmp_path / "a", optimize=5), quiet=True)
    with pytest.raises(InputError, match="white-block"):
        Trainer(_device_config(image_dir, tmp_path / "b", task="white-block"), quiet=True)
