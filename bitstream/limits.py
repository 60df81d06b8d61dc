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


@dataclass(frozen=True)
class Limits:
    """What a decoder accepts. Override `max_pixels` for very large images."""

    max_pixels: int = DEFAULT_MAX_PIXELS

    @staticmethod
    def from_env() -> "Limits":
        """Default limits, with `SPARSEPIX_MAX_PIXELS` honoured when set."""
        raw = os.environ.get("SPARSEPIX_MAX_PIXELS")
        return Limits(int(raw)) if raw and raw.isdigit() else Limits()
