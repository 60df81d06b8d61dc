"""CUDA paths: learned decoding and training steps on a GPU. Skipped where torch sees none."""

import numpy as np
import pytest
import torch
from skimage import data as samples

from sparsepix import api
from sparsepix.metrics import psnr
from sparsepix.train.config import LOSS_PROFILES, TrainConfig
from sparsepix.train.loop import Trainer

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def test_natural_decodes_on_cuda_as_on_the_cpu():
    image = samples.astronaut()
    data = api.encode(image, density=0.05, model="natural")
    on_gpu = api.decode(data, device="cuda")  # bf16/fp16 autocast, channels_last
    on_cpu = api.decode(data, device="cpu")
    _, canvas, mask = api.decode_samples(data)
    assert np.array_equal(on_gpu[mask], canvas[mask])  # kept pixels pasted back exactly
    assert psnr(on_cpu, on_gpu) > 40  # reduced precision moves a few levels at most
    assert abs(psnr(image, on_gpu) - psnr(image, on_cpu)) < 0.05


def test_large_images_tile_on_cuda():
    from sparsepix.models.inference import generate
    from sparsepix.models.registry import load_generator, shipped

    model = load_generator(shipped()["natural"], torch.device("cuda"))
    rng = np.random.default_rng(0)
    image = np.tile(samples.astronaut(), (2, 2, 1))[:900, :1000]
    mask = rng.random(image.shape[:2]) < 0.05
    canvas = image * mask[..., None]
    whole = generate(model, canvas, mask, torch.device("cuda"))
    tiled = generate(model, canvas, mask, torch.device("cuda"), tile=512, overlap=64, max_one_pass=0)
    assert psnr(whole, tiled) > 35  # the blend hides the seams


@pytest.mark.parametrize("preset,loss", [("tiny", "xgan"), ("tiny-refine", "l1")])
def test_training_steps_on_cuda(tmp_path, preset, loss):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    from PIL import Image

    for i in range(8):
        Image.fromarray(rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    cfg = TrainConfig(
        data=(str(folder),),
        out=str(tmp_path / "run"),
        preset=preset,
        loss_profile=loss,
        weights=LOSS_PROFILES[loss],
        crop=32,
        batch=4,
        steps=3,
        val_count=2,
        val_every=3,
        ckpt_every=3,
        workers=0,
        device="cuda",
    )
    trainer = Trainer(cfg, quiet=True)
    assert trainer.use_amp and next(trainer.G.parameters()).is_cuda
    history = trainer.train()
    assert [r["step"] for r in history] == [1, 2, 3]
    assert all(np.isfinite(r["g_total"]) for r in history)
    resumed = Trainer(cfg.with_changes(steps=4), resume=str(tmp_path / "run" / "latest.pt"), quiet=True)
    assert resumed.step == 3 and [r["step"] for r in resumed.train()] == [4]


def test_device_batches_on_cuda_are_the_cpus(tmp_path):
    from PIL import Image

    from sparsepix.train.devicedata import DeviceBatches

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(samples.astronaut()[i * 90 : i * 90 + 96, i * 70 : i * 70 + 96]).save(
            folder / f"{i}.png"
        )
    cfg = TrainConfig(
        data=(str(folder),), out=str(tmp_path), crop=64, batch=4, quality=65, data_path="device"
    )
    paths = sorted(folder.glob("*.png"))
    on_cpu = DeviceBatches(paths, cfg, torch.device("cpu"), coarse=True).batch(3)
    on_gpu = DeviceBatches(paths, cfg, torch.device("cuda"), coarse=True).batch(3)
    canvas, mask, target, _, coarse = (t.cpu() for t in on_gpu)
    assert torch.equal(target, on_cpu[2]) and torch.equal(canvas, on_cpu[0])
    # Sobel keys are float64 logs: a near-tie may round the other way on the GPU.
    assert (mask != on_cpu[1]).sum() <= 8
    assert torch.allclose(coarse, on_cpu[4], atol=1e-3) or (mask != on_cpu[1]).any()
