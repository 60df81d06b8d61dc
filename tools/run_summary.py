"""A training run at a glance, for model cards: its losses over the run and its sample crops.

    python -m sparsepix.tools.run_summary RUN --every 50 [--strip strip.png]

Prints a Markdown table of every logged term (mean over each window of `--every` steps), with
the validation PSNR/SSIM measured in the window; `--strip` joins the first validation crop's
output at every saved step (RUN/samples/step_*.png), the input first and the target last.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from sparsepix.benchmarks.results import md_table

SKIPPED = {"step", "images_per_s"}


def _records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by a kill
            continue
    return out


def loss_table(run: Path, every: int) -> str:
    """Windowed means of the logged terms, and validation where it fell in the window."""
    logs, vals = _records(run / "log.jsonl"), _records(run / "val.jsonl")
    if not logs:
        raise SystemExit(f"error: no log.jsonl records in {run}")
    terms = sorted({k for r in logs for k in r} - SKIPPED)
    rows = []
    last = max(r["step"] for r in logs)
    for lo in range(0, last, every):
        window = [r for r in logs if lo < r["step"] <= lo + every]
        if not window:
            continue
        cells = [f"{lo + 1}-{min(lo + every, last)}"]
        for term in terms:
            values = [r[term] for r in window if term in r]
            cells.append(f"{np.mean(values):.4f}" if values else "–")
        val = [v for v in vals if lo < v["step"] <= lo + every]
        cells.append(f"{val[-1]['psnr']:.2f} / {val[-1]['ssim']:.3f}" if val else "–")
        rows.append(cells)
    return md_table(["steps", *terms, "val PSNR / SSIM"], rows)


def crop_strip(run: Path, out: Path) -> list[int]:
    """The first validation crop's input, its output at every saved step, and its target, side
    by side (each saved grid's top row is input | output | target); returns the steps."""
    from PIL import Image

    grids = sorted((run / "samples").glob("step_*.png"))
    if not grids:
        raise SystemExit(f"error: no sample grids in {run / 'samples'}")
    rows = [np.asarray(Image.open(g).convert("RGB")) for g in grids]
    side = rows[0].shape[1] // 3
    tiles = [rows[0][:side, :side]] + [r[:side, side : 2 * side] for r in rows] + [rows[0][:side, 2 * side :]]
    Image.fromarray(np.concatenate(tiles, axis=1)).save(out)
    return [int(g.stem.split("_")[1]) for g in grids]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("run", type=Path, help="a training run's folder (--out of sparsepix train)")
    p.add_argument("--every", type=int, default=100, help="steps per table row")
    p.add_argument("--strip", type=Path, help="write the crop strip here (PNG)")
    args = p.parse_args()
    print(loss_table(args.run, args.every))
    if args.strip:
        steps = ", ".join(map(str, crop_strip(args.run, args.strip)))
        print(f"\n{args.strip}: input, then the output at steps {steps}, then the target")


if __name__ == "__main__":
    main()
