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


@dataclass(frozen=True)
class Limits:
    """What a decoder accepts. Override `max_pixels` for very large images."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_pixels_per_byte: int = DEFAULT_MAX_PIXELS_PER_BYTE  # above FREE_PIXELS

    @staticmethod
    def from_env() -> "Limits":
        """Default limits, with `SPARSEPIX_MAX_PIXELS` and `SPARSEPIX_MAX_PIXELS_PER_BYTE`
        honoured when set."""
        values = {}
        for field, name in (
            ("max_pixels", "SPARSEPIX_MAX_PIXELS"),
            ("max_pixels_per_byte", "SPARSEPIX_MAX_PIXELS_PER_BYTE"),
        ):
            raw = os.environ.get(name)
            if raw and raw.isdigit():
                values[field] = int(raw)
        return Limits(**values)

    def allows_work(self, pixels: int, file_bytes: int) -> bool:
        return pixels <= max(FREE_PIXELS, self.max_pixels_per_byte * file_bytes)
