import numpy as np

from sparsepix.codec.prng import MASK64, splitmix64, uniform


def reference_splitmix64(seed: int, n: int) -> list[int]:
    """The textbook sequential SplitMix64 (Vigna), in plain Python integers."""
    state, out = seed, []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        out.append(z ^ (z >> 31))
    return out


def test_known_first_output():
    # Published first output of SplitMix64 seeded with 0.
    assert int(splitmix64(0, np.array([0]))[0]) == 0xE220A8397B1DCDAF


def test_matches_sequential_reference_for_any_index():
    for seed in (0, 1, 12345, MASK64):
        assert [int(v) for v in splitmix64(seed, np.arange(50))] == reference_splitmix64(seed, 50)


def test_uniform_is_open_interval_and_roughly_uniform():
    u = uniform(7, 100_000)
    assert u.min() > 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01
