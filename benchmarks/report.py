"""The report: Markdown and a self-contained HTML page with tables, plots and crops."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import numpy as np
from PIL import Image

from sparsepix.benchmarks.codecs import CurveSpec, make_codec
from sparsepix.benchmarks.results import (
    FIXED_RATES,
    bd_table,
    bits_per_sample_table,
    detail_table,
    equal_rate_table,
    md_table,
    speed_table,
)
from sparsepix.codec.imageio import as_rgb, load_image
from sparsepix.metrics import psnr


def crops(
    specs: dict[str, CurveSpec],
    results: list[dict],
    image_path: Path,
    target_bpp: float,
    out: Path,
    box: int = 192,
) -> list[tuple[str, Path, float, float]]:
    """The same crop of one image from every curve in `specs`, each at the setting nearest
    `target_bpp`, saved as crops/NAME_RATEbpp.png."""
    image = as_rgb(load_image(image_path))
    h, w = image.shape[:2]
    y, x = max(0, (h - box) // 2), max(0, (w - box) // 2)
    sl = (slice(y, y + box), slice(x, x + box))
    (out / "crops").mkdir(parents=True, exist_ok=True)
    original = out / "crops" / "original.png"
    Image.fromarray(image[sl]).save(original)
    shown = [("original", original, 24.0, float("inf"))]
    for name, spec in specs.items():
        mine = [r for r in results if r["curve"] == name and r["image"] == image_path.name]
        if not mine:
            continue
        best = min(mine, key=lambda r: abs(np.log(r["bpp"] / target_bpp)))
        codec = make_codec(spec)
        decoded = codec.decode(codec.encode(image, best["setting"]))
        path = out / "crops" / f"{name}_{target_bpp:g}bpp.png"
        Image.fromarray(decoded[sl]).save(path)
        shown.append((name, path, best["bpp"], psnr(image, decoded)))
    return shown


def write_report(
    out: Path,
    title: str,
    command: str,
    curve_map: dict[str, dict],
    anchor: str,
    plots: list[Path],
    crop_sets: dict[float, list[tuple[str, Path, float, float]]],
    notes: str,
    versions: dict[str, str],
) -> Path:
    rates = [f"@{r:g} bpp" for r in FIXED_RATES]
    density_header, density_rows = bits_per_sample_table(curve_map)
    parts = [
        f"# {title}",
        "",
        f"Produced by `{command}`.",
        "",
        "Means over the data set's images per setting (CompressAI's convention); bpp counts every "
        "byte of every file, headers included. Quality at a fixed rate is interpolated (PCHIP in "
        "log-rate) on each mean curve and left blank outside it.",
        "",
        notes,
        "",
        "## Quality at equal rate (PSNR dB / MS-SSIM)",
        "",
        md_table(["curve", *rates, "lowest mean bpp"], equal_rate_table(curve_map)),
        "",
        f"## Bjøntegaard deltas against `{anchor}`",
        "",
        "Negative BD-rate: fewer bits for the same quality, over the range both curves cover.",
        "",
        md_table(["curve", "BD-rate (PSNR)", "BD-rate (MS-SSIM dB)", "BD-PSNR"], bd_table(curve_map, anchor)),
        "",
        "## Detail at equal rate (HaarPSI / gradient W1 (gradient ratio))",
        "",
        "HaarPSI: 1 = identical. Gradient W1: the distance between the original's and the "
        "decode's distributions of luma gradient magnitude, in grey levels, 0 = the original's "
        "amount of edge and texture at every strength (sparsepix.metrics.gradient_w1); gradient "
        "ratio: mean gradient over the original's, below 1 blurred, above 1 noisier.",
        "",
        md_table(["curve", *rates], detail_table(curve_map)),
        "",
        "## Bits per kept sample (sparsepix)",
        "",
        "Whole files, headers included, divided by the number of kept pixels.",
        "",
        md_table(["curve", *density_header], density_rows),
        "",
        "## Speed",
        "",
        f"Seconds per image, mean over each curve's settings, and as multiples of `{anchor}` "
        "measured in the same run (worker processes with one thread each).",
        "",
        md_table(["curve", "encode s", "vs anchor", "decode s", "vs anchor"], speed_table(curve_map, anchor)),
        "",
        "## Curves",
        "",
    ]
    parts += [f"![{p.stem}]({p.name})" for p in plots]
    for rate, crop_rows in crop_sets.items():
        parts += [
            "",
            f"## The same crop near {rate:g} bpp",
            "",
            "Each curve at its setting nearest the target rate; bpp and PSNR are the whole image's.",
            "",
            crop_grid(crop_rows),
        ]
    parts += [
        "",
        "## Settings and versions",
        "",
        "Each classical codec runs as its own command-line encoder does by default, or at its "
        "strongest setting where that differs (docs/DECISIONS.md).",
        "",
        md_table(
            ["curve", "settings", "library"],
            [[k, curve_map[k].get("description", ""), v] for k, v in versions.items()],
        ),
        "",
    ]
    md = "\n".join(parts)
    (out / "report.md").write_text(md)
    (out / "report.html").write_text(_html(md, out, title))
    return out / "report.md"


def crop_grid(crop_rows: list[tuple[str, Path, float, float]], per_row: int = 4) -> str:
    """The crops as a table `per_row` wide, each cell the crop over its caption."""
    cells = [
        f"![{n}](crops/{p.name}) {n}" + ("" if n == "original" else f", {b:.3f} bpp, {q:.2f} dB")
        for n, p, b, q in crop_rows
    ]
    cells += [""] * (-len(cells) % per_row)
    rows = [cells[i : i + per_row] for i in range(0, len(cells), per_row)]
    return md_table([""] * per_row, rows)


def _html(markdown: str, out: Path, title: str) -> str:
    """A small Markdown subset to HTML, images inlined as data URIs (one file to share)."""
    body, table = [], []

    def flush_table() -> None:
        if table:
            rows = [r for r in table if not re.fullmatch(r"\|( --- \|)+", r)]
            cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
            head = "".join(f"<th>{_inline(c, out)}</th>" for c in cells[0])
            rest = "".join(
                "<tr>" + "".join(f"<td>{_inline(c, out)}</td>" for c in r) + "</tr>" for r in cells[1:]
            )
            body.append(f"<table><tr>{head}</tr>{rest}</table>")
            table.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush_table()
        if line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.strip():
            body.append(f"<p>{_inline(line, out)}</p>")
    flush_table()
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}img{max-width:100%}"
        "td img{display:block;margin:0 auto 4px}td:has(img){text-align:center;vertical-align:top}"
        "code{white-space:pre-wrap;overflow-wrap:anywhere}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )


def _inline(text: str, out: Path) -> str:
    def image(m: re.Match) -> str:
        path = out / m.group(2)
        if not path.exists():
            return html.escape(m.group(0))
        mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
        data = base64.b64encode(path.read_bytes()).decode()
        return f"<img alt='{html.escape(m.group(1))}' src='data:{mime};base64,{data}'>"

    pieces = re.split(r"(!\[[^\]]*\]\([^)]*\))", text)
    rendered = []
    for piece in pieces:
        m = re.fullmatch(r"!\[([^\]]*)\]\(([^)]*)\)", piece)
        if m:
            rendered.append(image(m))
        else:
            escaped = re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(piece))
            rendered.append(re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped))
    return "".join(rendered)
