"""Coding of the kept samples' colours (the `VALS` section).

Mode 0, `raw8` (format v1): exact 8-bit values, lossless for the kept pixels. Values are
gathered in row-major order of the mask and laid out planar (all R, then all G, then all B),
so each plane is a smooth-ish 1-D signal. The first raw byte names a filter applied per plane:
  0 = none, 1 = delta (each value minus the previous one in the same plane, modulo 256);
the encoder keeps whichever zstd shrinks more.

Mode 1, `pred`: lossy, predicted values; see codec/predictive.py.
"""

from __future__ import annotations

import numpy as np
import zstandard

from sparsepix.errors import BitstreamError

RAW8, PRED = 0, 1
VALUE_MODES = {"raw8": RAW8, "pred": PRED}  # PRED lives in codec/predictive.py
_NONE, _DELTA = 0, 1


def encode_values(image: np.ndarray, mask: np.ndarray) -> bytes:
    """Raw VALS section bytes for the kept pixels of an (H, W) or (H, W, C) uint8 image."""
    planes = image[mask].reshape(int(mask.sum()), -1).T  # (C, count)
    plain = bytes([_NONE]) + np.ascontiguousarray(planes).tobytes()
    delta = np.diff(planes, axis=1, prepend=np.zeros((planes.shape[0], 1), np.uint8))
    delta_raw = bytes([_DELTA]) + np.ascontiguousarray(delta.astype(np.uint8)).tobytes()
    zstd = zstandard.ZstdCompressor(level=19)
    return min(plain, delta_raw, key=lambda raw: len(zstd.compress(raw)))


def decode_values(raw: bytes, count: int, channels: int) -> np.ndarray:
    """(count, channels) uint8 sample values, in row-major order of the mask."""
    if len(raw) != 1 + count * channels:
        raise BitstreamError(f"value section is {len(raw)} bytes, expected {1 + count * channels}")
    planes = np.frombuffer(raw, dtype=np.uint8, offset=1).reshape(channels, count)
    if raw[0] == _DELTA:
        planes = np.cumsum(planes, axis=1, dtype=np.uint64).astype(np.uint8)  # wraps mod 256
    elif raw[0] != _NONE:
        raise BitstreamError(f"unknown value filter {raw[0]}")
    return np.ascontiguousarray(planes.T)
