"""A file's sections from the kept samples, and the samples back from a file (docs/FORMAT.md).

Each sampler names the section its positions need besides the seed (`Sampler.side_tag`);
the values go to `VALS` (and `VAL2` for format version 2's two-stage edge sampler, which only
decodes). Adding a sampler or a value mode is a change here and in its own module, never in
the public API.
"""

from __future__ import annotations

import numpy as np

from sparsepix.bitstream import Header, Limits, pack, parse
from sparsepix.codec import edgesampler, predictive
from sparsepix.codec.predictive import decode_pred, encode_pred
from sparsepix.codec.quality import PredParams
from sparsepix.codec.samplers import SAMPLER_BY_ID
from sparsepix.codec.values import PRED, RAW8, decode_values, encode_values
from sparsepix.errors import BitstreamError

VALUES_TAG, VALUES2_TAG = b"VALS", b"VAL2"
PAD_TAG = b"pads"  # skippable filler (FORMAT.md)


def to_bytes(
    header: Header,
    mask: np.ndarray,
    samples: np.ndarray,
    side: bytes | None,
    params: PredParams | None,
    network_macs: int = 0,
) -> bytes:
    """The file of `header` keeping `samples` ((count, C) uint8, in raster order of `mask`).

    side: the sampler's position section, if it has one. params: the pred coder's parameters
    (for `PRED` files; None for raw8). network_macs: multiply-adds a pixel of the model the file
    names, all its passes (0 for a classical one), which the filler pads for.
    """
    sampler = SAMPLER_BY_ID[header.sampler]
    sections = [] if side is None else [(sampler.side_tag, side)]
    if header.value_mode == PRED:
        indices = np.flatnonzero(mask)
        sections.append((VALUES_TAG, encode_pred(samples, indices, header.width, header.seed, params)))
    else:
        canvas = np.zeros((header.height, header.width, samples.shape[1]), np.uint8)
        canvas[mask] = samples
        sections.append((VALUES_TAG, encode_values(canvas, mask)))
    return _padded(header, sections, network_macs)


def _padded(header: Header, sections: list[tuple[bytes, bytes]], network_macs: int) -> bytes:
    """The file, with a skippable filler section where it would otherwise be too small for
    decoders to accept its claimed pixels, samples or network work (bitstream/limits.py): a flat
    image whose values compress to almost nothing, a large image at a very low rate. Decoders
    never inflate the filler."""
    data = pack(header, sections)
    limits = Limits()  # the defaults: what any decoder accepts
    needed = max(
        limits.bytes_for_pixels(header.pixels, header.sampler),
        limits.bytes_for_samples(header.count),
        limits.bytes_for_network(header.pixels * network_macs),
    )
    if len(data) >= needed:
        return data
    # Random bytes stay their size through zstd; 64 more cover the section header and framing.
    rng = np.random.default_rng(header.seed)
    filler = rng.integers(0, 256, needed - len(data) + 64, dtype=np.uint8)
    return pack(header, sections + [(PAD_TAG, filler.tobytes())])


def from_bytes(data: bytes, limits: Limits) -> tuple[Header, np.ndarray, np.ndarray]:
    """Parse a file into (header, canvas (H, W, C) uint8 with zeros off-mask, mask (H, W) bool)."""
    spx = parse(data, limits)
    h = spx.header
    sampler = SAMPLER_BY_ID.get(h.sampler)
    if sampler is None:
        raise BitstreamError(f"unknown sampler id {h.sampler}")
    if h.value_mode not in (RAW8, PRED):
        raise BitstreamError(f"unsupported value mode {h.value_mode} (this decoder reads raw8, pred)")
    two_stage = sampler.recover is None  # format version 2's edge sampler
    expected = ({VALUES_TAG, VALUES2_TAG} if two_stage else {VALUES_TAG}) | (
        {sampler.side_tag} if sampler.side_tag else set()
    )
    critical = set(spx.sections)  # the parser inflates critical sections only
    if critical != expected:
        names = ", ".join(sorted(t.decode("ascii", "replace") for t in critical))
        raise BitstreamError(f"sections [{names}] do not match sampler {sampler.name!r}")
    if two_stage:
        if h.value_mode != PRED:
            raise BitstreamError(f"the {sampler.name} sampler needs the pred value mode")
        canvas, mask = _two_stage(spx.sections, h)
        return h, canvas, mask
    side = spx.sections[sampler.side_tag] if sampler.side_tag else None
    mask = sampler.recover(side, h.seed, h.height, h.width, h.count)
    if h.value_mode == PRED:
        samples = decode_pred(spx.sections[VALUES_TAG], np.flatnonzero(mask), h.width, h.seed, h.channels)
    else:
        samples = decode_values(spx.sections[VALUES_TAG], h.count, h.channels)
    canvas = np.zeros((h.height, h.width, h.channels), np.uint8)
    canvas[mask] = samples
    return h, canvas, mask


def _two_stage(sections: dict[bytes, bytes], h: Header) -> tuple[np.ndarray, np.ndarray]:
    """Format version 2's edge sampler: the second stage's positions follow from the first
    stage's decoded values."""
    first = edgesampler.first_stage(h.seed, h.height, h.width, h.count)
    idx1 = np.flatnonzero(first)
    decoded1 = decode_pred(sections[VALUES_TAG], idx1, h.width, h.seed, h.channels)
    second = edgesampler.second_stage(h.seed, first, decoded1, h.count)
    idx2 = np.flatnonzero(second)
    prior = (predictive.positions_of(idx1, h.width), predictive.to_coding_domain(decoded1))
    decoded2 = decode_pred(sections[VALUES2_TAG], idx2, h.width, h.seed, h.channels, prior)
    canvas = np.zeros((h.height, h.width, h.channels), np.uint8)
    canvas[first] = decoded1
    canvas[second] = decoded2
    return canvas, first | second
