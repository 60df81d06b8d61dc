import numpy as np
import pytest
import torch

from sparsepix.models import losses
from sparsepix.models.config import PRESETS, DiscriminatorConfig, GeneratorConfig
from sparsepix.models.discriminator import MultiscaleDiscriminator
from sparsepix.models.generator import Generator
from sparsepix.models.pushpull import pushpull_fill
from sparsepix.models.vgg import VGG19Features


@pytest.mark.parametrize("preset", ["tiny", "tiny-resgan"])
@pytest.mark.parametrize("hw", [(1, 1), (1, 9), (13, 7), (32, 32), (37, 50)])
def test_generator_any_size(preset, hw):
    g = Generator(PRESETS[preset][0]).eval()
    canvas, mask = torch.rand(2, 3, *hw) * 2 - 1, (torch.rand(2, 1, *hw) < 0.3).float()
    with torch.no_grad():
        out = g(canvas, mask)
    assert out.shape == (2, 3, *hw)
    assert out.abs().max() <= 1


def test_generator_paper_structure():
    g = Generator(GeneratorConfig(ngf=64))
    convs = [m for m in g.body if isinstance(m, torch.nn.Conv2d)]
    blocks = [m for m in g.body if m.__class__.__name__ == "ResidualBlock"]
    ups = [m for m in g.body if isinstance(m, torch.nn.ConvTranspose2d)]
    assert len(convs) == 3 and convs[0].kernel_size == (7, 7)  # three conv stages down
    assert len(blocks) == 9 and len(ups) == 2
    assert isinstance(g.head[-1], torch.nn.Tanh)
    assert any(isinstance(m, torch.nn.LeakyReLU) for m in g.body)


def test_passthrough_concatenates_the_coarse_image():
    plain = Generator(GeneratorConfig(ngf=8, n_blocks=1))
    res = Generator(GeneratorConfig(ngf=8, n_blocks=1, passthrough=True))
    assert res.head[1].in_channels == plain.head[1].in_channels + 3


def test_pushpull_fill_keeps_samples_and_fills_constant():
    canvas = torch.zeros(1, 3, 9, 11)
    mask = torch.zeros(1, 1, 9, 11)
    canvas[..., 4, 5] = torch.tensor([0.2, -0.4, 0.9])
    mask[..., 4, 5] = 1
    filled = pushpull_fill(canvas, mask)
    assert torch.allclose(filled, canvas[..., 4:5, 5:6].expand_as(filled), atol=1e-5)


def test_discriminator_returns_every_layer_at_three_scales():
    d = MultiscaleDiscriminator(DiscriminatorConfig(ndf=8, n_layers=3, n_classes=5))
    outputs, logits = d(torch.zeros(2, 4, 64, 64), torch.zeros(2, 3, 64, 64))
    assert len(outputs) == 3 and all(len(o) == 5 for o in outputs)
    assert outputs[1][0].shape[-1] < outputs[0][0].shape[-1]  # coarser scale
    assert logits.shape == (2, 5)


def _fake_outputs(value: float) -> list[list[torch.Tensor]]:
    return [[torch.full((1, 4, 3, 3), value), torch.full((1, 1, 2, 2), value)] for _ in range(3)]


def test_lsgan_losses_on_known_inputs():
    assert losses.lsgan_d(_fake_outputs(1.0), _fake_outputs(0.0)) == 0
    # real scored 0 and fake 1: 0.5 * (1 + 1) per scale, three scales
    assert losses.lsgan_d(_fake_outputs(0.0), _fake_outputs(1.0)).item() == pytest.approx(3.0)
    assert losses.lsgan_g(_fake_outputs(1.0)) == 0
    assert losses.lsgan_g(_fake_outputs(0.5)).item() == pytest.approx(3 * 0.25)


def test_feature_matching_on_known_inputs():
    assert losses.feature_matching(_fake_outputs(1.0), _fake_outputs(1.0)) == 0
    # hidden layer differs by 0.5 at every scale; logits are not matched
    assert losses.feature_matching(_fake_outputs(1.0), _fake_outputs(0.5)).item() == pytest.approx(0.5)


def test_corresponding_point_loss_counts_only_samples():
    fake = torch.zeros(1, 3, 4, 4)
    canvas = torch.ones(1, 3, 4, 4)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., 0, 0] = 1
    assert losses.corresponding_point(fake, canvas, mask).item() == pytest.approx(1.0)
    mask[...] = 1  # denser input, same per-sample error: same loss (no unbalanced punishment)
    assert losses.corresponding_point(fake, canvas, mask).item() == pytest.approx(1.0)
    fake[..., 1, 1] = 5.0  # an error off the samples is invisible to it
    mask[...] = 0
    mask[..., 0, 0] = 1
    assert losses.corresponding_point(fake, canvas, mask).item() == pytest.approx(1.0)


def test_l1_and_classification():
    assert losses.l1(torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2)).item() == pytest.approx(1.0)
    assert losses.classification(None, None) is None
    logits = torch.tensor([[10.0, -10.0]])
    assert losses.classification(logits, torch.tensor([0])).item() < 1e-6


def test_vgg_loads_torchvision_layout_and_perceptual_loss(tmp_path):
    vgg = VGG19Features()
    # torchvision's vgg19 state dict: features.{0,2,5,...}.weight/bias plus a classifier.
    state = {f"features.{k}": v for k, v in vgg.features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "vgg19.pth")
    loaded = VGG19Features.from_file(tmp_path / "vgg19.pth")
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    assert losses.vgg_perceptual(loaded, x, x).item() == 0
    assert losses.vgg_perceptual(loaded, x, -x).item() > 0
    assert [f.shape[1] for f in loaded(x)] == [64, 128, 256, 512, 512]
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, bad)
    with pytest.raises(Exception, match="vgg19"):
        VGG19Features.from_file(bad)


@pytest.mark.parametrize("fill", ["pushpull", "linear"])
def test_residual_generator_starts_as_its_coarse_fill(fill):
    from dataclasses import replace

    from sparsepix.codec.classical import linear_float
    from sparsepix.train.warmstart import init_weights

    # A residual ResGAN over push-pull, and the shipped refiner over the Delaunay-linear fill.
    config = replace(PRESETS["tiny-resgan"][0], residual=True) if fill == "pushpull" else None
    g = Generator(config or PRESETS["tiny-refine"][0])
    g.apply(init_weights)
    g.eval()
    for hw in [(40, 52), (37, 50), (1, 3)]:
        canvas = torch.rand(2, 3, *hw) * 2 - 1
        mask = (torch.rand(2, 1, *hw) < 0.3).float()
        mask[..., 0, 0] = 1
        if fill == "pushpull":
            coarse = pushpull_fill(canvas * mask, mask)
        else:
            arrays = [
                linear_float((c * m).numpy().transpose(1, 2, 0), m[0].numpy() > 0.5)
                for c, m in zip(canvas, mask)
            ]
            coarse = torch.from_numpy(np.stack(arrays).transpose(0, 3, 1, 2))
        with torch.no_grad():
            assert torch.allclose(g(canvas, mask), coarse.clamp(-1, 1), atol=1e-6)
