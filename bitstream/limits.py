"""Bounds a decoder enforces before it allocates anything a header asks for."""

from __future__ import annotations

import os
from dataclasses import dataclass

# Same order of magnitude as Pillow's decompression-bomb guard (~89 MP): a 100 MP canvas is
# 300 MB of RGB, large but survivable; anything bigger must be asked for explicitly.
DEFAULT_MAX_PIXELS = 100_000_000
MAX_SIDE = 1 << 20  # no real photo is a million pixels on one side
MAX_MODEL_REF = 64  # bytes of ASCII
MAX_SECTIONS = 16
# Work per byte: decoding costs time and memory per claimed pixel, so a tiny file must not claim
# a huge image. Real files carry far more than a byte per 4,096 pixels (about 0.002 bpp); up to
# 4 MP any size is allowed, so a flat image encoded at low density still decodes.
DEFAULT_MAX_PIXELS_PER_BYTE = 4096
FREE_PIXELS = 4_000_000
# The samples drive the triangulation and the value decoding: above FREE_SAMPLES a file must
# carry a byte per 16 samples (half a bit a sample; photos spend several bits a sample).
DEFAULT_MAX_SAMPLES_PER_BYTE = 16
FREE_SAMPLES = 16_384
# Sampler 2 (edges) interpolates a coarse image at every pixel, several times the per-pixel
# work of the others: its pixels count this many times.
PIXEL_WORK = {2: 8}
# A learned decoder's network costs tens of times the fill per pixel, so its work is bounded
# apart, in multiply-adds (the network's layers, times the symmetries averaged): up to
# FREE_NETWORK_WORK (a couple of seconds of a 2-core CPU) any file may ask for it, beyond that
# a file must carry a byte per DEFAULT_MAX_WORK_PER_BYTE (what files of 0.02 bpp decoded by
# `natural` carry; encoders pad lower-rate files up to it).
FREE_NETWORK_WORK = 250_000_000_000
DEFAULT_MAX_WORK_PER_BYTE = 250_000_000


@dataclass(frozen=True)
class Limits:
    """What a decoder accepts. Override `max_pixels` for very large images."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_pixels_per_byte: int = DEFAULT_MAX_PIXELS_PER_BYTE  # above FREE_PIXELS
    max_samples_per_byte: int = DEFAULT_MAX_SAMPLES_PER_BYTE  # above FREE_SAMPLES
    max_work_per_byte: int = DEFAULT_MAX_WORK_PER_BYTE  # network multiply-adds, above FREE_NETWORK_WORK

    @staticmethod
    def from_env() -> "Limits":
        """Default limits, with `SPARSEPIX_MAX_PIXELS`, `SPARSEPIX_MAX_PIXELS_PER_BYTE`,
        `SPARSEPIX_MAX_SAMPLES_PER_BYTE` and `SPARSEPIX_MAX_WORK_PER_BYTE` honoured when set."""
        values = {}
        for field, name in (
            ("max_pixels", "SPARSEPIX_MAX_PIXELS"),
            ("max_pixels_per_byte", "SPARSEPIX_MAX_PIXELS_PER_BYTE"),
            ("max_samples_per_byte", "SPARSEPIX_MAX_SAMPLES_PER_BYTE"),
            ("max_work_per_byte", "SPARSEPIX_MAX_WORK_PER_BYTE"),
        ):
            raw = os.environ.get(name)
            if raw and raw.isdigit():
                values[field] = int(raw)
        return Limits(**values)

    def bytes_for_pixels(self, pixels: int, sampler: int) -> int:
        """The smallest file that may claim `pixels` with this sampler (0: any)."""
        work = pixels * PIXEL_WORK.get(sampler, 1)
        return 0 if work <= FREE_PIXELS else -(-work // max(1, self.max_pixels_per_byte))

    def bytes_for_samples(self, samples: int) -> int:
        """The smallest file that may claim `samples` (0: any)."""
        return 0 if samples <= FREE_SAMPLES else -(-samples // max(1, self.max_samples_per_byte))

    def bytes_for_network(self, macs: int) -> int:
        """The smallest file whose decode may run `macs` network multiply-adds (0: any)."""
        return 0 if macs <= FREE_NETWORK_WORK else -(-macs // max(1, self.max_work_per_byte))
