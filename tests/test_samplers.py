import numpy as np
import pytest

from sparsepix.codec.samplers import random_mask, sample_count, sobel_mask, sobel_probability
from sparsepix.errors import InputError


@pytest.mark.parametrize("density", [0.001, 0.01, 0.05, 0.2, 0.5])
def test_sample_count_rounds_and_is_positive(density):
    assert sample_count(512, 768, density) == max(1, round(density * 512 * 768))


@pytest.mark.parametrize("density", [0.0, 0.0009, 0.51, 1.0, -0.1])
def test_density_out_of_range_is_an_input_error(density):
    with pytest.raises(InputError, match="density"):
        sample_count(10, 10, density)


def test_random_mask_exact_count_and_deterministic():
    m = random_mask(42, 37, 53, 100)
    assert m.shape == (37, 53) and m.sum() == 100
    assert np.array_equal(m, random_mask(42, 37, 53, 100))
    assert not np.array_equal(m, random_mask(43, 37, 53, 100))


def test_random_masks_are_nested_across_counts():
    small, large = random_mask(5, 64, 64, 40), random_mask(5, 64, 64, 400)
    assert not (small & ~large).any()


def test_random_mask_is_spatially_uniform():
    m = random_mask(1, 256, 256, 256 * 256 // 10)
    quadrants = [m[:128, :128], m[:128, 128:], m[128:, :128], m[128:, 128:]]
    shares = [q.mean() for q in quadrants]
    assert max(shares) - min(shares) < 0.01


def test_random_mask_all_pixels():
    assert random_mask(3, 4, 5, 20).all()


def test_sobel_mask_prefers_edges_but_covers_flat_areas():
    img = np.zeros((64, 64, 3), np.uint8)
    img[:, 32:] = 255  # one vertical edge
    m = sobel_mask(img, seed=0, count=400)
    assert m.sum() == 400
    near_edge = m[:, 28:36].sum()
    assert near_edge > 400 * 0.5  # the edge band is 1/8 of the image
    assert m[:, :20].sum() > 0 and m[:, 44:].sum() > 0  # floor keeps flat areas sampled


def test_sobel_probability_sums_to_one_and_flat_is_uniform():
    p = sobel_probability(np.full((10, 12), 77, np.uint8))
    assert np.allclose(p, 1 / 120)
    rng = np.random.default_rng(0)
    q = sobel_probability(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8))
    assert q.sum() == pytest.approx(1.0) and q.min() > 0
