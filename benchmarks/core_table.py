"""Sampler x density x reconstructor table for sparsepix alone (bpp, PSNR, timings).

    python -m sparsepix.benchmarks.core_table ../shared/datasets/kodak

prints a Markdown table of means over the folder's images. The full rate-distortion suite
against JPEG and the other codecs is `sparsepix bench`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from sparsepix.benchmarks.metrics import psnr
from sparsepix.codec.api import decode_samples, encode
from sparsepix.codec.imageio import load_image
from sparsepix.codec.reconstructors import get, reconstruct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--densities", default="0.01,0.05,0.2")
    parser.add_argument("--samplers", default="random,sobel")
    parser.add_argument("--reconstructors", default="linear,pushpull")
    args = parser.parse_args()
    images = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in {".png", ".jpg"})
    names = args.reconstructors.split(",")
    print("| sampler | density | bpp | bits/sample | encode s | parse s | "
          + " | ".join(f"{n} dB | {n} s" for n in names) + " |")
    print("|" + " --- |" * (6 + 2 * len(names)))
    for sampler in args.samplers.split(","):
        for density in map(float, args.densities.split(",")):
            rows = []
            for path in images:
                img = load_image(path)
                t0 = time.perf_counter()
                data = encode(img, density=density, sampler=sampler)
                t1 = time.perf_counter()
                header, canvas, mask = decode_samples(data)
                t2 = time.perf_counter()
                row = [8 * len(data) / mask.size, 8 * len(data) / header.count, t1 - t0, t2 - t1]
                for name in names:
                    t3 = time.perf_counter()
                    out = reconstruct(get(name), canvas, mask)
                    row += [psnr(img, out), time.perf_counter() - t3 + (t2 - t1)]
                rows.append(row)
            m = np.mean(rows, axis=0)
            cells = [f"{m[0]:.3f}", f"{m[1]:.1f}", f"{m[2]:.3f}", f"{m[3]:.3f}"]
            cells += [f"{v:.2f}" if i % 2 == 0 else f"{v:.3f}" for i, v in enumerate(m[4:])]
            print(f"| {sampler} | {density:g} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
