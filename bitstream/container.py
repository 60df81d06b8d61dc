"""The .spx container: a checksummed header followed by checksummed, zstd-compressed sections.

Layout (all integers little-endian; see docs/FORMAT.md for the normative description):

    header  = magic(4) version(1) flags(1) width(4) height(4) channels(1) sampler(1)
              value_mode(1) value_param(1) seed(8) count(4) model_len(1) model(model_len)
              n_sections(1) crc32(4)            -- crc32 of every header byte before it
    section = tag(4) stored_len(4) raw_len(4) crc32(4) payload(stored_len)
                                                -- crc32 of tag, both lengths and the payload;
                                                   payload is a zstd frame of raw_len bytes

The parser trusts nothing: every size is checked against `Limits` and against what is left of
the file *before* anything is allocated or inflated.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

import zstandard

from sparsepix.bitstream.limits import MAX_MODEL_REF, MAX_SECTIONS, MAX_SIDE, Limits
from sparsepix.errors import BitstreamError

MAGIC = b"\x8bSPX"  # non-ASCII first byte, like PNG's, catches text-mode transfers
VERSION = 3  # what encoders write
READABLE = (1, 2, 3)  # 2 added the pred layout 2, 3 the adaptive sampler 3 (docs/FORMAT.md)
ZSTD_LEVEL = 19

_FIXED = struct.Struct("<4sBBIIBBBBQIB")  # up to and including model_len
_SECTION = struct.Struct("<4sIII")


@dataclass(frozen=True)
class Header:
    """Everything a decoder needs to know before it reads a section."""

    width: int
    height: int
    channels: int  # 1 (grayscale) or 3 (RGB)
    sampler: int  # sampler id, see codec.samplers
    value_mode: int  # value-coding mode id, see codec.values
    value_param: int  # mode-specific byte (e.g. a quality level); 0 when unused
    seed: int  # 64-bit seed of the sampling PRNG
    count: int  # number of kept samples
    model: str = ""  # the model the encoder intended, "name@version", e.g. "natural@8"
    flags: int = 0  # reserved, must be 0

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass(frozen=True)
class SpxFile:
    header: Header
    sections: dict[bytes, bytes] = field(default_factory=dict)  # critical tag -> inflated payload
    section_sizes: dict[bytes, int] = field(default_factory=dict)  # tag -> bytes on disk
    header_size: int = 0


def _check_header(h: Header, limits: Limits) -> None:
    if h.flags != 0:
        raise BitstreamError(f"reserved header flags are set ({h.flags:#x})")
    if not (1 <= h.width <= MAX_SIDE and 1 <= h.height <= MAX_SIDE):
        raise BitstreamError(f"image size {h.width}x{h.height} is out of range")
    if h.pixels > limits.max_pixels:
        raise BitstreamError(
            f"image of {h.width}x{h.height} pixels exceeds the limit of {limits.max_pixels} "
            "pixels (raise it with SPARSEPIX_MAX_PIXELS or Limits(max_pixels=...))"
        )
    if h.channels not in (1, 3):
        raise BitstreamError(f"unsupported channel count {h.channels}")
    if not 1 <= h.count <= h.pixels:
        raise BitstreamError(f"sample count {h.count} does not fit a {h.width}x{h.height} image")
    if not 0 <= h.seed < 1 << 64:
        raise BitstreamError("seed does not fit in 64 bits")


def pack(header: Header, sections: list[tuple[bytes, bytes]], level: int = ZSTD_LEVEL) -> bytes:
    """Serialise a header and (tag, raw payload) sections into .spx bytes."""
    _check_header(header, Limits(max_pixels=header.pixels))
    ref = header.model.encode("ascii")
    if len(ref) > MAX_MODEL_REF:
        raise BitstreamError(f"model reference longer than {MAX_MODEL_REF} bytes")
    if len(sections) > MAX_SECTIONS:
        raise BitstreamError(f"more than {MAX_SECTIONS} sections")
    head = (
        _FIXED.pack(
            MAGIC,
            VERSION,
            header.flags,
            header.width,
            header.height,
            header.channels,
            header.sampler,
            header.value_mode,
            header.value_param,
            header.seed,
            header.count,
            len(ref),
        )
        + ref
        + bytes([len(sections)])
    )
    out = [head, struct.pack("<I", zlib.crc32(head))]
    compressor = zstandard.ZstdCompressor(level=level, write_content_size=True)
    for tag, raw in sections:
        if len(tag) != 4:
            raise BitstreamError(f"section tag {_name(tag)} is not 4 bytes")
        stored = compressor.compress(raw)
        crc = _section_crc(tag, len(stored), len(raw), stored)
        out.append(_SECTION.pack(tag, len(stored), len(raw), crc))
        out.append(stored)
    return b"".join(out)


def _section_crc(tag: bytes, stored_len: int, raw_len: int, stored: bytes) -> int:
    return zlib.crc32(stored, zlib.crc32(struct.pack("<4sII", tag, stored_len, raw_len)))


def parse_header(data: bytes, limits: Limits | None = None) -> tuple[Header, int, int]:
    """Read and validate the header. Returns (header, number of sections, header size)."""
    limits = limits or Limits.from_env()
    if not data:
        raise BitstreamError("empty file (0 bytes), not a sparsepix file")
    if len(data) < 4 or data[:4] != MAGIC:
        raise BitstreamError("not a sparsepix file (bad magic bytes)")
    if len(data) < _FIXED.size:
        raise BitstreamError("truncated header")
    (_, version, flags, width, height, channels, sampler, value_mode, value_param, seed, count, model_len) = (
        _FIXED.unpack_from(data)
    )
    if version not in READABLE:
        raise BitstreamError(
            f"unsupported format version {version} (this decoder reads {', '.join(map(str, READABLE))})"
        )
    if model_len > MAX_MODEL_REF:
        raise BitstreamError(f"model reference length {model_len} exceeds {MAX_MODEL_REF}")
    end = _FIXED.size + model_len + 1
    if len(data) < end + 4:
        raise BitstreamError("truncated header")
    (crc,) = struct.unpack_from("<I", data, end)
    if zlib.crc32(data[:end]) != crc:
        raise BitstreamError("header checksum mismatch (file is corrupted)")
    try:
        ref = data[_FIXED.size : end - 1].decode("ascii")
    except UnicodeDecodeError:
        raise BitstreamError("model reference is not ASCII") from None
    n_sections = data[end - 1]
    if n_sections > MAX_SECTIONS:
        raise BitstreamError(f"{n_sections} sections exceed the limit of {MAX_SECTIONS}")
    header = Header(width, height, channels, sampler, value_mode, value_param, seed, count, ref, flags)
    _check_header(header, limits)
    return header, n_sections, end + 4


def raw_size_bound(header: Header) -> int:
    """The most bytes any section may inflate to, from what the header says it holds.

    A packed position bitmap takes pixels/8 bytes, a list of position gaps at most 5 bytes a
    sample, values at most 5 bytes a sample and channel. Section decoders check their exact
    sizes; this bound only stops a forged length from making us allocate for nothing.
    """
    return header.pixels // 8 + 5 * header.count * header.channels + 4096


def parse(data: bytes, limits: Limits | None = None) -> SpxFile:
    """Validate and unpack a whole .spx file. Raises BitstreamError with a one-line reason."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise BitstreamError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    limits = limits or Limits.from_env()
    header, n_sections, pos = parse_header(data, limits)
    # The sections' framing first: a cut or corrupted file says so, not that it is too small.
    stored_sections = []
    for _ in range(n_sections):
        if len(data) - pos < _SECTION.size:
            raise BitstreamError("truncated file (a section header is cut)")
        tag, stored_len, raw_len, crc = _SECTION.unpack_from(data, pos)
        pos += _SECTION.size
        if stored_len > len(data) - pos:
            raise BitstreamError(f"truncated file (section {_name(tag)} is cut)")
        stored = data[pos : pos + stored_len]
        pos += stored_len
        if _section_crc(tag, stored_len, raw_len, stored) != crc:
            raise BitstreamError(f"checksum mismatch in section {_name(tag)} (file is corrupted)")
        stored_sections.append((tag, raw_len, stored))
    if pos != len(data):
        raise BitstreamError(f"{len(data) - pos} bytes of trailing garbage after the last section")
    if len(data) < limits.bytes_for_pixels(header.pixels, header.sampler):
        raise BitstreamError(
            f"a {len(data)}-byte file claiming {header.width}x{header.height} pixels is out of "
            "proportion (raise SPARSEPIX_MAX_PIXELS_PER_BYTE or Limits(max_pixels_per_byte=...) "
            "to decode it anyway)"
        )
    if len(data) < limits.bytes_for_samples(header.count):
        raise BitstreamError(
            f"a {len(data)}-byte file claiming {header.count:,} samples is out of proportion "
            "(raise SPARSEPIX_MAX_SAMPLES_PER_BYTE or Limits(max_samples_per_byte=...) to "
            "decode it anyway)"
        )
    bound = raw_size_bound(header)
    sections: dict[bytes, bytes] = {}
    sizes: dict[bytes, int] = {}
    decompressor = zstandard.ZstdDecompressor()
    for tag, raw_len, stored in stored_sections:
        if raw_len > bound:
            raise BitstreamError(f"section {_name(tag)} claims {raw_len} bytes, more than the image allows")
        if tag in sections or tag in sizes:
            raise BitstreamError(f"duplicate section {_name(tag)}")
        if _critical(tag):  # skippable sections are checked, never inflated
            sections[tag] = _inflate(decompressor, stored, raw_len, tag)
        sizes[tag] = _SECTION.size + len(stored)
    return SpxFile(header, sections, sizes, header_size=_header_size(header))


def _inflate(decompressor: zstandard.ZstdDecompressor, stored: bytes, raw_len: int, tag: bytes) -> bytes:
    try:
        params = zstandard.get_frame_parameters(stored)
    except zstandard.ZstdError:
        raise BitstreamError(f"section {_name(tag)} is not a valid zstd frame") from None
    if params.content_size != raw_len:
        raise BitstreamError(f"section {_name(tag)} size does not match its frame")
    inflater = decompressor.decompressobj()  # the frame's content size is raw_len, bounded above
    try:
        raw = inflater.decompress(stored)
    except zstandard.ZstdError as exc:
        raise BitstreamError(f"section {_name(tag)} does not decompress: {exc}") from None
    if not inflater.eof or inflater.unused_data:
        raise BitstreamError(f"section {_name(tag)} is not exactly one zstd frame")
    if len(raw) != raw_len:
        raise BitstreamError(f"section {_name(tag)} inflated to {len(raw)} bytes, expected {raw_len}")
    return raw


def _critical(tag: bytes) -> bool:
    """An upper-case first letter marks a section every decoder must understand (FORMAT.md)."""
    return tag[:1].isupper()


def _name(tag: bytes) -> str:
    """A section tag for error messages: 'MASK', or its hex when it is not printable."""
    text = tag.decode("ascii", "replace")
    return f"'{text}'" if text.isprintable() and text.isascii() else tag.hex()


def _header_size(header: Header) -> int:
    return _FIXED.size + len(header.model) + 1 + 4
