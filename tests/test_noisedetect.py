"""The colour-noise detector: its features, its tiling, and a detector model end to end."""

import dataclasses
import json
import math
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import sparsepix
from sparsepix.models import noisedetector
from sparsepix.models.config import DetectorConfig, GeneratorConfig
from sparsepix.models.generator import Generator
from sparsepix.models.noisedetector import NoiseDetector, agreement, true_pixels
from sparsepix.models.registry import as_reconstructor, load_detector, read_card
from sparsepix.train import noisedetect
from sparsepix.train.corruptions import color_noise
from sparsepix.train.export import export


def test_true_pixels_agree_with_their_neighbours_and_noise_does_not(astronaut):
    image = np.ascontiguousarray(astronaut[::4, ::4])
    noisy, _ = color_noise(image, np.random.default_rng(0), share=(0.9, 0.9))
    true = (noisy == image).all(-1)
    x = torch.from_numpy(noisy).permute(2, 0, 1)[None].float() / 255
    agree = agreement(x, radius=3)[0].numpy()  # (distances, H, W)
    for share in agree:
        assert share[true].mean() > 3 * share[~true].mean()


@pytest.mark.parametrize("passes", [2, 3])
def test_tiles_give_what_one_pass_gives(astronaut, monkeypatch, passes):
    torch.manual_seed(0)
    net = NoiseDetector(DetectorConfig(channels=8, passes=passes)).eval()
    image = np.ascontiguousarray(astronaut[:300, :260])
    with torch.no_grad():
        logit = net(torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255)[-1]
    # Threshold at the median probability, so that about half the pixels are kept.
    middle = float(logit.median())
    net.config = dataclasses.replace(net.config, threshold=1 / (1 + math.exp(-middle)))
    whole = true_pixels(net, image, torch.device("cpu"))
    monkeypatch.setattr(noisedetector, "TILE", 96)
    tiled = true_pixels(net, image, torch.device("cpu"))
    assert 0.3 < whole.mean() < 0.7
    assert (tiled != whole).mean() < 1e-3  # rounding may flip a pixel at the threshold


@pytest.fixture(scope="module")
def noise_model(tmp_path_factory, astronaut):
    """A tiny generator and a detector trained a few steps, shipped through the real path."""
    folder = tmp_path_factory.mktemp("noise")
    for i, crop in enumerate((astronaut[:128, :128], astronaut[200:328, 200:328], astronaut[384:, 384:])):
        Image.fromarray(np.ascontiguousarray(crop)).save(folder / f"{i}.png")
    torch.manual_seed(0)
    g = Generator(GeneratorConfig(ngf=8, n_blocks=1, passthrough=True))
    torch.save(
        {"G": g.state_dict(), "G_ema": None, "gen_config": g.config.to_dict(), "step": 0, "config": {}},
        folder / "g.pt",
    )
    export(folder / "g.pt", "toy", folder)
    paths = sorted(folder.glob("*.png"))
    net = noisedetect.train(paths, DetectorConfig(channels=8), steps=3, batch=2, crop=32, lr=1e-3, seed=0)
    # A threshold at the median logit of a noisy image: about half the pixels kept, not all or none.
    noisy, _ = color_noise(np.ascontiguousarray(astronaut[:64, :64]), np.random.default_rng(1))
    with torch.no_grad():
        logit = net(torch.from_numpy(noisy).permute(2, 0, 1)[None].float() / 255)[-1]
    net.config = dataclasses.replace(net.config, threshold=1 / (1 + math.exp(-float(logit.median()))))
    card = noisedetect.ship(
        net, read_card(folder / "toy.json"), "toy-noise", folder, 1, {"train_config": {"task": "color-noise"}}
    )
    return read_card(card), net


def test_a_detector_model_ships_its_generator_and_detector(noise_model):
    model, net = noise_model
    assert model.task == "color-noise" and model.detector == net.config
    loaded = load_detector(model, torch.device("cpu"))
    for k, v in net.state_dict().items():
        assert torch.allclose(loaded.state_dict()[k].float(), v.half().float()), k


def test_restore_runs_the_detector_then_the_generator(noise_model, small_rgb, monkeypatch):
    from sparsepix import catalog

    model, _ = noise_model
    rec = as_reconstructor(model)
    monkeypatch.setattr(catalog, "_learned", lambda: {"toy-noise": rec})
    calls = []
    real = noisedetector.true_pixels
    monkeypatch.setattr(noisedetector, "true_pixels", lambda *a: calls.append(1) or real(*a))
    out = sparsepix.restore(small_rgb, task="color-noise")
    assert calls and out.shape == small_rgb.shape and out.dtype == np.uint8
    gray = sparsepix.restore(small_rgb[..., 0], task="color-noise", model="toy-noise")
    assert gray.shape == small_rgb.shape[:2]


def test_generators_train_on_the_pixels_the_detector_keeps(noise_model, tmp_path):
    from sparsepix.train.config import TrainConfig
    from sparsepix.train.data import CorruptedImages, found_pixels

    model, _ = noise_model
    folder, card = model.path.parent, str(model.path.with_suffix(".json"))
    paths = sorted(folder.glob("*.png"))
    config = TrainConfig(data=(str(folder),), out=str(tmp_path), task="color-noise", crop=32, detector=card)
    canvas, mask, _, _ = CorruptedImages(paths, config, train=True)[0]
    noisy, everything, _, _ = CorruptedImages(paths, dataclasses.replace(config, detector=""), train=True)[0]
    known = mask[0].numpy() > 0.5
    assert everything.all() and 0 < known.mean() < 1
    as_uint8 = ((noisy + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    assert np.array_equal(known, found_pixels(card, as_uint8))
    assert torch.equal(canvas[:, known], noisy[:, known]) and (canvas[:, ~known] == -1).all()


def test_the_detector_option_needs_the_noise_task_and_a_detector(noise_model, tmp_path):
    from click.testing import CliRunner

    from sparsepix.train.cli import train

    model, _ = noise_model
    folder = model.path.parent
    common = ["--data", str(folder), "--out", str(tmp_path / "run"), "--workers", "0", "--preset", "tiny"]
    for task, card in (("sparse", "toy-noise.json"), ("color-noise", "toy.json")):
        r = CliRunner().invoke(train, common + ["--task", task, "--detector", str(folder / card)])
        assert r.exit_code == 2 and "--detector" in r.output, r.output


@pytest.mark.parametrize("threshold, expected", [([], "card"), (["--threshold", "0.3"], 0.3)])
def test_a_shipped_detector_keeps_its_threshold_unless_told(
    noise_model, tmp_path, monkeypatch, threshold, expected
):
    model, net = noise_model
    folder = model.path.parent
    card = str(folder / "toy-noise.json")
    argv = [str(folder), "--generator", str(folder / "toy.json"), "--detector-from", card]
    argv += ["--val-count", "1", "--val-score", "1", "--out", str(tmp_path), *threshold]
    monkeypatch.setattr(sys, "argv", ["noisedetect", *argv])
    noisedetect.main()
    shipped = read_card(tmp_path / "faces-color-noise.json")
    assert shipped.detector.threshold == (net.config.threshold if expected == "card" else expected)
    # Options of a training that did not run are not recorded as if they had.
    assert "passes" not in json.loads((tmp_path / "faces-color-noise.json").read_text())["train_config"]
