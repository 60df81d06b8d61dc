"""VGG19 feature extractor in plain torch, for the perceptual loss (X-GANs eq. 5).

Layer indices match torchvision's `vgg19().features`, so its ImageNet state dict (a local file;
nothing is downloaded) loads as is. Without weights there is no VGG loss: random VGG features
are not a perceptual measure.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn

from sparsepix.errors import ModelError

# Channels per conv, "M" = max-pool: configuration "E" of Simonyan & Zisserman.
_VGG19 = [
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    512,
    "M",
]
# Slice ends after relu1_1, relu2_1, relu3_1, relu4_1, relu5_1, and their loss weights
# (pix2pixHD's choice: deeper layers count more).
_SLICES = (2, 7, 12, 21, 30)
LAYER_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


def _features() -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 3
    for v in _VGG19:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, v, 3, padding=1), nn.ReLU(inplace=False)]
            channels = v
    return nn.Sequential(*layers[: _SLICES[-1]])


class VGG19Features(nn.Module):
    """Frozen VGG19 returning the five relu*_1 activations of an image in [-1, 1]."""

    def __init__(self):
        super().__init__()
        self.features = _features()
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def from_file(cls, path: str | Path) -> "VGG19Features":
        """Load torchvision-format `vgg19` ImageNet weights (classifier keys are ignored)."""
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError) as exc:
            raise ModelError(f"cannot read VGG19 weights {path}: {exc}") from None
        model = cls()
        wanted = {k: v for k, v in state.items() if k.startswith("features.")}
        own = model.state_dict()
        missing = [k for k in own if k.startswith("features.") and k not in wanted]
        if missing:
            raise ModelError(f"{path} is not a torchvision vgg19 state dict (missing {missing[0]})")
        model.load_state_dict({**own, **wanted})
        return model

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = ((image + 1) / 2 - self.mean) / self.std
        outputs, start = [], 0
        for end in _SLICES:
            for layer in self.features[start:end]:
                x = layer(x)
            outputs.append(x)
            start = end
        return outputs
