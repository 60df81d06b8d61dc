"""Aggregation: per-image measurements -> CompressAI-format curves, CSV and analysis tables."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from sparsepix.benchmarks.bdrate import bd_psnr, bd_rate, common_range, quality_at

# CompressAI's keys, plus ours.
KEYS = {
    "psnr": "psnr-rgb",
    "ms_ssim": "ms-ssim-rgb",
    "haarpsi": "haarpsi-rgb",
    "bpp": "bpp",
    "encoding_time": "encoding_time",
    "decoding_time": "decoding_time",
}
FIXED_RATES = (0.05, 0.1, 0.15, 0.25, 0.5)


def curves(results: list[dict], descriptions: dict[str, str], versions: dict[str, str]) -> dict[str, dict]:
    """Mean over images per setting (CompressAI's convention), one dict per curve."""
    by_curve: dict[str, dict[float, list[dict]]] = {}
    for r in results:
        by_curve.setdefault(r["curve"], {}).setdefault(r["setting"], []).append(r)
    out = {}
    for name, settings in sorted(by_curve.items()):
        points = sorted(settings.items())
        res = {KEYS[k]: [float(np.mean([r[k] for r in rows])) for _, rows in points] for k in KEYS}
        res["setting"] = [s for s, _ in points]
        res["images"] = [len(rows) for _, rows in points]
        out[name] = {
            "name": name,
            "description": descriptions.get(name, name),
            "version": versions.get(name, ""),
            "results": res,
        }
    return out


def write(curve_map: dict[str, dict], results: list[dict], out: Path) -> None:
    (out / "curves").mkdir(parents=True, exist_ok=True)
    for name, curve in curve_map.items():
        (out / "curves" / f"{name}.json").write_text(json.dumps(curve, indent=2) + "\n")
    (out / "per_image.json").write_text(
        json.dumps(sorted(results, key=lambda r: (r["curve"], r["setting"], r["image"])), indent=1)
    )
    with open(out / "summary.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["curve", "setting", "images"] + list(KEYS.values()))
        for name, curve in curve_map.items():
            res = curve["results"]
            for i, setting in enumerate(res["setting"]):
                writer.writerow(
                    [name, setting, res["images"][i]] + [f"{res[k][i]:.6g}" for k in KEYS.values()]
                )


def msssim_db(values: list[float]) -> list[float]:
    return [-10 * np.log10(max(1 - v, 1e-10)) for v in values]


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def equal_rate_table(curve_map: dict[str, dict], rates=FIXED_RATES) -> list[list[str]]:
    """Rows: curve, then 'PSNR / MS-SSIM' at each fixed rate ('–' outside the curve), lowest bpp."""
    rows = []
    for name, curve in curve_map.items():
        res = curve["results"]
        cells = [name]
        for rate in rates:
            p = quality_at(res["bpp"], res["psnr-rgb"], rate)
            m = quality_at(res["bpp"], res["ms-ssim-rgb"], rate)
            cells.append("–" if p is None else f"{p:.2f} / {m:.3f}")
        cells.append(f"{min(res['bpp']):.3f}")
        rows.append(cells)
    return rows


def bd_table(curve_map: dict[str, dict], anchor: str) -> list[list[str]]:
    """Against the anchor: BD-rate in PSNR with the PSNR range it averages over, BD-rate in
    MS-SSIM (dB), and BD-PSNR with the rate range it averages over."""
    if anchor not in curve_map:
        return []
    a = curve_map[anchor]["results"]
    rows = []
    for name, curve in curve_map.items():
        if name == anchor:
            continue
        r = curve["results"]
        fmt = lambda v, unit: "no overlap" if v is None else f"{v:+.1f}{unit}"  # noqa: E731
        span = lambda s, f: "–" if s is None else f"{s[0]:{f}}–{s[1]:{f}}"  # noqa: E731
        rows.append(
            [
                name,
                fmt(bd_rate(a["bpp"], a["psnr-rgb"], r["bpp"], r["psnr-rgb"]), " %"),
                span(common_range(a["psnr-rgb"], r["psnr-rgb"]), ".1f"),
                fmt(
                    bd_rate(a["bpp"], msssim_db(a["ms-ssim-rgb"]), r["bpp"], msssim_db(r["ms-ssim-rgb"])),
                    " %",
                ),
                fmt(bd_psnr(a["bpp"], a["psnr-rgb"], r["bpp"], r["psnr-rgb"]), " dB"),
                span(common_range(a["bpp"], r["bpp"]), ".3f"),
            ]
        )
    return rows


def effort_table(curve_map: dict[str, dict], anchor: str, efforts: dict[int, str]) -> list[list[str]]:
    """Rows for the encoder's effort levels whose curves were measured: level, curve, PSNR at
    0.05 and 0.10 bpp, BD-rate against the anchor, mean encode and decode seconds per image."""
    rows = []
    for level, name in sorted(efforts.items()):
        if name not in curve_map:
            continue
        r = curve_map[name]["results"]
        at = [quality_at(r["bpp"], r["psnr-rgb"], rate) for rate in (0.05, 0.1)]
        bd = None
        if anchor in curve_map:
            a = curve_map[anchor]["results"]
            bd = bd_rate(a["bpp"], a["psnr-rgb"], r["bpp"], r["psnr-rgb"])
        rows.append(
            [str(level), name]
            + ["–" if q is None else f"{q:.2f}" for q in at]
            + ["–" if bd is None else f"{bd:+.1f} %"]
            + [f"{np.mean(r['encoding_time']):.2f}", f"{np.mean(r['decoding_time']):.2f}"]
        )
    return rows


def metric_table(curve_map: dict[str, dict], key: str, rates=FIXED_RATES) -> list[list[str]]:
    """Rows: curve, then one metric at each fixed rate ('–' outside the curve)."""
    rows = []
    for name, curve in curve_map.items():
        res = curve["results"]
        values = [quality_at(res["bpp"], res[key], rate) if key in res else None for rate in rates]
        rows.append([name] + ["–" if v is None else f"{v:.3f}" for v in values])
    return rows


def speed_table(curve_map: dict[str, dict], anchor: str) -> list[list[str]]:
    """Mean encode and decode seconds per image over a curve's settings, and as multiples of the
    anchor's (same run, same workers, one thread each)."""

    def mean(curve: dict, key: str) -> float:
        return float(np.mean(curve["results"][key]))

    def ratio(value: float, key: str) -> str:
        if anchor not in curve_map:
            return "–"
        r = value / mean(curve_map[anchor], key)
        return f"{r:.1f}x" if r < 10 else f"{r:.0f}x"

    rows = []
    for name, curve in curve_map.items():
        enc, dec = mean(curve, "encoding_time"), mean(curve, "decoding_time")
        rows.append(
            [name, f"{enc:.3f}", ratio(enc, "encoding_time"), f"{dec:.3f}", ratio(dec, "decoding_time")]
        )
    return rows


def bits_per_sample_table(curve_map: dict[str, dict]) -> tuple[list[str], list[list[str]]]:
    """sparsepix curves: bits per kept sample (whole file, header included) at each density."""
    sparse = {n: c["results"] for n, c in curve_map.items() if n.startswith("sparsepix")}
    densities = sorted({d for r in sparse.values() for d in r["setting"]})
    rows = []
    for name, r in sparse.items():
        per = {d: bpp / d for d, bpp in zip(r["setting"], r["bpp"])}
        rows.append([name] + [f"{per[d]:.2f}" if d in per else "–" for d in densities])
    return [f"{100 * d:g} %" for d in densities], rows


def load_reference(folder: Path) -> dict[str, dict]:
    """CompressAI-format JSON curves from a folder (e.g. its published Kodak results), labelled
    by their name, or by their file's stem where names repeat (mbt2018 for MSE and MS-SSIM)."""
    curves = {}
    for path in sorted(Path(folder).glob("*.json")):
        try:
            data = json.loads(path.read_text())
            res = data["results"]
            if res.get("bpp") and res.get("psnr-rgb"):
                curves[path] = data
        except (ValueError, KeyError, TypeError):
            continue
    names = [d.get("name", p.stem) for p, d in curves.items()]
    return {
        f"ref: {name if names.count(name) == 1 else path.stem}": data
        for name, (path, data) in zip(names, curves.items())
    }
