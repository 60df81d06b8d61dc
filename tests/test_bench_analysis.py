import io

import numpy as np
import pytest
from PIL import Image

from sparsepix.benchmarks.bdrate import bd_psnr, bd_rate, quality_at
from sparsepix.benchmarks.metrics import haarpsi, ms_ssim, psnr

RATES = [0.1, 0.2, 0.4, 0.8]
PSNRS = [25.0, 28.0, 31.0, 34.0]


def test_bd_rate_known_answers():
    assert bd_rate(RATES, PSNRS, RATES, PSNRS) == pytest.approx(0.0, abs=1e-9)
    assert bd_rate(RATES, PSNRS, [0.9 * r for r in RATES], PSNRS) == pytest.approx(-10.0, abs=1e-6)
    assert bd_rate(RATES, PSNRS, [1.25 * r for r in RATES], PSNRS) == pytest.approx(25.0, abs=1e-6)
    assert bd_rate(RATES, PSNRS, [r * 100 for r in RATES], [p + 50 for p in PSNRS]) is None  # no overlap


def test_bd_psnr_known_answers():
    assert bd_psnr(RATES, PSNRS, RATES, [p + 1.5 for p in PSNRS]) == pytest.approx(1.5, abs=1e-9)
    # Doubling the rate on a 3 dB/octave curve costs exactly 3 dB at equal rate.
    assert bd_psnr(RATES, PSNRS, [2 * r for r in RATES], PSNRS) == pytest.approx(-3.0, abs=1e-6)


def test_quality_at():
    assert quality_at(RATES, PSNRS, 0.2) == pytest.approx(28.0)
    assert quality_at(RATES, PSNRS, np.sqrt(0.1 * 0.2)) == pytest.approx(26.5)  # linear in log-rate
    assert quality_at(RATES, PSNRS, 0.05) is None


def test_psnr_known_pairs():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 255  # MSE = 255^2 / 48
    assert psnr(a, b) == pytest.approx(10 * np.log10(48))
    assert psnr(a, a) == float("inf")


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf))


def test_ms_ssim_and_haarpsi_are_one_for_identical_and_rank_distortions(astronaut):
    low, high = _jpeg(astronaut, 5), _jpeg(astronaut, 60)
    for metric in (ms_ssim, haarpsi):
        assert metric(astronaut, astronaut) == pytest.approx(1.0, abs=1e-9)
        assert metric(astronaut, low) < metric(astronaut, high) < 1.0
    face = astronaut[:128, :128]
    assert 0 < ms_ssim(face, _jpeg(face, 10)) < 1


def test_ms_ssim_matches_the_library_on_large_images(astronaut):
    import torch
    from pytorch_msssim import ms_ssim as reference

    low = _jpeg(astronaut, 10)
    t = lambda a: torch.from_numpy(a.transpose(2, 0, 1)).double()[None]  # noqa: E731
    assert ms_ssim(astronaut, low) == pytest.approx(float(reference(t(astronaut), t(low), data_range=255)))
