"""Codec adapters for the benchmark: one small base class, one subclass per codec.

Each adapter names its curve, lists the settings it sweeps (a quality, a target rate or a
sample density) and turns an (H, W, 3) uint8 image into bytes and back. Adapters are built
from a `CurveSpec` (picklable) inside worker processes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import PIL
from PIL import Image, features

from sparsepix.codec.quality import DEFAULT_QUALITY
from sparsepix.errors import InputError


@dataclass(frozen=True)
class CurveSpec:
    """One rate-distortion curve: a codec kind and its fixed options."""

    kind: str  # jpeg | jpeg-optimized | webp | avif | jpeg2000 | sparsepix
    sampler: str = "random"
    model: str = "linear"
    values: str = "pred"
    optimize: int = 0  # tonal optimisation effort for the model
    quality: int = DEFAULT_QUALITY  # pred values only
    ensemble: int | None = None  # learned: symmetries averaged; None, the model's own (codec/ensemble.py)
    levels_by_decoder: bool = False  # adaptive: densities chosen by the model's error (effort 3)
    refine: bool = False  # pred values refined through the learned model (effort 4)

    @property
    def name(self) -> str:
        if self.kind == "sparsepix":
            opt = f"-opt{self.optimize}" if self.optimize else ""
            values = f"pred{self.quality}" if self.values == "pred" else self.values
            sampler = self.sampler + ("-decoder" if self.levels_by_decoder else "")
            return f"sparsepix-{sampler}-{values}-{self.model}{opt}" + ("-refined" if self.refine else "")
        return self.kind

    @property
    def cache_key(self) -> str:
        """The curve's cache folder: its name, plus for sparsepix the format version its encoder
        writes, and the model version and the ensemble for learned models, so a new format, new
        weights or another ensemble are measured afresh rather than read from the cache."""
        if self.kind != "sparsepix":
            return self.name
        from sparsepix import catalog
        from sparsepix.bitstream import VERSION

        rec = catalog.available().get(self.model)
        if rec is None or rec.version is None:
            return f"{self.name}-f{VERSION}"
        passes = rec.passes(self.ensemble)
        return f"{self.name}-f{VERSION}@{rec.version}" + (f"-x{passes}" if passes != 1 else "")


def effort_spec(level: int, ensemble: int | None = None) -> CurveSpec:
    """The curve of `encode(image, density, effort=level)`, named as its explicit settings are,
    so that both share one cache."""
    from sparsepix import catalog
    from sparsepix.api import encode_settings
    from sparsepix.codec.reconstructors import ModelRef
    from sparsepix.effort import get_effort

    sampler, written, steps = encode_settings(level)
    model = ModelRef.parse(written).name if written else "linear"
    by_decoder = get_effort(level).levels_by_decoder and sampler == "adaptive"
    refine = get_effort(level).refine and catalog.get(model).learned
    return CurveSpec(
        "sparsepix",
        sampler=sampler,
        model=model,
        optimize=steps,
        ensemble=ensemble,
        levels_by_decoder=by_decoder,
        refine=refine,
    )


class Codec:
    """Base class: `encode` returns the complete file bytes, `decode` the RGB image."""

    name = "codec"
    description = ""

    def settings(self, quick: bool) -> list[float]:
        raise NotImplementedError

    def encode(self, image: np.ndarray, setting: float) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> np.ndarray:
        raise NotImplementedError

    def version(self) -> str:
        return ""


class PillowCodec(Codec):
    """A codec that Pillow writes and reads; the setting is its quality knob."""

    format = ""
    feature = ""  # Pillow feature/module name whose version we record

    def save_options(self, setting: float) -> dict:
        raise NotImplementedError

    def encode(self, image: np.ndarray, setting: float) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format=self.format, **self.save_options(setting))
        return buf.getvalue()

    def decode(self, data: bytes) -> np.ndarray:
        with Image.open(io.BytesIO(data)) as img:
            return np.asarray(img.convert("RGB"))

    def version(self) -> str:
        lib = features.version(self.feature) if self.feature else None
        return f"Pillow {PIL.__version__}" + (f", {self.feature} {lib}" if lib else "")


class Jpeg(PillowCodec):
    """Pillow's JPEG (libjpeg-turbo), 4:2:0, standard tables, default Huffman coding."""

    name, format, feature = "jpeg", "JPEG", "libjpeg_turbo"
    description = "JPEG (Pillow defaults: standard Huffman tables)"

    def settings(self, quick: bool) -> list[float]:
        return [2, 5, 10, 30, 70] if quick else [1, 2, 3, 5, 7, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 95]

    def save_options(self, setting: float) -> dict:
        return {"quality": int(setting)}


class JpegOptimized(Jpeg):
    name = "jpeg-optimized"
    description = "JPEG with optimised Huffman tables (optimize=True): the strong JPEG"

    def save_options(self, setting: float) -> dict:
        return {"quality": int(setting), "optimize": True}


class WebP(PillowCodec):
    name, format, feature = "webp", "WEBP", "webp"
    description = "WebP lossy (libwebp, method 6: its slowest and best)"

    def settings(self, quick: bool) -> list[float]:
        return [0, 5, 20, 50, 80] if quick else [0, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95]

    def save_options(self, setting: float) -> dict:
        return {"quality": int(setting), "method": 6}


class Avif(PillowCodec):
    name, format, feature = "avif", "AVIF", "avif"
    description = "AVIF (libavif, speed 6, 4:4:4 as avifenc encodes RGB input)"

    def settings(self, quick: bool) -> list[float]:
        return [5, 20, 40, 60, 80] if quick else [0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90]

    def save_options(self, setting: float) -> dict:
        return {"quality": int(setting), "speed": 6, "subsampling": "4:4:4"}


class Jpeg2000(PillowCodec):
    """OpenJPEG through Pillow; the setting is the target bpp (rate-controlled)."""

    name, format, feature = "jpeg2000", "JPEG2000", "jpg_2000"
    description = "JPEG 2000 (OpenJPEG, irreversible 9/7 with the colour transform, rate control)"

    def settings(self, quick: bool) -> list[float]:
        return (
            [0.05, 0.1, 0.25, 0.5, 1.0]
            if quick
            else [0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 0.75, 1.0, 1.5]
        )

    def save_options(self, setting: float) -> dict:
        # mct=1: the colour transform every JPEG 2000 encoder applies to RGB by default, which
        # Pillow leaves off unless asked (docs/DECISIONS.md, "JPEG 2000 as its users run it").
        return {"quality_mode": "rates", "quality_layers": [24.0 / setting], "irreversible": True, "mct": 1}


def _ensemble_note(spec: CurveSpec) -> str:
    from sparsepix import catalog

    rec = catalog.available().get(spec.model)
    if rec is None or not rec.learned:
        return ""
    passes = rec.passes(spec.ensemble)
    return f", averaged over {passes} symmetries" if passes != 1 else ""


class Sparsepix(Codec):
    """sparsepix at a fixed sampler, value mode and model; the setting is the density."""

    def __init__(self, spec: CurveSpec):
        self.spec = spec
        self.name = spec.name
        values = (
            f"pred values at quality {spec.quality}" if spec.values == "pred" else f"{spec.values} values"
        )
        self.description = (
            f"sparsepix, {spec.sampler} sampler, {values}, {spec.model} model"
            + (f", tonal optimisation {spec.optimize}" if spec.optimize else "")
            + (", densities chosen by the model's error" if spec.levels_by_decoder else "")
            + (", values refined through it" if spec.refine else "")
            + _ensemble_note(spec)
        )

    def settings(self, quick: bool) -> list[float]:
        if quick:
            return [0.01, 0.03, 0.1, 0.2]
        return [0.003, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.07, 0.1, 0.2]

    def encode(self, image: np.ndarray, setting: float) -> bytes:
        from sparsepix.api import encode
        from sparsepix.effort import EFFORTS

        # The file names its model, as a user's would when optimising for it. Every setting is
        # explicit; an effort level decides only whether the decoder chooses the densities and
        # whether the values are refined through it.
        spec = self.spec
        wanted = (spec.levels_by_decoder, spec.refine)
        effort = next(e.level for e in EFFORTS if (e.levels_by_decoder, e.refine) == wanted)
        return encode(
            image,
            density=setting,
            sampler=self.spec.sampler,
            values=self.spec.values,
            quality=self.spec.quality,
            model=self.spec.model,
            optimize=self.spec.optimize,
            effort=effort,
        )

    def decode(self, data: bytes) -> np.ndarray:
        from sparsepix.api import decode

        return decode(data, model=self.spec.model, device="cpu", ensemble=self.spec.ensemble)

    def version(self) -> str:
        import sparsepix

        return f"sparsepix {sparsepix.__version__}"


_CLASSICAL = {c.name: c for c in (Jpeg, JpegOptimized, WebP, Avif, Jpeg2000)}
CLASSICAL_KINDS = tuple(_CLASSICAL)


def make_codec(spec: CurveSpec) -> Codec:
    if spec.kind == "sparsepix":
        return Sparsepix(spec)
    if spec.kind not in _CLASSICAL:
        raise InputError(f"unknown codec {spec.kind!r}; choose from {', '.join(CLASSICAL_KINDS)}, sparsepix")
    return _CLASSICAL[spec.kind]()
