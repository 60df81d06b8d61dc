"""The X-GAN generator: 7x7 stem, stride-2 convs down, residual blocks, transposed convs up.

Input: the sparse canvas in [-1, 1] (zeros where nothing was kept) and the mask (1 = kept).
Output: the image in [-1, 1]. Any H, W: the input is reflect-padded to the network's stride and
the output cropped back.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from sparsepix.models.config import GeneratorConfig
from sparsepix.models.pushpull import pushpull_fill


@torch.no_grad()
def linear_fill(canvas: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Delaunay-linear fill of each image, a constant input, no gradient: numpy on the CPU, and
    rasterised on the device elsewhere (models/devicefill.py; the same values)."""
    from sparsepix.codec.classical import linear_float

    if canvas.device.type != "cpu":
        from sparsepix.models.devicefill import delaunay_fill

        return delaunay_fill(canvas, mask)
    values = canvas.detach().float().cpu().numpy().transpose(0, 2, 3, 1)
    known = mask.detach().cpu().numpy()[:, 0] > 0.5
    filled = np.stack([linear_float(v, k) for v, k in zip(values, known)])
    return torch.from_numpy(filled.transpose(0, 3, 1, 2)).to(canvas.device, canvas.dtype)


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    raise ValueError(f"unknown norm {kind!r}")


class ResidualBlock(nn.Module):
    """Two 3x3 conv-norm layers with a skip connection (Johnson et al.)."""

    def __init__(self, channels: int, norm: str, dropout: float):
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            _norm(norm, channels),
            nn.ReLU(True),
        ]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(norm, channels)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Generator(nn.Module):
    def __init__(self, config: GeneratorConfig):
        super().__init__()
        self.config = c = config
        stem_in = sum(self.stem_inputs)
        # One Sequential for stem and body keeps the parameter names of earlier exports.
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(stem_in, c.ngf, 7),
            _norm(c.norm, c.ngf),
            nn.ReLU(True),
        ]
        self.stem_layers = len(layers)
        width = c.ngf
        for _ in range(c.n_down):  # conv-norm-ReLU, stride 2
            layers += [
                nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
                _norm(c.norm, 2 * width),
                nn.ReLU(True),
            ]
            width *= 2
        layers += [ResidualBlock(width, c.norm, c.dropout) for _ in range(c.n_blocks)]
        for _ in range(c.n_down):  # transposed conv-norm-LeakyReLU, stride 2 (the paper's choice)
            layers += [
                nn.ConvTranspose2d(width, width // 2, 3, stride=2, padding=1, output_padding=1),
                _norm(c.norm, width // 2),
                nn.LeakyReLU(0.2, True),
            ]
            width //= 2
        self.body = nn.Sequential(*layers)
        head_conv = nn.Conv2d(sum(self.head_inputs), c.image_channels, 7)
        if c.residual:
            # Start as the identity on the coarse image: zero correction.
            head_conv.starts_at_zero = True
        self.head = nn.Sequential(
            nn.ReflectionPad2d(3), head_conv, nn.Identity() if c.residual else nn.Tanh()
        )

    @property
    def stem_inputs(self) -> list[int]:
        """Channels of the pieces concatenated into the stem, in order (0 where absent): the
        canvas, the mask, the coarse image."""
        c = self.config
        return [c.image_channels, 1, c.image_channels if c.coarse_input else 0]

    @property
    def head_inputs(self) -> list[int]:
        """Channels of the pieces concatenated before the head, in order: the upsampled features,
        the stem's features (`skip`), the coarse image."""
        c = self.config
        return [c.ngf] + ([c.ngf] if c.skip else []) + ([c.image_channels] if self.needs_coarse else [])

    @property
    def needs_coarse(self) -> bool:
        c = self.config
        return c.passthrough or c.residual or c.coarse_input

    def coarse_fill(self, canvas: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The classical fill the network refines (or passes through), from the masked canvas."""
        if self.config.coarse == "pushpull":
            return pushpull_fill(canvas, mask)
        if self.config.coarse == "linear":
            return linear_fill(canvas, mask)
        raise ValueError(f"unknown coarse fill {self.config.coarse!r}")

    def forward(
        self,
        canvas: torch.Tensor,
        mask: torch.Tensor,
        coarse: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """`coarse`, when given, must be `self.coarse_fill(canvas, mask)` computed elsewhere (the
        training data workers do so: the Delaunay fill is CPU work that would starve a GPU)."""
        c = self.config
        h, w = canvas.shape[-2:]
        ph, pw = c.padding(h), c.padding(w)
        x = torch.cat([canvas * mask, mask], dim=1)
        # ResGAN's coarse image: a fill of the input, at the input's own size.
        if not self.needs_coarse:
            coarse = None
        elif coarse is None:
            coarse = self.coarse_fill(x[:, :-1], x[:, -1:])
        if c.coarse_input:
            x = torch.cat([x, coarse], dim=1)
        if ph or pw:
            # Reflect padding needs pad < size; replicate covers tiny inputs.
            mode = "reflect" if ph < h and pw < w else "replicate"
            x = F.pad(x, (0, pw, 0, ph), mode=mode)
            coarse = F.pad(coarse, (0, pw, 0, ph), mode=mode) if coarse is not None else None
        stem = self.body[: self.stem_layers](x)
        features = [self.body[self.stem_layers :](stem)]
        if c.skip:
            features.append(stem)  # full-resolution detail around the bottleneck
        if coarse is not None:
            features.append(coarse)  # concatenated, as ResGAN
        features = torch.cat(features, dim=1)
        out = self.head(features)
        if c.residual:
            out = torch.clamp(coarse + out, -1.0, 1.0)
        return out[..., :h, :w]
