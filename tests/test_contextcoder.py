"""The pred values' context coder (layout 2): exact round trips and a table every platform shares."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsepix.codec import contextcoder
from sparsepix.errors import BitstreamError


@settings(max_examples=80, deadline=None)
@given(
    groups=st.lists(
        st.tuples(st.integers(1, 40), st.integers(0, 300), st.floats(0.0, 8.0), st.integers(0, 2**32 - 1)),
        max_size=6,
    )
)
def test_groups_round_trip_exactly(groups):
    """Any residuals within the alphabet, any group sizes (empty ones too), read back in order."""
    made = []
    encoder = contextcoder.Encoder()
    for m, n, scale, seed in groups:
        rng = np.random.default_rng(seed)
        x = np.clip(np.round(rng.laplace(0, scale, n)), -m, m).astype(np.int64)
        if n:
            x[0] = m  # the alphabet's ends code too
        encoder.add(x, m)
        made.append((x, m))
    decoder = contextcoder.Decoder(encoder.finish())
    for x, m in made:
        assert np.array_equal(decoder.read(len(x), m), x)
    decoder.finish()


def test_the_table_is_integer_arithmetic_and_symmetric():
    p = contextcoder.table(200, 128, 5)
    assert p.dtype == np.float64 and np.array_equal(p, p[::-1]) and np.all(p == np.round(p))
    assert p[5] == 2 * 200 * sum(1 << 22 >> k for k in range(5))  # t_k halves: b = 128
    assert p[6] == 56 * (1 << 22) and p[7] == 56 * (1 << 21)
    steep = contextcoder.table(250, 0, 20)  # every tail weight would be 0 past |r| = 1
    assert steep.min() == int(2 * 250 * (1 << 22) + 2 * 6 * (1 << 22)) >> 20


def test_an_outlier_in_a_steep_group_still_codes():
    """Found by the round trip: a residual at the alphabet's end where the fit decays fast."""
    x = np.zeros(200, np.int64)
    x[:60] = 1
    x[0] = 19
    encoder = contextcoder.Encoder()
    encoder.add(x, 19)
    decoder = contextcoder.Decoder(encoder.finish())
    assert np.array_equal(decoder.read(200, 19), x)
    decoder.finish()


def test_the_fit_follows_the_data():
    rng = np.random.default_rng(0)
    flat = np.where(rng.random(2000) < 0.9, 0, rng.choice([-1, 1], 2000))
    busy = np.round(rng.laplace(0, 4, 2000)).astype(np.int64)
    (a_flat, b_flat), (a_busy, b_busy) = contextcoder.fit(flat, 10), contextcoder.fit(busy, 40)
    assert a_flat > 200 and a_busy < 64 and b_busy > b_flat


@pytest.mark.parametrize("cut", [-4, -1, 1])
def test_a_stream_that_is_not_exactly_the_encoders_is_refused(cut):
    encoder = contextcoder.Encoder()
    encoder.add(np.arange(-5, 6), 5)
    raw = encoder.finish()
    bad = raw[:cut] if cut < 0 else raw + b"\0\0\0\0"
    with pytest.raises(BitstreamError):
        decoder = contextcoder.Decoder(bad)
        decoder.read(11, 5)
        decoder.finish()


def test_contexts_count_the_spread_edges_passed():
    steps = np.array([10, 20])
    spread = np.array([[0, 0], [5, 9], [15, 30], [80, 200]])  # in half steps: 0/0, 1/0, 3/3, 16/20
    assert contextcoder.contexts(spread, steps).tolist() == [[0, 0], [1, 0], [2, 2], [5, 5]]
