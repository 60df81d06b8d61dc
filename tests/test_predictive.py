import numpy as np
import pytest
from PIL import Image

import sparsepix
from sparsepix.codec.predictive import (
    _neighbours,
    decode_pred,
    encode_pred,
    level_bounds,
    rgb_to_ycocg,
    ycocg_to_rgb,
)
from sparsepix.codec.quality import DEFAULT_QUALITY, FIDELITY_QUALITY, PredParams, params_for_quality
from sparsepix.codec.samplers import random_mask
from sparsepix.errors import BitstreamError


def test_ycocg_r_is_lossless_on_every_colour_corner_and_random_colours():
    rng = np.random.default_rng(0)
    rgb = np.concatenate(
        [
            rng.integers(0, 256, (200_000, 3)),
            np.array(np.meshgrid([0, 1, 254, 255], [0, 1, 254, 255], [0, 1, 254, 255])).reshape(3, -1).T,
        ]
    )
    rgb = rgb.astype(np.uint8)
    ycc = rgb_to_ycocg(rgb)
    assert ycc[:, 0].min() >= 0 and ycc[:, 0].max() <= 255 and np.abs(ycc[:, 1:]).max() <= 255
    assert np.array_equal(ycocg_to_rgb(ycc), rgb)


def test_level_bounds_grow_fourfold():
    assert level_bounds(10) == [10]
    assert level_bounds(1000) == [62, 250, 1000] or level_bounds(1000)[-1] == 1000
    b = level_bounds(100_000)
    assert b[-1] == 100_000 and all(b[i + 1] // 4 == b[i] for i in range(len(b) - 1)) and b[0] >= 64


def test_neighbours_are_exact_with_ties():
    # A regular grid has many equidistant neighbours: ties must go to the lower index.
    yy, xx = np.mgrid[0:20:2, 0:20:2]
    coarse = np.stack([yy.ravel(), xx.ravel()], 1).astype(np.int64)
    fine = np.array([[1, 1], [5, 5], [0, 3], [19, 19]], np.int64)
    idx, d2 = _neighbours(coarse, fine, 4)
    for row, point in enumerate(fine):
        dist = ((coarse - point) ** 2).sum(1)
        expected = np.lexsort((np.arange(len(coarse)), dist))[:4]
        assert list(idx[row]) == list(expected) and list(d2[row]) == list(dist[expected])


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("skip", [0, 1, 2])
def test_round_trip_is_deterministic_and_bounded(astronaut, channels, skip):
    img = astronaut[:150, :170] if channels == 3 else astronaut[:150, :170, 1]
    h, w = img.shape[:2]
    mask = random_mask(3, h, w, 2500)
    idx = np.flatnonzero(mask.ravel())
    samples = img.reshape(h * w, -1)[idx]
    params = PredParams(4, 8, skip)
    raw = encode_pred(samples, idx, w, 3, params)
    assert raw == encode_pred(samples, idx, w, 3, params)
    dec = decode_pred(raw, idx, w, 3, channels)
    assert dec.shape == samples.shape
    if channels == 1:
        assert np.abs(dec.astype(int) - samples).max() <= 2  # half the step
    else:
        luma = np.abs(rgb_to_ycocg(dec)[:, 0] - rgb_to_ycocg(samples)[:, 0])
        # Half a step, plus what clipping to the RGB cube moves; predicted (skipped) chroma
        # leaves the cube more often, so only most samples keep the tight bound then.
        assert (luma.max() if skip == 0 else np.percentile(luma, 99)) <= 2 + 2
        assert luma.mean() <= 1.5


def test_decoder_rejects_malformed_sections(astronaut):
    mask = random_mask(1, 64, 64, 300)
    idx = np.flatnonzero(mask.ravel())
    raw = encode_pred(astronaut[:64, :64].reshape(-1, 3)[idx], idx, 64, 1, PredParams())
    groups = int.from_bytes(raw[4:6], "little")
    for bad in (
        raw[:-1],
        raw + b"\0",
        raw + b"\0\0\0\0",  # a word after the data
        raw[:-4],
        b"\x03" + raw[1:],  # an unknown layout
        raw[:1] + b"\0" + raw[2:],  # a step of 0
        raw[:3] + b"\x09" + raw[4:],  # chroma skips more levels than there are
        raw[:4] + (groups + 1).to_bytes(2, "little") + raw[6:],
        raw[:6] + b"\0" + raw[7:],  # a model without zeros
        raw[:7] + bytes([raw[7] ^ 1]) + raw[8:],  # another decay than the words were coded with
        raw[:-4] + bytes(x ^ 0xFF for x in raw[-4:]),
        b"",
    ):
        with pytest.raises(BitstreamError):
            decode_pred(bad, idx, 64, 1, 3)


def test_quality_knob_drops_finest_chroma_only_below_the_fidelity_point():
    assert params_for_quality(DEFAULT_QUALITY) == PredParams(luma_step=14, chroma_step=28, chroma_skip=1)
    assert params_for_quality(FIDELITY_QUALITY) == PredParams(luma_step=11, chroma_step=22, chroma_skip=0)
    assert params_for_quality(65, chroma_skip=0).chroma_skip == 0  # an explicit choice wins
    assert params_for_quality(90, chroma_skip=2).chroma_skip == 2


@pytest.mark.data
def test_kodak_bits_per_sample_and_loss_at_the_fidelity_quality(kodak_dir):
    """The fidelity point's bar, on all 24 Kodak images at 5 % random, values untuned: at most
    6 bits a kept sample, under 0.3 dB (mean PSNR, Delaunay-linear) below exact samples."""
    from sparsepix.metrics import psnr

    bits, loss = [], []
    for path in sorted(kodak_dir.glob("*.png")):
        img = np.asarray(Image.open(path))
        exact = sparsepix.encode(img, density=0.05, values="raw8", model="", effort=0)
        lossy = sparsepix.encode(img, density=0.05, model="", quality=FIDELITY_QUALITY, effort=0)
        bits.append(sparsepix.inspect(lossy).bits_per_sample)
        loss.append(
            psnr(img, sparsepix.decode(exact, "linear")) - psnr(img, sparsepix.decode(lossy, "linear"))
        )
    assert len(bits) == 24
    assert np.mean(bits) <= 6.0
    assert np.mean(loss) < 0.3


@pytest.mark.data
def test_kodak_costs_at_most_2_6_bits_a_sample_at_quality_65(kodak_dir):
    """Issue 37's bar for the context coder: 5 % random samples, quality 65, whole files."""
    bits = []
    for path in sorted(kodak_dir.glob("*.png")):
        data = sparsepix.encode(np.asarray(Image.open(path)), density=0.05, quality=65, effort=0)
        bits.append(sparsepix.inspect(data).bits_per_sample)
    assert len(bits) == 24 and np.mean(bits) <= 2.6


@pytest.mark.parametrize("bpp", [0.1, 0.4])
def test_rate_control_hits_the_target(astronaut, bpp):
    img = astronaut[:256, :256]
    target = int(bpp * 256 * 256 / 8)
    choice = sparsepix.encode_to_size(img, target, qualities=(60, 85), model="")
    assert 0.95 * target <= len(choice.data) <= target
    assert sparsepix.decode(choice.data).shape == img.shape


def test_rate_control_impossible_target(astronaut):
    with pytest.raises(sparsepix.InputError, match="cannot fit"):
        sparsepix.encode_to_size(astronaut, 40)


def test_tonal_operator_matches_the_linear_reconstructor(astronaut):
    from sparsepix.codec.classical import linear
    from sparsepix.codec.tonal import linear_operator

    img = astronaut[100:180, 150:250]
    mask = random_mask(2, 80, 100, 400)
    a = linear_operator(mask)
    idx = np.flatnonzero(mask.ravel())
    via_matrix = (a @ img.reshape(-1, 3)[idx].astype(float)).reshape(img.shape)
    assert np.abs(np.rint(via_matrix) - linear(img * mask[..., None], mask)).max() <= 1


def test_tonal_optimisation_improves_linear_decoding(astronaut):
    from sparsepix.metrics import psnr

    img = astronaut[:200, :200]
    plain = sparsepix.encode(img, density=0.03, model="linear", seed=1, optimize=0)
    tuned = sparsepix.encode(img, density=0.03, model="linear", seed=1, optimize=30)
    assert sparsepix.inspect(tuned).model == "linear"
    gain = psnr(img, sparsepix.decode(tuned)) - psnr(img, sparsepix.decode(plain))
    assert gain > 0.5
    with pytest.raises(sparsepix.InputError, match="linear"):
        sparsepix.encode(img, density=0.03, model="pushpull", optimize=10)


def test_edge_sampler_stage2_is_exact_integer_rule():
    """Format version 2's `adaptive` (now `edges`, decode only); its files: tests/golden/v2."""
    from sparsepix.codec.edgesampler import stage2_mask

    weights = np.ones((10, 10), np.int64)
    weights[:, 5:] = 1000  # the right half is 1000x as likely
    first = np.zeros((10, 10), bool)
    first[0, :] = True
    m = stage2_mask(3, weights, first, 20)
    assert m.sum() == 20 and not (m & first).any()
    assert m[:, 5:].sum() >= 18
    assert np.array_equal(m, stage2_mask(3, weights, first, 20))


def test_prediction_with_every_neighbour_far_away_is_zero_without_warnings():
    """FORMAT.md: W = 0 (all four neighbours over 256 px away) predicts 0; no division by zero."""
    import warnings

    from sparsepix.codec.predictive import _predict

    values = np.array([[100, 5, -5], [200, 0, 0]], dtype=np.int64)
    idx = np.array([[0, 1], [1, 0]])
    far = np.full((2, 2), 65537 * 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not _predict(values, idx, far).any()
        near = _predict(values, idx, np.array([[1, 4], [1, 1]]))
    assert near[0, 0] == 120 and near[1, 0] == 150  # (4*100 + 1*200) / 5; (200 + 100) / 2

    # 16,384 samples make a first level of 64 (FORMAT.md), about 360 px apart at 2900x2900.
    yy, xx = np.mgrid[0:2900, 0:2900]
    image = np.stack([(xx // 10) % 256, (yy // 10) % 256, (xx + yy) // 20 % 256], -1).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = sparsepix.encode(
            image, 16384.5 / 2900**2, model="", seed=3, optimize=0, quality=FIDELITY_QUALITY
        )
        _, canvas, mask = sparsepix.api.decode_samples(data)
    assert mask.sum() == 16384
    assert np.abs(canvas[mask].astype(int) - image[mask]).max() <= 20  # 0.6 steps a channel, not garbage
