"""Encoder effort levels: what each level runs, what explicit settings override, and that the
levels order as they promise on a real photo."""

import subprocess
import sys

import numpy as np
import pytest

import sparsepix
from sparsepix.api import encode_settings
from sparsepix.catalog import available
from sparsepix.effort import DEFAULT_EFFORT, EFFORTS
from sparsepix.metrics import psnr


def test_each_level_names_its_sampler_model_and_tuning():
    natural, tuned = str(available()["natural"].ref), str(available()["natural-opt"].ref)
    assert encode_settings(0) == ("random", natural, 0)
    assert encode_settings(1) == ("random", tuned, 50)
    assert encode_settings(2) == ("adaptive", tuned, 50) == encode_settings(3) == encode_settings(4)
    assert DEFAULT_EFFORT == 2 and [e.level for e in EFFORTS] == [0, 1, 2, 3, 4]
    assert [e.levels_by_decoder for e in EFFORTS] == [False, False, False, True, True]
    assert [e.refine for e in EFFORTS] == [False, False, False, False, True]


def test_explicit_settings_win_and_levels_tune_by_least_squares_only():
    assert encode_settings(2, sampler="sobel")[0] == "sobel"
    assert encode_settings(1, optimize=0)[1:] == (str(available()["natural"].ref), 0)
    assert encode_settings(1, model="linear") == ("random", "linear", 50)  # least squares
    # natural is tuned by gradient steps through its network: only an explicit --optimize does that.
    assert encode_settings(2, model="natural") == ("adaptive", str(available()["natural"].ref), 0)
    assert encode_settings(2, model="natural", optimize=3)[2] == 3
    assert encode_settings(1, values="raw8")[1:] == (str(available()["natural"].ref), 0)  # raw8 stays exact


@pytest.mark.parametrize("effort", [-1, 5, 1.0, "1", True, None])
def test_bad_levels_are_input_errors(small_rgb, effort):
    with pytest.raises(sparsepix.InputError, match="effort"):
        sparsepix.encode(small_rgb, effort=effort)


def test_higher_effort_decodes_better_at_about_the_same_rate(astronaut):
    img = astronaut[128:384, 128:384]
    scores = []
    for effort in (0, 1):
        data = sparsepix.encode(img, density=0.05, effort=effort)
        scores.append((psnr(img, sparsepix.decode(data, ensemble=1)), len(data)))
    (plain, plain_bytes), (tuned, tuned_bytes) = scores
    assert tuned > plain + 0.3 and tuned_bytes < 1.1 * plain_bytes


def test_densities_chosen_by_the_decoder_follow_its_error(astronaut):
    """The adaptive sampler spends samples where the reconstruction it is given errs: a fill
    that is exact on the left half gets the samples moved to the right; and effort 3, which
    gives it the file's own decoder, decodes better than effort 2 from the same count."""
    from sparsepix.codec import blockdensity
    from sparsepix.codec.classical import linear

    img = astronaut[:128, :128]

    def left_exact(canvas, mask):
        out = linear(canvas, mask)
        out[:, :64] = img[:, :64]
        return out

    levels = blockdensity.choose_levels(img, 5, 800, 16, fill=left_exact)
    assert levels[:, :4].mean() < levels[:, 4:].mean()

    crop = astronaut[100:300, 100:356]
    two, three = (sparsepix.encode(crop, density=0.05, effort=e) for e in (2, 3))
    assert sparsepix.inspect(two).samples == sparsepix.inspect(three).samples
    assert psnr(crop, sparsepix.decode(three)) > psnr(crop, sparsepix.decode(two)) + 0.1


def test_effort_4_refines_values_through_the_decoder_and_nothing_else(astronaut):
    """Same samples as effort 3, values moved by gradient steps through the file's decoder: a
    better decode for a few more bytes; a file for `linear` or with exact samples is effort 3's."""
    crop = astronaut[100:300, 100:356]
    three, four = (sparsepix.encode(crop, density=0.05, effort=e) for e in (3, 4))
    _, canvas3, mask3 = sparsepix.api.decode_samples(three)
    _, canvas4, mask4 = sparsepix.api.decode_samples(four)
    assert np.array_equal(mask3, mask4) and not np.array_equal(canvas3[mask3], canvas4[mask4])
    assert psnr(crop, sparsepix.decode(four)) > psnr(crop, sparsepix.decode(three)) + 0.1
    assert len(four) < 1.1 * len(three)
    small = crop[:64, :96]
    for kept in ({"model": "linear"}, {"values": "raw8"}):
        assert sparsepix.encode(small, effort=4, **kept) == sparsepix.encode(small, effort=3, **kept)


def test_rate_control_tunes_the_winner_and_stays_within_the_target(astronaut):
    img = astronaut[:192, :192]
    target = int(0.15 * img.shape[0] * img.shape[1] / 8)
    choice = sparsepix.encode_to_size(img, target, qualities=(65,), effort=1)
    info = sparsepix.inspect(choice.data)
    assert len(choice.data) <= target and info.model == str(available()["natural-opt"].ref)
    untuned = sparsepix.encode(img, choice.density, quality=65, effort=0, model=info.model)
    _, tuned_canvas, mask = sparsepix.api.decode_samples(choice.data)
    _, plain_canvas, _ = sparsepix.api.decode_samples(untuned)
    assert not np.array_equal(tuned_canvas[mask], plain_canvas[mask])  # the values were tuned
    assert np.isfinite(choice.scorer_psnr)
    # The search runs on random samples; adaptive densities (the default effort's, and effort
    # 3's decoder-chosen ones) are only the winner's, and fit.
    for effort in (DEFAULT_EFFORT, 3):
        adaptive = sparsepix.encode_to_size(img, target, qualities=(65,), effort=effort)
        assert len(adaptive.data) <= target and sparsepix.inspect(adaptive.data).sampler == "adaptive"


def test_cli_effort_option(tmp_path, astronaut):
    from PIL import Image

    src = tmp_path / "a.png"
    Image.fromarray(astronaut[:96, :96]).save(src)
    run = [sys.executable, "-m", "sparsepix", "encode", str(src)]
    assert subprocess.run(run + [str(tmp_path / "a.spx"), "-e", "0"], capture_output=True).returncode == 0
    assert sparsepix.inspect((tmp_path / "a.spx").read_bytes()).model == str(available()["natural"].ref)
    bad = subprocess.run(run + [str(tmp_path / "b.spx"), "--effort", "5"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--effort" in bad.stderr and not (tmp_path / "b.spx").exists()
