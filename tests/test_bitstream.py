import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sparsepix
from sparsepix.bitstream import MAGIC, Header, Limits, pack, parse
from sparsepix.bitstream.container import _section_crc
from sparsepix.errors import BitstreamError

HEADER = Header(
    width=37,
    height=21,
    channels=3,
    sampler=0,
    value_mode=0,
    value_param=0,
    seed=123456789,
    count=40,
    model="xgan-natural@1",
)


def test_pack_parse_round_trip():
    data = pack(HEADER, [(b"VALS", b"abc" * 40), (b"meta", b"")])
    spx = parse(data)
    assert spx.header == HEADER
    assert spx.sections == {b"VALS": b"abc" * 40}  # the skippable one is checked, not inflated
    assert set(spx.section_sizes) == {b"VALS", b"meta"}
    assert spx.header_size + sum(spx.section_sizes.values()) == len(data)


@given(st.binary(max_size=200))
def test_random_bytes_never_crash(blob):
    with pytest.raises(BitstreamError):
        parse(blob)


def test_bad_magic_and_version():
    data = pack(HEADER, [(b"VALS", b"x")])
    with pytest.raises(BitstreamError, match="magic"):
        parse(b"PNG!" + data[4:])
    bumped = bytearray(data)
    bumped[4] = 9
    with pytest.raises(BitstreamError, match="version 9"):
        parse(bytes(bumped))


def test_every_truncation_is_rejected():
    data = pack(HEADER, [(b"VALS", bytes(range(120)))])
    for n in range(len(data)):
        with pytest.raises(BitstreamError):
            parse(data[:n])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_flipped_byte_is_rejected(draw):
    data = bytearray(pack(HEADER, [(b"VALS", bytes(range(120)))]))
    pos = draw.draw(st.integers(0, len(data) - 1))
    data[pos] ^= draw.draw(st.integers(1, 255))
    with pytest.raises(BitstreamError):
        parse(bytes(data))


def test_trailing_garbage_is_rejected():
    data = pack(HEADER, [(b"VALS", b"x")])
    with pytest.raises(BitstreamError, match="trailing"):
        parse(data + b"\0")


def _forge_header(width: int, height: int, count: int) -> bytes:
    body = MAGIC + struct.pack("<BBIIBBBBQIB", 1, 0, width, height, 3, 0, 0, 0, 1, count, 0) + b"\0"
    return body + struct.pack("<I", zlib.crc32(body))


def test_huge_image_claim_is_rejected_quickly():
    with pytest.raises(BitstreamError, match="exceeds the limit"):
        parse(_forge_header(10**6, 10**6, 1))
    with pytest.raises(BitstreamError, match="out of range"):
        parse(_forge_header(2**32 - 1, 1, 1))


def test_limit_is_overridable():
    data = pack(Header(100, 100, 3, 0, 0, 0, 1, 10), [(b"VALS", b"")])
    with pytest.raises(BitstreamError, match="exceeds"):
        parse(data, Limits(max_pixels=9_999))
    assert parse(data, Limits(max_pixels=10_000)).header.width == 100


def test_forged_raw_length_cannot_force_a_large_allocation():
    import zstandard

    # A valid frame claiming 1 GB of output for a 4x4 image: rejected before inflating.
    stored = zstandard.ZstdCompressor().compress(b"\0" * 1000)
    h = Header(4, 4, 3, 0, 0, 0, 1, 2)
    head = pack(h, [])[:-5] + b"\x01"
    head += struct.pack("<I", zlib.crc32(head))
    crc = _section_crc(b"VALS", len(stored), 10**9, stored)
    data = head + struct.pack("<4sIII", b"VALS", len(stored), 10**9, crc) + stored
    with pytest.raises(BitstreamError, match="claims"):
        parse(data)


def test_zstd_frame_must_match_declared_length():
    import zstandard

    stored = zstandard.ZstdCompressor().compress(b"\0" * 10)
    h = Header(4, 4, 3, 0, 0, 0, 1, 2)
    head = pack(h, [])[:-5] + b"\x01"
    head += struct.pack("<I", zlib.crc32(head))
    crc = _section_crc(b"VALS", len(stored), 6, stored)
    data = head + struct.pack("<4sIII", b"VALS", len(stored), 6, crc) + stored
    with pytest.raises(BitstreamError, match="does not match its frame"):
        parse(data)


def test_real_file_mutations_fail_cleanly(small_rgb):
    """Decoding (not just parsing) a mutated real file raises BitstreamError, never anything else."""
    data = sparsepix.encode(small_rgb, density=0.05, sampler="sobel", seed=1)
    for pos in range(0, len(data), 7):
        broken = bytearray(data)
        broken[pos] ^= 0x40
        with pytest.raises(BitstreamError):
            sparsepix.decode(bytes(broken), model="nearest")


@pytest.mark.parametrize("sampler", ["random", "sobel", "adaptive"])
def test_garbage_inside_valid_checksums_fails_cleanly(small_rgb, sampler):
    """Sections re-packed with correct CRCs but corrupted payloads: BitstreamError or an image."""
    import numpy as np

    from sparsepix.bitstream import parse

    spx = parse(sparsepix.encode(small_rgb, density=0.1, sampler=sampler, seed=2, model=""))
    rng = np.random.default_rng(0)
    for trial in range(60):
        sections = []
        for tag, raw in spx.sections.items():
            raw = bytearray(raw)
            if raw and rng.random() < 0.7:
                for _ in range(int(rng.integers(1, 4))):
                    raw[int(rng.integers(0, len(raw)))] = int(rng.integers(0, 256))
            if rng.random() < 0.2:
                raw = raw[: int(rng.integers(0, len(raw) + 1))]
            sections.append((tag, bytes(raw)))
        data = pack(spx.header, sections)
        try:
            out = sparsepix.decode(data, model="nearest")
            assert out.shape == small_rgb.shape
        except BitstreamError:
            pass


SAMPLES_ANY = Limits(max_samples_per_byte=1 << 40)


def _with_sections(sections):
    from dataclasses import replace

    # 4 MP: as large as a file of any size may claim (bitstream/limits.py); sections up to ~60 MB.
    # Parse with SAMPLES_ANY: the samples-per-byte limit would refuse these before their sections.
    return pack(replace(HEADER, width=2000, height=2000, count=4_000_000), sections, level=19)


def test_skippable_sections_are_never_inflated():
    """A zstd bomb in a skippable section: a small file must not make the parser allocate it."""
    import tracemalloc

    from sparsepix.bitstream import parse

    bomb = bytes(50_000_000)  # 50 MB of zeros: a few KB once compressed
    data = _with_sections([(b"xtra", bomb)])
    assert len(data) < 100_000
    tracemalloc.start()
    spx = parse(data, SAMPLES_ANY)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert spx.sections == {} and b"xtra" in spx.section_sizes
    assert peak < 10 * len(data)


def test_bytes_after_a_sections_zstd_frame_are_refused():
    import struct
    import zlib

    import zstandard

    from sparsepix.bitstream import parse

    good = _with_sections([(b"VALS", b"abc")])
    frame = zstandard.ZstdCompressor(write_content_size=True).compress(b"abc")
    payload = frame + b"junk"
    section = struct.pack("<4sII", b"VALS", len(payload), 3)
    crc = zlib.crc32(payload, zlib.crc32(section))
    start = good.index(b"VALS")
    forged = good[:start] + section + struct.pack("<I", crc) + payload
    with pytest.raises(BitstreamError, match="one zstd frame"):
        parse(forged, SAMPLES_ANY)


def test_tiny_files_claiming_huge_images_are_refused_before_any_work():
    """A 65-byte raw8 file claiming 10,000 x 10,000 pixels took 22 s and 3.3 GB to decode."""
    import time

    import sparsepix
    from sparsepix.bitstream import Header, Limits, pack

    header = Header(
        width=10_000, height=10_000, channels=3, sampler=0, value_mode=0, value_param=0, seed=1, count=1
    )
    data = pack(header, [(b"VALS", bytes(4))])
    start = time.perf_counter()
    with pytest.raises(BitstreamError, match="out of proportion"):
        sparsepix.decode(data)
    with pytest.raises(BitstreamError, match="out of proportion"):
        sparsepix.inspect(data)
    assert time.perf_counter() - start < 1.0
    assert parse(data, Limits(max_pixels_per_byte=10**9)).header.count == 1  # the explicit override


def test_flat_images_are_padded_to_what_decoders_accept():
    import numpy as np

    import sparsepix

    flat = np.full((2100, 2000, 3), 90, np.uint8)  # just over the 4 MP that any file may claim
    data = sparsepix.encode(flat, density=0.001, model="")
    assert "pads" in sparsepix.inspect(data).section_bytes
    assert sparsepix.decode(data).shape == flat.shape


def test_tiny_files_claiming_many_samples_are_refused_and_encoders_pad():
    """A 95-byte flat 2000x1000 file at 50 % density took 23 s to decode: samples cost work too."""
    import numpy as np

    import sparsepix
    from sparsepix.bitstream import Header, Limits, pack

    header = Header(
        width=500, height=400, channels=3, sampler=0, value_mode=0, value_param=0, seed=1, count=100_000
    )
    data = pack(header, [(b"VALS", bytes(300_000))])  # zeros: a few hundred bytes after zstd
    assert len(data) < 100_000 // 16
    with pytest.raises(BitstreamError, match="100,000 samples is out of proportion"):
        sparsepix.decode(data)
    assert parse(data, Limits(max_samples_per_byte=10**9)).header.count == 100_000  # the override
    flat = np.full((400, 500, 3), 90, np.uint8)
    encoded = sparsepix.encode(flat, density=0.5, values="raw8", model="")
    assert "pads" in sparsepix.inspect(encoded).section_bytes
    assert len(encoded) >= 100_000 // 16
    assert np.array_equal(sparsepix.decode(encoded, model="linear"), flat)


def test_the_edge_samplers_pixels_count_more():
    """Sampler 2 (edges) interpolates at every pixel: its free allowance is an eighth."""
    from sparsepix.bitstream import Limits

    limits = Limits()
    assert limits.bytes_for_pixels(3_000_000, 0) == 0
    assert limits.bytes_for_pixels(3_000_000, 2) == 3_000_000 * 8 // 4096 + 1
