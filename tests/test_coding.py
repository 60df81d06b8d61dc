import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sparsepix.codec.positions import decode_positions, encode_positions
from sparsepix.codec.values import decode_values, encode_values
from sparsepix.errors import BitstreamError

masks = hnp.arrays(bool, st.tuples(st.integers(1, 40), st.integers(1, 40))).filter(lambda m: m.any())


@settings(max_examples=200)
@given(masks)
def test_positions_round_trip(mask):
    raw = encode_positions(mask)
    assert np.array_equal(decode_positions(raw, *mask.shape, int(mask.sum())), mask)


def test_positions_pick_gaps_when_sparse_and_bitmap_when_dense():
    sparse = np.zeros((300, 300), bool)
    sparse.flat[::997] = True
    assert encode_positions(sparse)[0] == 1
    rng = np.random.default_rng(0)
    dense = rng.random((300, 300)) < 0.5
    assert encode_positions(dense)[0] == 0


def test_positions_reject_count_mismatch_and_overflow():
    mask = np.zeros((5, 5), bool)
    mask[1, 1] = mask[4, 4] = True
    raw = encode_positions(mask)
    with pytest.raises(BitstreamError):
        decode_positions(raw, 5, 5, 3)
    with pytest.raises(BitstreamError):
        decode_positions(bytes([1, 30]), 5, 5, 1)  # index 29 past a 25-pixel image
    with pytest.raises(BitstreamError):
        decode_positions(bytes([1, 0x80]), 5, 5, 1)  # varint cut short
    with pytest.raises(BitstreamError):
        decode_positions(bytes([7, 0]), 5, 5, 1)


def test_gap_varints_cover_large_indices():
    mask = np.zeros((1, 3_000_000), bool)
    mask[0, [0, 200, 2_999_999]] = True
    raw = encode_positions(mask)
    assert np.array_equal(decode_positions(raw, 1, 3_000_000, 3), mask)


@settings(max_examples=100)
@given(
    hnp.arrays(np.uint8, st.tuples(st.integers(1, 30), st.integers(1, 30), st.sampled_from([1, 3]))),
    st.integers(0, 2**32),
)
def test_values_round_trip(image, seed):
    mask = np.random.default_rng(seed).random(image.shape[:2]) < 0.3
    mask.flat[0] = True
    img = image[..., 0] if image.shape[2] == 1 else image
    raw = encode_values(img, mask)
    got = decode_values(raw, int(mask.sum()), image.shape[2])
    assert np.array_equal(got, image[mask])


def test_values_reject_wrong_size():
    with pytest.raises(BitstreamError):
        decode_values(b"\x00abc", 2, 3)
