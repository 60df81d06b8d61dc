"""Train a colour-noise detector and ship it with a sparse-sample generator as one model.

    sparsepix noisedetect ../shared/datasets/celeba_faces_128 \\
        --generator faces --name faces-color-noise --out models/weights

The model restores the X-GANs paper's colour noise (85-95 % of pixels replaced by random colours):
the detector (models/noisedetector.py) finds the true pixels, and the generator of `--generator`
(a shipped sparse-sample model, or a card exported after `sparsepix train --detector` fine-tuned
one on this detector's picks, shipped with `--detector-from`) rebuilds the image from them. Its
weights are copied into the new model's file, so the model does not change when that one does.
The last `--val-count` images by name are held out; the card records the detector's precision
and recall on them.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from sparsepix.codec.files import write_bytes
from sparsepix.codec.imageio import as_rgb, load_image
from sparsepix.errors import SparsepixError
from sparsepix.models import graphs, registry
from sparsepix.models.config import DetectorConfig
from sparsepix.models.noisedetector import NoiseDetector, true_pixels
from sparsepix.tasks import SAMPLE_TASKS
from sparsepix.train.corruptions import color_noise
from sparsepix.train.data import list_images, random_crop, split


def noisy_batch(
    paths: list[Path], n: int, crop: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """n noisy crops in [0, 1] and their maps of true pixels."""
    xs, ys = [], []
    for _ in range(n):
        image = random_crop(as_rgb(load_image(paths[int(rng.integers(len(paths)))])), crop, rng)
        noisy, _ = color_noise(np.ascontiguousarray(image), rng)
        xs.append(noisy)
        ys.append((noisy == image).all(-1))
    x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).float() / 255
    return x, torch.from_numpy(np.stack(ys)).float()[:, None]


def train(
    paths: list[Path], config: DetectorConfig, steps: int, batch: int, crop: int, lr: float, seed: int
) -> NoiseDetector:
    """All passes at once, each with its own cross-entropy; one-cycle learning rate."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = NoiseDetector(config)
    opt = torch.optim.Adam(net.parameters(), lr / 2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.1)
    start, seen = time.time(), []
    for step in range(1, steps + 1):
        x, y = noisy_batch(paths, batch, crop, rng)
        loss = sum(F.binary_cross_entropy_with_logits(logit, y) for logit in net(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        seen.append(loss.item())
        if step % 100 == 0 or step == steps:
            print(f"step {step}/{steps} loss {np.mean(seen):.4f} ({time.time() - start:.0f} s)", flush=True)
            seen = []
    return net.eval()


@torch.no_grad()
def precision_recall(net: NoiseDetector, paths: list[Path], seed: int) -> tuple[float, float]:
    """Pooled over whole held-out images at 90 % noise, at the config's threshold."""
    kept = right = true = 0
    for i, path in enumerate(paths):
        image = as_rgb(load_image(path))
        noisy, _ = color_noise(image, np.random.default_rng(seed + i), share=(0.9, 0.9))
        found, real = true_pixels(net, noisy, torch.device("cpu")), (noisy == image).all(-1)
        kept, right, true = kept + found.sum(), right + (found & real).sum(), true + real.sum()
    return float(right / max(kept, 1)), float(right / max(true, 1))


def ship(
    net: NoiseDetector, base: registry.ShippedModel, name: str, out: Path, version: int, card_extra: dict
) -> Path:
    """Write NAME.pt (the generator's fp16 weights and the detector's) and NAME.json."""
    base_card = json.loads((base.path.parent / f"{base.name}.json").read_text())
    payload = torch.load(io.BytesIO(base.path.read_bytes()), map_location="cpu", weights_only=True)
    payload.update(name=name, version=version)
    payload["detector_state_dict"] = {
        k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    blob = buf.getvalue()
    out.mkdir(parents=True, exist_ok=True)
    write_bytes(out / f"{name}.pt", blob)
    card = {
        "name": name,
        "version": version,
        "description": f"colour-noise detector + {base.name} v{base.version}: finds the true pixels, then "
        "rebuilds the image from them",
        "file": f"{name}.pt",
        "sha256": hashlib.sha256(blob).hexdigest(),
        "bytes": len(blob),
        "generator": base_card["generator"],
        "ensemble": base.ensemble,
        "detector": net.config.to_dict(),
        # Where the generator came from, and how it was trained.
        "decoder": {"model": str(base.ref), "sha256": base.sha256}
        | {k: base_card[k] for k in ("steps", "train_config", "validation") if k in base_card},
        **card_extra,
    }
    write_bytes(out / f"{name}.json", (json.dumps(card, indent=2) + "\n").encode())
    graphs.write_graph(out, base.config)
    return out / f"{name}.json"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("data", nargs="+", help="image folders (the last --val-count by name held out)")
    p.add_argument(
        "--generator",
        default="faces",
        help="the sparse-sample model to pair with: a shipped one's name, or a card",
    )
    p.add_argument("--name", default="faces-color-noise")
    p.add_argument("--out", type=Path, default=Path("runs/noisedetect"))
    p.add_argument("--version", type=int, default=1)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--crop", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3, help="peak of the one-cycle schedule")
    p.add_argument("--channels", type=int, default=DetectorConfig.channels)
    p.add_argument("--passes", type=int, default=DetectorConfig.passes)
    p.add_argument(
        "--threshold",
        type=float,
        help=f"probability above which a pixel is kept (default {DetectorConfig.threshold}, or the card's "
        "with --detector-from)",
    )
    p.add_argument("--val-count", type=int, default=1000)
    p.add_argument("--val-score", type=int, default=200, help="held-out images scored for the card")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--detector-from",
        type=Path,
        help="a card whose detector to ship instead of training one (with a fine-tuned --generator)",
    )
    args = p.parse_args()
    try:
        threshold = DetectorConfig.threshold if args.threshold is None else args.threshold
        config = DetectorConfig(channels=args.channels, threshold=threshold, passes=args.passes)
    except ValueError:
        p.error("--channels must be at least 1, --threshold between 0 and 1, --passes 2 or 3")
    try:
        gen = args.generator
        base = registry.read_card(Path(gen)) if gen.endswith(".json") else registry.shipped().get(gen)
        if base is None or not (base.task in SAMPLE_TASKS or base.task == "color-noise"):
            raise SystemExit(f"error: {gen!r} is no sparse-sample or colour-noise model")
        train_paths, val_paths = split(list_images(tuple(args.data)), args.val_count)
        if args.detector_from:
            net = registry.load_detector(registry.read_card(args.detector_from), torch.device("cpu"))
            if args.threshold is not None:
                net.config = replace(net.config, threshold=threshold)
        else:
            net = train(train_paths, config, args.steps, args.batch, args.crop, args.lr, args.seed)
        precision, recall = precision_recall(net, val_paths[: args.val_score], args.seed)
        print(f"held-out precision {precision:.4f} recall {recall:.4f}")
        # With --detector-from the training options did not apply: the card records none of them.
        training = ("steps", "batch", "crop", "lr", "channels", "passes")
        unused = ("out", *(training if args.detector_from else ()))
        options = {k: v for k, v in vars(args).items() if k not in unused}
        extra = {
            "train_config": {
                "task": "color-noise",
                **{k: str(v) if isinstance(v, Path) else v for k, v in options.items()},
            },
            "validation": {
                "images": len(val_paths[: args.val_score]),
                "noise": 0.9,
                "precision": round(precision, 4),
                "recall": round(recall, 4),
            },
        }
        print(ship(net, base, args.name, args.out, args.version, extra))
    except SparsepixError as exc:
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
