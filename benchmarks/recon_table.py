"""Sampler x density x reconstructor table for sparsepix alone: bpp, PSNR, MS-SSIM, timings.

    sparsepix bench recon ../shared/datasets/kodak --quality 65
    sparsepix bench recon ../shared/datasets/celeba_faces_128 --last 1000 \\
        --densities 0.05 --samplers random --models linear,faces
    sparsepix bench recon ../shared/datasets/kodak --optimize 50 \
        --densities 0.01,0.05 --samplers random --models linear,natural-opt

prints a Markdown table of means over the images (and writes JSON with --json). Every image
is encoded once per (sampler, density); each reconstructor decodes the same file (with
--optimize N, values tuned by least squares for Delaunay-linear, as `encode --optimize N` stores
them for `linear` and for models trained with `train --optimize`). The full
rate-distortion comparison with JPEG and the other codecs is `sparsepix bench`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from sparsepix.api import decode_samples, encode
from sparsepix.catalog import get
from sparsepix.codec.ensemble import CHOICES as ENSEMBLE_CHOICES
from sparsepix.codec.ensemble import HELP as ENSEMBLE_HELP
from sparsepix.codec.ensemble import from_choice
from sparsepix.codec.imageio import IMAGE_SUFFIXES, image_files, load_image
from sparsepix.codec.quality import DEFAULT_QUALITY
from sparsepix.codec.reconstructors import reconstruct
from sparsepix.errors import InputError, SparsepixError
from sparsepix.metrics import ms_ssim, psnr


def list_images(folder: Path, suffixes: frozenset[str] = IMAGE_SUFFIXES) -> list[Path]:
    """The image files in `folder`, by name; a one-line exit where there are none."""
    try:
        images = image_files(folder, suffixes=suffixes)
    except InputError as exc:
        raise SystemExit(f"error: {exc}") from None
    if not images:
        raise SystemExit(f"error: no images in {folder}")
    return images


def measure(
    images: list[Path],
    sampler: str,
    density: float,
    names: list[str],
    device: str,
    values: str = "pred",
    optimize: int = 0,
    quality: int = DEFAULT_QUALITY,
    chroma_skip: int | None = None,
    ensemble: int | None = None,
) -> dict:
    """Mean bpp, bits/sample, encode and parse time, and per reconstructor PSNR, MS-SSIM, time."""
    rows: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        rows.setdefault(key, []).append(value)

    for path in images:
        img = load_image(path)
        t0 = time.perf_counter()
        data = encode(
            img,
            density=density,
            sampler=sampler,
            values=values,
            quality=quality,
            chroma_skip=chroma_skip,
            model="",
            optimize=optimize,
        )
        t1 = time.perf_counter()
        header, canvas, mask = decode_samples(data)
        t2 = time.perf_counter()
        add("bpp", 8 * len(data) / mask.size)
        add("bits_per_sample", 8 * len(data) / header.count)
        add("encode_s", t1 - t0)
        add("parse_s", t2 - t1)
        ref = img if img.ndim == 3 else img[..., None]
        for name in names:
            t3 = time.perf_counter()
            out = reconstruct(get(name), canvas, mask, device, ensemble)
            add(f"{name}_s", time.perf_counter() - t3 + (t2 - t1))
            add(f"{name}_psnr", psnr(ref, out))
            add(f"{name}_msssim", ms_ssim(ref, out))
    return {k: float(np.mean(v)) for k, v in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--densities", default="0.01,0.05,0.2")
    parser.add_argument("--samplers", default="random,sobel")
    parser.add_argument("--models", "--reconstructors", dest="models", default="linear,pushpull")
    parser.add_argument("--last", type=int, default=0, help="only the last N files by name")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--values", default="pred", choices=["pred", "raw8"], help="value coding mode")
    parser.add_argument(
        "--quality", type=int, default=DEFAULT_QUALITY, help=f"pred quality (default {DEFAULT_QUALITY})"
    )
    parser.add_argument(
        "--chroma-skip",
        type=int,
        choices=range(4),
        help="pred: finest levels without chroma (default: the quality's)",
    )
    parser.add_argument(
        "--optimize", type=int, default=0, help="tonal optimisation for linear (LSQR iterations)"
    )
    parser.add_argument(
        "--ensemble",
        default="auto",
        choices=ENSEMBLE_CHOICES,
        help=ENSEMBLE_HELP,
    )
    parser.add_argument("--json", type=Path, help="also write the table as JSON here")
    args = parser.parse_args()
    images = list_images(args.folder)
    images = images[-args.last :] if args.last else images
    names = args.models.split(",")
    if not 1 <= args.quality <= 100:
        parser.error("--quality must be in 1..100")
    tuned = f", tuned for linear ({args.optimize} iterations)" if args.optimize else ""
    values = f"{args.values} values"
    if args.values == "pred":
        skip = "" if args.chroma_skip is None else f", chroma_skip {args.chroma_skip}"
        values = f"pred values at quality {args.quality}{skip}"
    try:
        learned = [r for r in map(get, names) if r.learned]
    except SparsepixError as exc:  # an unknown name: one line, before any work
        raise SystemExit(f"error: {exc}") from None
    passes = from_choice(args.ensemble)
    ensemble = "".join(f"; {r.name} x{r.passes(passes)}" for r in learned)
    print(f"{len(images)} images from {args.folder}, {values}{tuned}{ensemble}")
    print(
        "| sampler | density | bpp | bits/sample | encode s | "
        + " | ".join(f"{n} PSNR | {n} MS-SSIM | {n} s" for n in names)
        + " |"
    )
    print("|" + " --- |" * (5 + 3 * len(names)))
    results = []
    for sampler in args.samplers.split(","):
        for density in map(float, args.densities.split(",")):
            m = measure(
                images,
                sampler,
                density,
                names,
                args.device,
                args.values,
                args.optimize,
                args.quality,
                args.chroma_skip,
                passes,
            )
            results.append({"sampler": sampler, "density": density, **m})
            cells = [f"{m['bpp']:.3f}", f"{m['bits_per_sample']:.2f}", f"{m['encode_s']:.3f}"]
            for n in names:
                cells += [f"{m[n + '_psnr']:.2f}", f"{m[n + '_msssim']:.4f}", f"{m[n + '_s']:.3f}"]
            print(f"| {sampler} | {density:g} | " + " | ".join(cells) + " |", flush=True)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "folder": str(args.folder),
                    "images": len(images),
                    "values": args.values,
                    "quality": args.quality if args.values == "pred" else None,
                    "chroma_skip": args.chroma_skip,
                    "optimize": args.optimize,
                    "ensemble": {r.name: r.passes(passes) for r in learned},
                    "results": results,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
