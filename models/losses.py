"""The X-GANs losses, one function each. Images are tensors in [-1, 1], masks 1 = kept."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sparsepix.models.vgg import LAYER_WEIGHTS, VGG19Features


def lsgan_d(real_outputs: list[list[torch.Tensor]], fake_outputs: list[list[torch.Tensor]]) -> torch.Tensor:
    """Least-squares loss for the discriminators (eq. 2 in LSGAN form): real -> 1, fake -> 0.

    Summed over scales, each scale's patch logits averaged.
    """
    loss = real_outputs[0][-1].new_zeros(())
    for real, fake in zip(real_outputs, fake_outputs):
        loss = loss + 0.5 * (
            F.mse_loss(real[-1], torch.ones_like(real[-1])) + F.mse_loss(fake[-1], torch.zeros_like(fake[-1]))
        )
    return loss


def lsgan_g(fake_outputs: list[list[torch.Tensor]]) -> torch.Tensor:
    """Least-squares loss for the generator: its images should be scored as real (1)."""
    loss = fake_outputs[0][-1].new_zeros(())
    for fake in fake_outputs:
        loss = loss + F.mse_loss(fake[-1], torch.ones_like(fake[-1]))
    return loss


def feature_matching(
    real_outputs: list[list[torch.Tensor]], fake_outputs: list[list[torch.Tensor]]
) -> torch.Tensor:
    """Eq. 3-4: L1 between real and generated features of every hidden layer of every D.

    Each layer's mean absolute difference (the 1/N_i of eq. 3), averaged over scales.
    """
    loss = fake_outputs[0][-1].new_zeros(())
    n_scales = len(fake_outputs)
    for real, fake in zip(real_outputs, fake_outputs):
        for r, f in zip(real[:-1], fake[:-1]):
            loss = loss + F.l1_loss(f, r.detach()) / n_scales
    return loss


def vgg_perceptual(vgg: VGG19Features, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Eq. 5: weighted L1 between VGG19 features (the 1/M_i of eq. 5 is the mean)."""
    with torch.no_grad():
        real_features = vgg(real)
    loss = fake.new_zeros(())
    for weight, f, r in zip(LAYER_WEIGHTS, vgg(fake), real_features):
        loss = loss + weight * F.l1_loss(f, r)
    return loss


def corresponding_point(fake: torch.Tensor, canvas: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Eq. 6: squared error between the input samples and the generated image at the samples.

    Averaged over kept samples (not over all pixels), so sparse and dense inputs weigh the
    same: the paper's remedy for L2's unbalanced punishment.
    """
    diff = (fake - canvas) * mask
    kept = mask.sum() * fake.shape[1]
    return diff.pow(2).sum() / kept.clamp(min=1)


def l1(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Plain L1 reconstruction over all pixels (not in the paper; off in the faithful preset)."""
    return F.l1_loss(fake, real)


def l2(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Plain mean squared error over all pixels: the quantity PSNR measures (the paper's Fig. 12
    finds L2 the best point loss; this applies it to the whole image)."""
    return F.mse_loss(fake, real)


def classification(logits: torch.Tensor | None, labels: torch.Tensor | None) -> torch.Tensor | None:
    """ResGAN's embedded classifier: cross-entropy on the discriminator's class logits."""
    if logits is None or labels is None:
        return None
    return F.cross_entropy(logits, labels)
