"""Network configurations and the named presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import TypeVar

_C = TypeVar("_C", bound="AsDict")


class AsDict:
    """Dict round trips for the network configs, as cards and checkpoints store them. Keys this
    version does not know (from another version's card) are ignored."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls: type[_C], d: dict) -> _C:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class GeneratorConfig(AsDict):
    """X-GAN generator (Johnson et al. style), optionally with ResGAN's pass-through channel.

    in_channels counts the image channels of the canvas; the mask adds one more input channel.
    """

    image_channels: int = 3
    ngf: int = 64  # width of the first stage; doubles at each downsampling
    n_blocks: int = 9  # residual blocks at the bottleneck
    dropout: float = 0.0  # inside residual blocks (the paper trains with 0.5)
    passthrough: bool = False  # ResGAN: concatenate a push-pull fill of the input before the head
    residual: bool = False  # output = clamp(coarse image + head), head starting at zero
    coarse: str = "pushpull"  # the coarse image: "pushpull" (torch, any device) or "linear" (Delaunay)
    coarse_input: bool = False  # also feed the coarse image to the stem, not only to the head
    skip: bool = False  # concatenate the stem's full-resolution features before the head (U-Net skip)
    norm: str = "batch"  # "batch" (the paper) or "instance"

    # Two stride-2 stages after the 7x7 stem (three conv stages in all), as the paper.
    n_down = 2
    stride = 4

    def padding(self, size: int) -> int:
        """Padding of a side to a multiple of the stride, and to at least two pixels at the
        bottleneck (the residual blocks' reflect padding needs them)."""
        return max(-(-size // self.stride) * self.stride, 2 * self.stride) - size

    def macs_per_pixel(self) -> int:
        """Multiply-adds of one pass per image pixel, layer by layer as models/generator.py
        builds them: what a decode's work bound counts (bitstream/limits.py)."""
        c, n = self.image_channels, self.n_down
        stem_in = c + 1 + (c if self.coarse_input else 0)
        head_in = self.ngf + (self.ngf if self.skip else 0)
        head_in += c if (self.passthrough or self.residual or self.coarse_input) else 0
        macs = 49 * stem_in * self.ngf + 49 * head_in * c  # the 7x7 stem and head, full resolution
        for i in range(n):  # each stride-2 conv down, and the transposed conv back up from it
            width = self.ngf << i
            macs += 2 * 9 * width * 2 * width / 4 ** (i + 1)
        bottleneck = self.ngf << n
        macs += self.n_blocks * 2 * 9 * bottleneck**2 / 4**n
        return round(macs)


@dataclass(frozen=True)
class DetectorConfig(AsDict):
    """The colour-noise detector (models/noisedetector.py): passes of dilated convolutions."""

    channels: int = 32
    radius: int = 3  # neighbourhood of the colour-agreement counts
    threshold: float = 0.7  # probability above which a pixel is taken as a true one
    passes: int = 2  # each after the first sees the previous pass's answer

    def __post_init__(self) -> None:
        if not (self.channels >= 1 and self.radius >= 1 and 0 < self.threshold < 1 and 2 <= self.passes <= 3):
            raise ValueError(f"bad detector config {self}")


@dataclass(frozen=True)
class DiscriminatorConfig(AsDict):
    """pix2pixHD multi-scale PatchGAN: identical nets at scales 1, 1/2, 1/4."""

    in_channels: int = 3 + 1 + 3  # canvas + mask (the condition) + real or generated image
    ndf: int = 64
    n_layers: int = 3
    n_scales: int = 3
    n_classes: int = 0  # >0 adds ResGAN's embedded classifier head


# The shipped models' network (refine-*): a residual refiner of the Delaunay-linear fill, which
# enters at the stem as well as at the head, with the stem's full-resolution features skipping
# the bottleneck (docs/DECISIONS.md, "The codec's decoders refine the Delaunay fill"). It starts as `linear`.
_REFINE_16 = GeneratorConfig(
    ngf=16, n_blocks=6, passthrough=True, residual=True, coarse="linear", coarse_input=True, skip=True
)
_TINY_D = DiscriminatorConfig(ndf=8, n_layers=2)

# One preset per network that ships or that the paper defines, and tiny ones for tests.
PRESETS: dict[str, tuple[GeneratorConfig, DiscriminatorConfig]] = {
    # The paper's X-GAN generator: ngf 64, nine residual blocks, dropout 0.5, tanh output.
    "xgan": (GeneratorConfig(ngf=64, dropout=0.5), DiscriminatorConfig(ndf=64)),
    # ResGAN: the same with the pass-through channel (a push-pull fill before the head).
    "resgan": (GeneratorConfig(ngf=64, dropout=0.5, passthrough=True), DiscriminatorConfig(ndf=64)),
    # natural-opt's network, and the start of every shipped model.
    "refine-16": (_REFINE_16, DiscriminatorConfig(ndf=32)),
    # natural's and faces' network: refine-16 at twice the width and depth, grown from refine-16
    # weights (`--init`, train/warmstart.py) so that it starts computing exactly what they do.
    "refine-32-deep": (replace(_REFINE_16, ngf=32, n_blocks=12), DiscriminatorConfig(ndf=32)),
    # For tests: tiny and fast.
    "tiny": (GeneratorConfig(ngf=8, n_blocks=2, dropout=0.5), _TINY_D),
    "tiny-resgan": (GeneratorConfig(ngf=8, n_blocks=2, passthrough=True), _TINY_D),
    "tiny-refine": (replace(_REFINE_16, ngf=8, n_blocks=2), _TINY_D),
}
