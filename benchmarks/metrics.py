"""Image quality metrics on 8-bit images."""

from __future__ import annotations

import numpy as np

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al. 2003


def psnr(reference: np.ndarray, test: np.ndarray, peak: float = 255.0) -> float:
    """PSNR in dB over all pixels and channels; inf for identical images."""
    mse = np.mean((reference.astype(np.float64) - test.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(peak**2 / mse))


def ms_ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """MS-SSIM on 8-bit RGB or grayscale (pytorch-msssim, five scales, Gaussian sigma 1.5).

    The standard 11x11 window needs a short side above 160 px for its four downsamplings.
    Smaller images use the largest odd window that fits (7x7 for 128 px face crops); below
    33 px, single-scale SSIM. The value is said to be MS-SSIM either way: compare like with like.
    """
    import torch
    from pytorch_msssim import ms_ssim as _ms_ssim
    from pytorch_msssim import ssim as _ssim

    def to_tensor(a: np.ndarray) -> torch.Tensor:
        a = a[..., None] if a.ndim == 2 else a
        return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))).double()[None]

    x, y = to_tensor(reference), to_tensor(test)
    side = min(reference.shape[:2])
    win = min(11, (side - 1) // 16 + 1)
    win -= 1 - win % 2  # odd
    if win >= 3 and side > (win - 1) * 16:
        return float(_ms_ssim(x, y, data_range=255, win_size=win))
    win = max(1, min(11, side - (1 - side % 2)))
    return float(_ssim(x, y, data_range=255, win_size=win))
