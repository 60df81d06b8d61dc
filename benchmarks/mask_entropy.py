"""How far the stored Sobel masks are from their entropy (the table in docs/DECISIONS.md).

    python -m sparsepix.benchmarks.mask_entropy ../shared/datasets/kodak --limit 8

For each density, mean bytes per image of: the MASK section as the codec stores it (zstd over
bitmap or gaps); an ideal adaptive binary coder conditioned on the two rows above (row-parallel
contexts, so a decoder could run it a row at a time); 8x8 block counts (zstd) plus the
enumerative rank of each block's pattern; and sum H(p_i) over the sampler's own inclusion
probabilities, which no decoder can reach (it lacks the image p comes from).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import zstandard

from sparsepix.benchmarks.recon_table import list_images
from sparsepix.codec.imageio import load_image
from sparsepix.codec.positions import encode_positions
from sparsepix.codec.samplers import sample_count, sobel_mask, sobel_probability

_ZSTD = zstandard.ZstdCompressor(level=19)


def context_bytes(mask: np.ndarray) -> float:
    """Code length of an adaptive (Laplace-count) coder whose context is the number of kept
    pixels among the 3 nearest in each of the two rows above, and a 9-wide density of both."""
    h, w = mask.shape
    padded = np.zeros((h + 2, w + 8), np.int64)
    padded[2:, 4:-4] = mask
    counts = np.ones((4 * 4 * 6, 2))
    bits = 0.0
    for y in range(h):
        above, above2 = padded[y + 1], padded[y]
        s1 = np.convolve(above, np.ones(3, int), "same")[4:-4]
        s2 = np.convolve(above2, np.ones(3, int), "same")[4:-4]
        wide = np.convolve(above + above2, np.ones(9, int), "same")[4:-4]
        ctx = np.minimum(s1, 3) * 24 + np.minimum(s2, 3) * 6 + np.minimum(wide, 5)
        x = mask[y].astype(int)
        p1 = counts[ctx, 1] / counts[ctx].sum(1)
        bits -= np.log2(np.where(x == 1, p1, 1 - p1)).sum()
        np.add.at(counts, (ctx, x), 1)
    return bits / 8


def block_bytes(mask: np.ndarray, block: int = 8) -> float:
    """Block counts under zstd plus log2 C(block^2, k) bits for each block's pattern."""
    h, w = mask.shape
    hh, ww = -(-h // block) * block, -(-w // block) * block
    padded = np.zeros((hh, ww), bool)
    padded[:h, :w] = mask
    counts = padded.reshape(hh // block, block, ww // block, block).sum((1, 3)).ravel()
    bits = sum(math.log2(math.comb(block * block, int(k))) for k in counts)
    return bits / 8 + len(_ZSTD.compress(counts.astype(np.uint8).tobytes()))


def oracle_bytes(image: np.ndarray, count: int) -> float:
    p = np.clip(sobel_probability(image).ravel() * count, 1e-12, 1 - 1e-12)
    return float(-(p * np.log2(p) + (1 - p) * np.log2(1 - p)).sum() / 8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--limit", type=int, default=8, help="first N images by name")
    parser.add_argument("--densities", default="0.01,0.05,0.2")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    images = list_images(args.folder, frozenset({".png"}))[: args.limit]
    columns = [
        "zstd (bitmap or gaps)",
        "context model",
        "block counts + enumerative",
        "entropy if p were known",
    ]
    print("| density | " + " | ".join(columns) + " |")
    print("| --- | --- | --- | --- | --- |")
    for density in (float(d) for d in args.densities.split(",")):
        totals = np.zeros(4)
        for path in images:
            img = load_image(path)
            count = sample_count(img.shape[0], img.shape[1], density)
            mask = sobel_mask(img, args.seed, count)
            totals += [
                len(_ZSTD.compress(encode_positions(mask))),
                context_bytes(mask),
                block_bytes(mask),
                oracle_bytes(img, count),
            ]
        z, *rest = totals / len(images)
        cells = [f"{v:,.0f} ({100 * (v / z - 1):+.1f} %)" for v in rest]
        print(f"| {100 * density:g} % | {z:,.0f} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
