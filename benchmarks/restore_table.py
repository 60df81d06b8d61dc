"""Restoration against the classical inpainters, from the same corrupted inputs.

    sparsepix bench restore --faces ../shared/datasets/celeba_faces_128 \\
        --kodak ../shared/datasets/kodak --models telea,ns,linear,natural,faces

prints Markdown tables of mean PSNR / SSIM / MS-SSIM:

- the X-GANs paper's three tasks on the held-out faces (the last `--last` crops by name, 128 px
  where the paper used 256 px): white block, colour block (a patch of the next held-out face,
  16 px to half the side) and colour noise over 90 % of the pixels. Classical inpainters and
  learned hole fillers are given the true mask of corrupted pixels, which a user of the noise and
  block tasks does not have; other learned models restore the hidden tasks only if trained for them;
- free-form masks (`train.corruptions.free_form_holes`) on Kodak at 10, 25 and 40 % coverage.

Every corruption is seeded by the image's position, so each model sees identical inputs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from skimage.metrics import structural_similarity

from sparsepix import catalog
from sparsepix.benchmarks.recon_table import list_images
from sparsepix.codec.imageio import as_rgb, load_image
from sparsepix.errors import SparsepixError
from sparsepix.metrics import ms_ssim, psnr
from sparsepix.restoration import restore
from sparsepix.tasks import BLOCK_HOLES, HIDDEN, INPAINT
from sparsepix.train import corruptions

COVERAGES = (0.10, 0.25, 0.40)
FACE_TASKS = ("white-block", "color-block", "color-noise")
HOLE_FILLERS = {INPAINT, BLOCK_HOLES}  # learned models' tasks that are told the holes


def corrupt(task: str, image: np.ndarray, donor: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(corrupted image, true holes) for a paper task or `free-NN` (free-form at NN %)."""
    rng = np.random.default_rng(seed)
    if task.startswith("free-"):
        holes = corruptions.free_form_holes(*image.shape[:2], rng, int(task[5:]) / 100)
        return image * ~holes[..., None], holes
    if task == "white-block":
        canvas, known = corruptions.white_block(image, rng)
        return canvas, ~known
    if task == "color-block":
        canvas, _ = corruptions.color_block(image, rng, donor)
    else:
        canvas, _ = corruptions.color_noise(image, rng, share=(0.9, 0.9))
    return canvas, (canvas != image).any(-1)


def told_holes(rec, task: str) -> bool:
    """Whether a model is handed the true holes: classical inpainters and learned hole fillers
    always, other learned models where the task shows its holes."""
    return not rec.learned or rec.task in HOLE_FILLERS or task not in HIDDEN


def fits(rec, task: str) -> bool:
    """Classical inpainters and hole fillers take every task (given the true holes); another
    learned model a hidden task only if trained for it, and a model of a hidden task no other
    (it never saw holes)."""
    if rec.learned and rec.task in HOLE_FILLERS:
        return True
    if rec.learned and (task in HIDDEN or rec.task in HIDDEN):
        return rec.task == task
    return True


def scores(images: list[np.ndarray], task: str, models: list[str]) -> dict[str, tuple[float, float, float]]:
    """Mean (PSNR, SSIM, MS-SSIM) per model fit for the task."""
    recs = {name: catalog.get(name) for name in models}
    out: dict[str, list[tuple[float, float, float]]] = {m: [] for m, rec in recs.items() if fits(rec, task)}
    for i, image in enumerate(images):
        canvas, holes = corrupt(task, image, images[(i + 1) % len(images)], seed=i)
        for name in out:
            # A learned model of a hidden task finds the pixels itself; the rest get the holes.
            kw = {"mask": holes} if told_holes(recs[name], task) else {"task": task}
            restored = restore(canvas, model=name, **kw)
            ssim = structural_similarity(image, restored, channel_axis=2, data_range=255)
            out[name].append((psnr(image, restored), ssim, ms_ssim(image, restored)))
    return {name: tuple(np.mean(v, axis=0)) for name, v in out.items()}


def table(title: str, rows: dict[str, dict[str, tuple[float, float, float]]], models: list[str]) -> str:
    tasks = list(rows)
    lines = [f"**{title}** (PSNR dB / SSIM / MS-SSIM)", "", "| model | " + " | ".join(tasks) + " |"]
    lines.append("|" + " --- |" * (len(tasks) + 1))
    for m in models:
        cells = [("%.2f / %.3f / %.3f" % rows[t][m]) if m in rows[t] else "–" for t in tasks]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--faces", type=Path, help="face crops; the last --last by name are scored")
    p.add_argument("--last", type=int, default=1000)
    p.add_argument("--kodak", type=Path, help="photos for free-form masks")
    p.add_argument("--models", default="telea,ns,linear")
    p.add_argument("--tasks", default=",".join(FACE_TASKS), help="face tasks to score, comma-separated")
    args = p.parse_args()
    models, tasks = args.models.split(","), args.tasks.split(",")
    if not set(tasks) <= set(FACE_TASKS):
        p.error(f"--tasks: choose from {', '.join(FACE_TASKS)}")
    try:
        for m in models:
            catalog.get(m)
        if args.faces:
            faces = [as_rgb(load_image(q)) for q in list_images(args.faces)[-args.last :]]
            title = f"{len(faces)} held-out faces, 128 px"
            print(table(title, {t: scores(faces, t, models) for t in tasks}, models), "\n", flush=True)
        if args.kodak:
            photos = [as_rgb(load_image(q)) for q in list_images(args.kodak)]
            free = tuple(f"free-{round(100 * c)}" for c in COVERAGES)
            title = f"{len(photos)} photos, free-form masks (coverage in %)"
            print(table(title, {t: scores(photos, t, models) for t in free}, models), flush=True)
    except SparsepixError as exc:
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
