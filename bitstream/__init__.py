"""The .spx file format alone: header, sections, checksums, limits. No image maths, no torch."""

from sparsepix.bitstream.container import MAGIC, VERSION, Header, SpxFile, pack, parse, parse_header
from sparsepix.bitstream.limits import DEFAULT_MAX_PIXELS, Limits

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "MAGIC",
    "VERSION",
    "Header",
    "Limits",
    "SpxFile",
    "pack",
    "parse",
    "parse_header",
]
