"""How much a global linear prior adds on aligned faces: gappy PPCA beside a shipped model.

    python -m sparsepix.benchmarks.face_prior ../shared/datasets/celeba_faces_128 --last 1000 \\
        --components 256,512,1024,1536 --quality 65

A diagnostic, not a reconstructor: aligned face crops share a global structure (eyes, mouth and
face outline at nearly fixed places) that a small convolutional network sees only through its
receptive field. This fits probabilistic PCA (Tipping & Bishop, 1999) to every face but the last
N, then rebuilds each of those N from the same file `recon_table` encodes: the Gaussian
posterior mean of the face given its kept values (kept values pasted back), alone and blended
with a model's output, w * model + (1 - w) * prior. If the blend beats the model, the prior holds
something the model does not. The best weight is chosen on the very faces it is scored on, so
the blend column is an optimistic bound. A basis of K components costs K x H x W x 3 x 2 bytes in
fp16 (the "MB" column): the size that decides whether a prior could ship (the issue's budget
for all shipped models together is 25 MB).

Memory: the fit peaks near 11 GB for the 16,459 training crops of 128 px (the faces as float32,
3.2 GB, a centred copy, and the SVD's work; maximum resident size 10.6 GB on this project's CPU).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from sparsepix.benchmarks.metrics import psnr
from sparsepix.benchmarks.recon_table import list_images
from sparsepix.codec.api import decode_samples, encode
from sparsepix.codec.ensemble import CHOICES as ENSEMBLE_CHOICES
from sparsepix.codec.ensemble import HELP as ENSEMBLE_HELP
from sparsepix.codec.ensemble import from_choice
from sparsepix.codec.imageio import load_image
from sparsepix.codec.reconstructors import get, reconstruct

WEIGHTS = np.round(np.arange(0, 1.01, 0.1), 1)


Prior = tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]


def fit_ppca(faces: torch.Tensor, k: int, seed: int = 0) -> Prior:
    """(mean (D,), basis (D, k) orthonormal, latent variances (k,), noise variance) of a
    maximum-likelihood PPCA of the rows of `faces` (N, D): the top k principal directions carry
    their variance above the noise, every other direction the mean of the discarded variance."""
    torch.manual_seed(seed)  # svd_lowrank draws a random start
    mean = faces.mean(0)
    centred = faces - mean
    _, s, basis = torch.svd_lowrank(centred, q=k, niter=2)
    variances = s**2 / (len(faces) - 1)
    total = float(centred.pow(2).sum()) / (len(faces) - 1)
    noise = (total - float(variances.sum())) / (faces.shape[1] - k)
    return mean, basis, (variances - noise).clamp_min(1e-8), noise


def posterior_means(
    prior: Prior, known: torch.Tensor, values: torch.Tensor, ks: list[int]
) -> dict[int, torch.Tensor]:
    """The PPCA posterior mean of the whole vector given `values` at the indices `known`, for each
    leading-k sub-model (one Gram matrix, sliced). Known entries are returned as given."""
    mean, basis, latent, noise = prior
    rows = basis[known]
    gram = rows.T @ rows
    rhs = rows.T @ (values - mean[known])
    out = {}
    for k in ks:
        z = torch.linalg.solve(gram[:k, :k] / noise + torch.diag(1 / latent[:k]), rhs[:k] / noise)
        x = mean + basis[:, :k] @ z
        x[known] = values
        out[k] = x
    return out


def _load(paths: list[Path]) -> np.ndarray:
    images = [load_image(p) for p in paths]
    shapes = {im.shape for im in images}
    if len(shapes) != 1 or images[0].ndim != 3:
        raise SystemExit(f"face_prior needs RGB crops of one size; found {sorted(shapes)}")
    return np.stack(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="aligned crops of one size (CelebA 128 px)")
    parser.add_argument("--last", type=int, default=1000, help="hold out the last N files by name")
    parser.add_argument("--components", default="256,512,1024,1536", help="PPCA sizes to try")
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--sampler", default="random")
    parser.add_argument("--quality", type=int, default=65, help="pred quality of the kept values")
    parser.add_argument("--model", default="faces", help="reconstructor to blend with")
    parser.add_argument("--baseline", default="linear")
    parser.add_argument(
        "--ensemble",
        default="auto",
        choices=ENSEMBLE_CHOICES,
        help=ENSEMBLE_HELP,
    )
    args = parser.parse_args()
    paths = list_images(args.folder)
    if not 0 < args.last < len(paths):
        parser.error(f"--last must be between 1 and {len(paths) - 1} ({len(paths)} files)")
    ks = sorted(int(k) for k in args.components.split(","))
    train = torch.from_numpy(_load(paths[: -args.last])).flatten(1).float().div_(255)
    if not 0 < ks[-1] < min(train.shape):
        parser.error(f"--components must lie in 1..{min(train.shape) - 1}")
    prior = fit_ppca(train, ks[-1])
    del train
    print(f"PPCA on {len(paths) - args.last} faces, {ks[-1]} components, noise variance {prior[3]:.2e}")
    model, baseline = get(args.model), get(args.baseline)
    scores: dict[str, list[float]] = {}
    for path in tqdm(paths[-args.last :], desc="held-out faces", unit="face"):
        img = load_image(path)
        data = encode(img, density=args.density, sampler=args.sampler, quality=args.quality, model="")
        _, canvas, mask = decode_samples(data)
        ref = img.astype(np.float32) / 255
        out = reconstruct(model, canvas, mask, "cpu", from_choice(args.ensemble))
        scores.setdefault(args.baseline, []).append(psnr(img, reconstruct(baseline, canvas, mask, "cpu")))
        scores.setdefault(args.model, []).append(psnr(img, out))
        ours = out.astype(np.float32) / 255
        known = torch.from_numpy(np.repeat(mask[..., None], img.shape[2], axis=2).reshape(-1))
        values = torch.from_numpy(canvas.reshape(-1)[known.numpy()].astype(np.float32) / 255)
        for k, x in posterior_means(prior, known, values, ks).items():
            filled = x.clamp(0, 1).reshape(img.shape).numpy()
            scores.setdefault(f"{k}", []).append(psnr(ref, filled, peak=1.0))
            for w in WEIGHTS:
                scores.setdefault(f"{k}@{w}", []).append(psnr(ref, w * ours + (1 - w) * filled, peak=1.0))
    mean_of = {key: float(np.mean(v)) for key, v in scores.items()}
    print(
        f"{args.last} held-out faces, {args.sampler} {args.density:g}, pred values at quality "
        f"{args.quality}: {args.baseline} {mean_of[args.baseline]:.2f} dB, {args.model} "
        f"{mean_of[args.model]:.2f} dB"
    )
    print(f"| components | MB (fp16) | prior PSNR | best w | blend PSNR | blend - {args.model} |")
    print("| --- | --- | --- | --- | --- | --- |")
    for k in ks:
        w = max(WEIGHTS, key=lambda w: mean_of[f"{k}@{w}"])
        blend = mean_of[f"{k}@{w}"]
        mb = k * prior[1].shape[0] * 2 / 1e6
        print(
            f"| {k} | {mb:.0f} | {mean_of[str(k)]:.2f} | {w:.1f} | {blend:.2f} | "
            f"{blend - mean_of[args.model]:+.2f} |"
        )


if __name__ == "__main__":
    main()
