"""Multi-scale conditional PatchGAN discriminators (pix2pixHD), every layer's features returned.

Each scale sees the condition (canvas + mask) concatenated with a real or generated image. The
optional classifier head (ResGAN) predicts a class label from the first scale's last hidden
features, for labelled data sets.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from sparsepix.models.config import DiscriminatorConfig


class PatchDiscriminator(nn.Module):
    """4x4 convs, stride 2 then 1, LeakyReLU 0.2, instance norm; one logit per patch."""

    def __init__(self, in_channels: int, ndf: int, n_layers: int):
        super().__init__()
        blocks = [nn.Sequential(nn.Conv2d(in_channels, ndf, 4, 2, 2), nn.LeakyReLU(0.2, True))]
        width = ndf
        for i in range(1, n_layers + 1):
            stride = 2 if i < n_layers else 1
            nxt = min(width * 2, 512)
            blocks.append(
                nn.Sequential(
                    nn.Conv2d(width, nxt, 4, stride, 2), nn.InstanceNorm2d(nxt), nn.LeakyReLU(0.2, True)
                )
            )
            width = nxt
        blocks.append(nn.Sequential(nn.Conv2d(width, 1, 4, 1, 2)))
        self.blocks = nn.ModuleList(blocks)
        self.out_width = width

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return features  # the last entry is the patch logits


class MultiscaleDiscriminator(nn.Module):
    def __init__(self, config: DiscriminatorConfig):
        super().__init__()
        self.config = c = config
        self.nets = nn.ModuleList(
            PatchDiscriminator(c.in_channels, c.ndf, c.n_layers) for _ in range(c.n_scales)
        )
        self.classifier = nn.Linear(self.nets[0].out_width, c.n_classes) if c.n_classes > 0 else None

    def forward(
        self, condition: torch.Tensor, image: torch.Tensor
    ) -> tuple[list[list[torch.Tensor]], torch.Tensor | None]:
        """Features of every layer at every scale (finest first), and class logits if enabled."""
        x = torch.cat([condition, image], dim=1)
        outputs = []
        for i, net in enumerate(self.nets):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            outputs.append(net(x))
        logits = None
        if self.classifier is not None:
            logits = self.classifier(outputs[0][-2].mean(dim=(2, 3)))
        return outputs, logits
