"""Finding the pixels that colour noise left true: a two-pass per-pixel classifier.

Once its surviving pixels are found, an image with most pixels replaced by random colours (the
X-GANs paper's colour-noise task) is a sparse-sample image, which the codec's generators rebuild.
Pass 1 sees the image and, per pixel, the share of its neighbours of nearly the same colour:
random colours rarely agree with anything, true ones agree with their true neighbours. Pass 2
adds pass 1's probabilities and what a normalised-convolution fill from them predicts at each
pixel, so that a pixel far from its neighbourhood's prediction reads as noise. Further passes
(`DetectorConfig.passes`) do the same from the pass before.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from sparsepix.models.config import DetectorConfig

AGREE = (8 / 255, 16 / 255, 32 / 255)  # colour distances (max over channels) counted as agreeing
FILL_SIGMAS = (1.0, 2.5)  # the normalised-convolution fills pass 2 compares each pixel with
TILE, MARGIN = 512, 64  # large images run in tiles; the margin covers three passes' receptive field


def agreement(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Per pixel and per distance in AGREE, the share of neighbours within `radius` whose colour
    is that close. x: (N, C, H, W) in [0, 1]."""
    n, _, h, w = x.shape
    padded = F.pad(x, (radius,) * 4, value=-10.0)  # outside the image agrees with nothing
    counts = torch.zeros(n, len(AGREE), h, w, device=x.device, dtype=x.dtype)
    limits = torch.tensor(AGREE, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            if dy == radius and dx == radius:
                continue
            d = (padded[:, :, dy : dy + h, dx : dx + w] - x).abs().amax(1, keepdim=True)
            counts += (d <= limits).to(x.dtype)
    return counts / ((2 * radius + 1) ** 2 - 1)


def _gauss(x: torch.Tensor, sigma: float) -> torch.Tensor:
    r = int(3 * sigma)
    k = torch.exp(-(torch.arange(-r, r + 1, device=x.device, dtype=x.dtype) ** 2) / (2 * sigma**2))
    k = (k / k.sum()).repeat(x.shape[1], 1, 1, 1)
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(-1, 1, 1, 2 * r + 1), groups=x.shape[1])
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(-1, 1, 2 * r + 1, 1), groups=x.shape[1])


def normalised_fill(x: torch.Tensor, weight: torch.Tensor, sigma: float) -> torch.Tensor:
    """The weighted local mean colour: what the likely-true pixels around each pixel say."""
    return _gauss(x * weight, sigma) / _gauss(weight, sigma).clamp_min(1e-4)


def _dilated(inputs: int, channels: int, dilations: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(inputs, channels, 3, padding=1), nn.ReLU(True)]
    for d in dilations:
        layers += [
            nn.Conv2d(channels, channels, 3, padding=d, dilation=d),
            nn.BatchNorm2d(channels),
            nn.ReLU(True),
        ]
    return nn.Sequential(*layers, nn.Conv2d(channels, 1, 1))


class NoiseDetector(nn.Module):
    def __init__(self, config: DetectorConfig):
        super().__init__()
        self.config = config
        c = config.channels
        self.first = _dilated(3 + len(AGREE), c, (1, 2, 4, 8, 4, 2, 1))
        refiner_inputs = 3 + len(AGREE) + 1 + 4 * len(FILL_SIGMAS)
        self.second = _dilated(refiner_inputs, c, (1, 2, 4, 2, 1))
        # Passes 3 and on; none in two-pass detectors, whose files have no such weights.
        more = range(config.passes - 2)
        self.more = nn.ModuleList(_dilated(refiner_inputs, c, (1, 2, 4, 2, 1)) for _ in more)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each pass's logits that each pixel is a true one, the last the answer; x: (N, 3, H, W)
        in [0, 1]. A pass sees the previous one's answer as a constant: each learns its own job."""
        agree = agreement(x, self.config.radius)
        logits = [self.first(torch.cat([x * 2 - 1, agree], 1))]
        for refiner in (self.second, *self.more):
            p = torch.sigmoid(logits[-1]).detach()
            fills = [normalised_fill(x, p, s) for s in FILL_SIGMAS]
            far = [(x - f).abs().amax(1, keepdim=True) for f in fills]
            logits.append(refiner(torch.cat([x * 2 - 1, agree, p, *(f * 2 - 1 for f in fills), *far], 1)))
        return logits


@torch.no_grad()
def true_pixels(detector: NoiseDetector, image: np.ndarray, device: torch.device) -> np.ndarray:
    """A bool (H, W) map of the pixels the detector takes as true, for an (H, W, 3) uint8 image;
    in overlapping tiles, so memory stays bounded whatever the size."""
    h, w = image.shape[:2]
    x = torch.from_numpy(np.ascontiguousarray(image)).to(device).permute(2, 0, 1)[None].float() / 255
    out = np.zeros((h, w), bool)
    t = detector.config.threshold
    limit = math.log(t / (1 - t))  # compared as a logit: no rounding of probabilities near 1
    for y0 in range(0, h, TILE):
        for x0 in range(0, w, TILE):
            ya, xa = max(y0 - MARGIN, 0), max(x0 - MARGIN, 0)
            yb, xb = min(y0 + TILE + MARGIN, h), min(x0 + TILE + MARGIN, w)
            logit = detector(x[..., ya:yb, xa:xb])[-1][0, 0]
            keep = (logit > limit).cpu().numpy()
            out[y0 : y0 + TILE, x0 : x0 + TILE] = keep[y0 - ya : y0 - ya + TILE, x0 - xa : x0 - xa + TILE]
    return out
