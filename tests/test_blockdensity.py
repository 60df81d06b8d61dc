"""The adaptive sampler: a density level per block, chosen by the encoder (codec/blockdensity.py)."""

import numpy as np
import pytest

import sparsepix
from sparsepix.api import decode_samples
from sparsepix.codec import blockdensity as bd
from sparsepix.metrics import psnr


@pytest.mark.parametrize("h,w,block", [(64, 64, 32), (70, 100, 16), (33, 1, 32), (5, 200, 64)])
def test_counts_add_up_and_fill_no_block_beyond_its_area(h, w, block):
    rng = np.random.default_rng(h * w)
    areas = bd.block_areas(h, w, block)
    assert areas.sum() == h * w
    for count in (1, h * w // 20, h * w // 2, h * w - 1, h * w):
        levels = rng.integers(0, len(bd.WEIGHTS), areas.shape).astype(np.uint8)
        counts = bd.block_counts(levels, count, h, w, block)
        assert counts.sum() == count and (counts >= 0).all() and (counts <= areas).all()
        mask = bd.block_mask(7, h, w, counts, block)
        assert mask.sum() == count
        assert np.array_equal(bd.block_sums(mask, block), counts)


def test_levels_set_the_density_and_masks_nest():
    levels = np.array([[0, 4], [2, 2]], np.uint8)
    counts = bd.block_counts(levels, 400, 64, 64, 32)
    assert counts[0, 1] == 16 * counts[0, 0] and counts[1, 0] == counts[1, 1] == 4 * counts[0, 0]
    small = bd.block_mask(3, 64, 64, bd.block_counts(levels, 200, 64, 64, 32), 32)
    large = bd.block_mask(3, 64, 64, bd.block_counts(levels, 400, 64, 64, 32), 32)
    assert not (small & ~large).any()  # one seed: fewer samples keep a subset


def test_blocks_shrink_as_density_grows():
    assert [bd.block_size(512, 768, round(d * 512 * 768)) for d in (0.002, 0.01, 0.05)] == [64, 32, 16]


def test_round_trip_spends_samples_where_the_image_is_busy(astronaut):
    img = astronaut[:192, :256]
    data = sparsepix.encode(img, density=0.04, sampler="adaptive", seed=5, model="")
    info = sparsepix.inspect(data)
    assert info.sampler == "adaptive" and set(info.section_bytes) == {"DENS", "VALS"}
    header, canvas, mask = decode_samples(data)
    assert mask.sum() == header.count == round(0.04 * 192 * 256)
    levels = bd.choose_levels(img, 5, header.count, bd.block_size(192, 256, header.count))
    assert len(np.unique(levels)) >= 3
    gray = img.mean(2)
    gy, gx = np.gradient(gray)
    grad = np.abs(gy) + np.abs(gx)
    assert grad[mask].mean() > 1.2 * grad.mean()


def test_beats_random_sampling_at_equal_count(astronaut):
    img = astronaut[:256, :256]
    scores = {}
    for sampler in ("random", "adaptive"):
        data = sparsepix.encode(img, density=0.04, sampler=sampler, seed=2, values="raw8", model="")
        scores[sampler] = psnr(img, sparsepix.decode(data, model="linear"))
    assert scores["adaptive"] > scores["random"] + 0.3


def test_a_damaged_density_map_is_refused():
    with pytest.raises(sparsepix.BitstreamError, match="block size"):
        bd.recover(bytes([3, 0, 0, 0, 0]), 1, 64, 64, 100)
    with pytest.raises(sparsepix.BitstreamError, match="blocks"):
        bd.recover(bytes([5, 0, 0]), 1, 64, 64, 100)
    with pytest.raises(sparsepix.BitstreamError, match="level"):
        bd.recover(bytes([5, 0, 0, 0, 9]), 1, 64, 64, 100)


def test_the_old_two_stage_sampler_only_decodes():
    with pytest.raises(sparsepix.InputError, match="unknown sampler 'edges'"):
        sparsepix.encode(np.zeros((32, 32, 3), np.uint8), sampler="edges")
