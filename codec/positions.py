"""Coding of stored sample positions (the `MASK` section of Sobel-sampled files).

Two layouts, the encoder keeps the smaller after zstd; the first raw byte names it:
  0 = bitmap: the mask packed 8 pixels a byte (row-major, most significant bit first);
  1 = gaps:   the distance from one kept pixel index to the next (the first from -1), each as a
              LEB128 unsigned varint.
Dense masks favour the bitmap, very sparse ones the gaps.
"""

from __future__ import annotations

import numpy as np
import zstandard

from sparsepix.errors import BitstreamError

BITMAP, GAPS = 0, 1


def _leb128(values: np.ndarray) -> bytes:
    """Vectorised unsigned LEB128: 7 bits a byte, high bit set on all but the last byte."""
    values = values.astype(np.uint64)
    n_bytes = np.ones(values.size, dtype=np.int64)
    for k in range(1, 10):
        n_bytes += values >= (np.uint64(1) << np.uint64(7 * k))
    total = int(n_bytes.sum())
    out = np.empty(total, dtype=np.uint8)
    starts = np.concatenate([[0], np.cumsum(n_bytes)[:-1]])
    for k in range(int(n_bytes.max(initial=1))):
        live = n_bytes > k
        chunk = (values[live] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (n_bytes[live] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[live] + k] = (chunk | more).astype(np.uint8)
    return out.tobytes()


def _unleb128(data: bytes, count: int) -> np.ndarray:
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size == 0 or raw[-1] & 0x80:
        raise BitstreamError("position gaps end in the middle of a number")
    ends = np.flatnonzero((raw & 0x80) == 0)
    if ends.size != count:
        raise BitstreamError(f"position section holds {ends.size} gaps, header says {count}")
    starts = np.concatenate([[0], ends[:-1] + 1])
    lengths = ends - starts + 1
    if lengths.max() > 5:
        raise BitstreamError("position gap longer than 5 bytes")
    values = np.zeros(count, dtype=np.int64)
    for k in range(int(lengths.max())):
        live = lengths > k
        values[live] |= (raw[starts[live] + k].astype(np.int64) & 0x7F) << (7 * k)
    return values


def encode_positions(mask: np.ndarray) -> bytes:
    """Raw MASK section bytes for a boolean mask; picks whichever layout zstd shrinks more."""
    bitmap = bytes([BITMAP]) + np.packbits(mask.ravel()).tobytes()
    idx = np.flatnonzero(mask.ravel())
    gaps = bytes([GAPS]) + _leb128(np.diff(idx, prepend=-1))
    zstd = zstandard.ZstdCompressor(level=19)
    return min(bitmap, gaps, key=lambda raw: len(zstd.compress(raw)))


def decode_positions(raw: bytes, height: int, width: int, count: int) -> np.ndarray:
    """Inverse of encode_positions, checking the payload against the header's size and count."""
    if not raw:
        raise BitstreamError("empty position section")
    n = height * width
    kind, body = raw[0], raw[1:]
    if kind == BITMAP:
        if len(body) != (n + 7) // 8:
            raise BitstreamError("position bitmap has the wrong size for the image")
        mask = np.unpackbits(np.frombuffer(body, dtype=np.uint8), count=n).astype(bool)
        if np.unpackbits(np.frombuffer(body, dtype=np.uint8))[n:].any():
            raise BitstreamError("position bitmap has bits set past the last pixel")
    elif kind == GAPS:
        gaps = _unleb128(body, count)
        if (gaps < 1).any():
            raise BitstreamError("position gaps must be positive")
        idx = np.cumsum(gaps) - 1
        if idx[-1] >= n:
            raise BitstreamError("position index past the end of the image")
        mask = np.zeros(n, dtype=bool)
        mask[idx] = True
    else:
        raise BitstreamError(f"unknown position layout {kind}")
    if int(mask.sum()) != count:
        raise BitstreamError(f"position section holds {int(mask.sum())} samples, header says {count}")
    return mask.reshape(height, width)
