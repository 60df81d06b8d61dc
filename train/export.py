"""Export a trained generator for shipping: fp16 weights plus a JSON model card."""

from __future__ import annotations

import hashlib
import io
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import torch

from sparsepix.codec.ensemble import check_ensemble
from sparsepix.codec.files import write_bytes
from sparsepix.models import graphs
from sparsepix.models.config import GeneratorConfig
from sparsepix.train import checkpoint


def export(
    checkpoint_path: str | Path,
    name: str,
    out_dir: str | Path,
    version: int = 1,
    use_ema: bool = True,
    description: str = "",
    ensemble: int | None = None,
) -> tuple[Path, Path]:
    """Write `NAME.pt` (fp16 generator state dict + its config) and `NAME.json` (model card data),
    and the lean runtime's graph of the network where missing (models/graphs.py).

    The weights file loads with `torch.load(..., weights_only=True)`. `ensemble`: how many image
    symmetries decoders average by default (the card's `ensemble`; absent means 1).
    """
    if ensemble is not None:
        check_ensemble(ensemble)
    state = checkpoint.load_run(checkpoint_path)
    weights = state["G_ema"] if use_ema and state.get("G_ema") is not None else state["G"]
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in weights.items()}
    payload = {
        "format": "sparsepix-generator-1",
        "name": name,
        "version": version,
        "config": state["gen_config"],
        "state_dict": half,
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    blob = buf.getvalue()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights_path, card_path = out_dir / f"{name}.pt", out_dir / f"{name}.json"
    write_bytes(weights_path, blob)
    cfg = state["config"]
    card = {
        "name": name,
        "version": version,
        "description": description or f"X-GAN generator {name} ({state['config'].get('preset', '')})",
        "file": weights_path.name,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "bytes": len(blob),
        "generator": state["gen_config"],
        "ema": bool(use_ema and state.get("G_ema") is not None),
        "steps": state["step"],
        "train_config": cfg,
        # The run validates its EMA when it keeps one: say so when the raw weights ship.
        "validation": {**state.get("val", {}), "of": "ema" if state.get("G_ema") is not None else "raw"},
        "exported": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "exported_with": {"torch": torch.__version__, "python": platform.python_version()},
    }
    if ensemble is not None:
        card["ensemble"] = ensemble
    write_bytes(card_path, (json.dumps(card, indent=2) + "\n").encode())
    graphs.write_graph(out_dir, GeneratorConfig.from_dict(state["gen_config"]))
    return weights_path, card_path
