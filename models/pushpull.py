"""Push-pull hole filling in torch: batched, on any device, for the ResGAN pass-through input.

Same idea as `codec.classical.pushpull` (normalised convolution over a pyramid), written with
pooling so it runs inside the network's forward pass on GPU batches.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pushpull_fill(canvas: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Fill the holes of `canvas` (N, C, H, W) where `mask` (N, 1, H, W) is 0."""
    value, weight = canvas * mask, mask
    pyramid = []
    while True:
        pyramid.append((value, weight))
        h, w = weight.shape[-2:]
        if h == 1 and w == 1:
            break
        # ceil_mode pools odd sizes without dropping the last row/column.
        v = F.avg_pool2d(value, 2, ceil_mode=True)
        wt = F.avg_pool2d(weight, 2, ceil_mode=True)
        new_w = torch.clamp(4 * wt, max=1.0)
        value = v * torch.where(wt > 0, new_w / wt.clamp(min=1e-12), torch.zeros_like(wt))
        weight = new_w
    estimate = _normalise(*pyramid[-1])
    for value, weight in reversed(pyramid[:-1]):
        up = F.interpolate(estimate, size=weight.shape[-2:], mode="bilinear", align_corners=False)
        estimate = weight * _normalise(value, weight) + (1 - weight) * up
    return estimate


def _normalise(value: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return value / torch.where(weight > 0, weight, torch.ones_like(weight))
