"""Network configurations and the named presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class GeneratorConfig:
    """X-GAN generator (Johnson et al. style), optionally with ResGAN's pass-through channel.

    in_channels counts the image channels of the canvas; the mask adds one more input channel.
    """

    image_channels: int = 3
    ngf: int = 64  # width of the first stage; doubles at each downsampling
    n_down: int = 2  # stride-2 stages after the 7x7 stem (three conv stages in all)
    n_blocks: int = 9  # residual blocks at the bottleneck
    dropout: float = 0.0  # inside residual blocks (the paper trains with 0.5)
    passthrough: bool = False  # ResGAN: concatenate a push-pull fill of the input before the head
    residual: bool = False  # output = clamp(coarse image + head), head starting at zero
    coarse: str = "pushpull"  # the coarse image: "pushpull" (torch, any device) or "linear" (Delaunay)
    coarse_input: bool = False  # also feed the coarse image to the stem, not only to the head
    skip: bool = False  # concatenate the stem's full-resolution features before the head (U-Net skip)
    distance_input: bool = False  # feed the stem log(1 + distance to the nearest kept sample)
    coord_input: bool = False  # feed the stem each pixel's position in the image (two channels)
    fusion: int = 0  # width of a non-linear full-resolution branch beside the head (0: none)
    norm: str = "batch"  # "batch" (the paper) or "instance"

    @property
    def stride(self) -> int:
        return 2**self.n_down

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "GeneratorConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class DiscriminatorConfig:
    """pix2pixHD multi-scale PatchGAN: identical nets at scales 1, 1/2, 1/4."""

    in_channels: int = 3 + 1 + 3  # canvas + mask (the condition) + real or generated image
    ndf: int = 64
    n_layers: int = 3
    n_scales: int = 3
    n_classes: int = 0  # >0 adds ResGAN's embedded classifier head

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DiscriminatorConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


# The shipped models' network; the larger refine presets are it with one thing grown.
_REFINE_16 = GeneratorConfig(
    ngf=16, n_blocks=6, passthrough=True, residual=True, coarse="linear", coarse_input=True, skip=True
)

# Generator presets. CPU cost on a 768x512 image, 2 threads (DESIGN.md): ngf 16 ~0.3 s,
# ngf 32 ~1 s, ngf 64 ~4 s.
PRESETS: dict[str, tuple[GeneratorConfig, DiscriminatorConfig]] = {
    # The paper's network: ngf 64, nine blocks, dropout 0.5.
    "xgan": (GeneratorConfig(ngf=64, dropout=0.5), DiscriminatorConfig(ndf=64)),
    # Compact presets sized for CPU decoding.
    "xgan-32": (GeneratorConfig(ngf=32), DiscriminatorConfig(ndf=32)),
    "xgan-16": (GeneratorConfig(ngf=16), DiscriminatorConfig(ndf=32)),
    # ResGAN pass-through variants: the network learns a residual over a push-pull fill.
    "resgan": (GeneratorConfig(ngf=64, dropout=0.5, passthrough=True), DiscriminatorConfig(ndf=64)),
    "resgan-32": (GeneratorConfig(ngf=32, passthrough=True), DiscriminatorConfig(ndf=32)),
    "resgan-16": (GeneratorConfig(ngf=16, passthrough=True), DiscriminatorConfig(ndf=32)),
    # Pass-through plus a global residual: the untrained network already outputs the push-pull
    # fill, and training only has to learn corrections (docs/DECISIONS.md).
    "residual-16": (GeneratorConfig(ngf=16, passthrough=True, residual=True), DiscriminatorConfig(ndf=32)),
    "residual-32": (GeneratorConfig(ngf=32, passthrough=True, residual=True), DiscriminatorConfig(ndf=32)),
    # The same over the best classical reconstruction (Delaunay-linear, computed on the CPU):
    # the untrained network already equals `linear`.
    "linres-16": (
        GeneratorConfig(ngf=16, passthrough=True, residual=True, coarse="linear"),
        DiscriminatorConfig(ndf=32),
    ),
    # A refiner of the Delaunay-linear fill: the fill enters at the stem as well as at the head,
    # and the stem's full-resolution features skip the bottleneck (docs/DECISIONS.md). The
    # paper's generator only ever sees the sparse canvas in its body, which learned nothing over
    # `linear` in 1,500 CPU steps; this one starts as `linear` and refines it.
    "refine-16": (_REFINE_16, DiscriminatorConfig(ndf=32)),
    # refine-16 with twice the residual blocks: grown from refine-16 weights (`--init`), the
    # added blocks start as the identity (train/warmstart.py). Grown from natural v4 and trained
    # 5,500 CPU steps it gained only 0.03-0.05 dB on Kodak, so it is not shipped (docs/DECISIONS.md).
    "refine-16-deep": (replace(_REFINE_16, n_blocks=12), DiscriminatorConfig(ndf=32)),
    # refine-16 at twice the width (four times the FLOPs): grown from refine-16 weights (`--init`),
    # the added channels start disconnected from the old ones (train/warmstart.py, `widen`).
    # Widened from faces v5 and trained 2,500 CPU steps it gained 0.03 dB: not shipped (DECISIONS.md).
    "refine-32": (replace(_REFINE_16, ngf=32), DiscriminatorConfig(ndf=32)),
    # refine-16 at twice the width and depth (3.75 M parameters, about eight times the FLOPs), for
    # GPU training: grown from refine-16 weights (`--init`), it starts computing exactly what they
    # do. `faces` v6: grown from v5, three GPU stages, +0.75 dB over v5 (docs/models/faces.md).
    "refine-32-deep": (replace(_REFINE_16, ngf=32, n_blocks=12), DiscriminatorConfig(ndf=32)),
    # refine-16 that also sees how far each pixel is from its nearest sample: grown from refine-16
    # weights (`--init`), the new input starts with zero weights. Grown from natural v4 and trained
    # 3,500 CPU steps it gained no more than plain refine-16 trained alike: not shipped
    # (docs/DECISIONS.md).
    "refine-16-dist": (replace(_REFINE_16, distance_input=True), DiscriminatorConfig(ndf=32)),
    # refine-16 with a non-linear branch beside its head (`fusion`): the head alone mixes the
    # upsampled features, the stem's and the fill with one linear conv. Grown from refine-16 weights
    # (`--init`), the branch starts adding nothing. Grown from natural v4 and trained 3,000 CPU
    # steps it gained no more than plain refine-16 trained alike: not shipped (docs/DECISIONS.md).
    "refine-16-fuse": (replace(_REFINE_16, fusion=32), DiscriminatorConfig(ndf=32)),
    # refine-16 that also sees where in the image each pixel is: aligned crops (faces) put eyes and
    # mouth at fixed places, which a convolutional network cannot otherwise tell. Grown from
    # refine-16 weights (`--init`), the two new inputs start with zero weights. Grown from faces v5
    # and trained 3,000 CPU steps it left them near zero and gained 0.03 dB: not shipped
    # (docs/DECISIONS.md).
    "refine-16-coord": (replace(_REFINE_16, coord_input=True), DiscriminatorConfig(ndf=32)),
    # refine-16 with a third stride-2 stage: the bottleneck (128 channels at 1/8 resolution) sees
    # twice as far for about the same FLOPs, at four times the parameters (1.98 M). It cannot be
    # grown from refine-16 weights: it trains from scratch. From scratch on faces, 15,000 CPU steps
    # reached 22.75 dB on the held-out faces against faces v5's 23.63: not shipped (DECISIONS.md).
    "refine-16-d3": (replace(_REFINE_16, n_down=3), DiscriminatorConfig(ndf=32)),
    # For tests: tiny and fast.
    "tiny": (GeneratorConfig(ngf=8, n_blocks=2, dropout=0.5), DiscriminatorConfig(ndf=8, n_layers=2)),
    "tiny-resgan": (
        GeneratorConfig(ngf=8, n_blocks=2, passthrough=True),
        DiscriminatorConfig(ndf=8, n_layers=2),
    ),
    "tiny-linres": (
        GeneratorConfig(ngf=8, n_blocks=2, passthrough=True, residual=True, coarse="linear"),
        DiscriminatorConfig(ndf=8, n_layers=2),
    ),
    "tiny-refine": (
        GeneratorConfig(
            ngf=8, n_blocks=2, passthrough=True, residual=True, coarse="linear", coarse_input=True, skip=True
        ),
        DiscriminatorConfig(ndf=8, n_layers=2),
    ),
    "tiny-residual": (
        GeneratorConfig(ngf=8, n_blocks=2, passthrough=True, residual=True),
        DiscriminatorConfig(ndf=8, n_layers=2),
    ),
}
