"""The report: Markdown and a self-contained HTML page with tables, plots and crops."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import numpy as np
from PIL import Image

from sparsepix.benchmarks import compare
from sparsepix.benchmarks.codecs import CurveSpec, make_codec
from sparsepix.benchmarks.results import (
    FIXED_RATES,
    bd_table,
    bits_per_sample_table,
    effort_table,
    equal_rate_table,
    md_table,
    metric_table,
    speed_table,
)
from sparsepix.codec.imageio import as_rgb, load_image
from sparsepix.effort import DEFAULT_EFFORT
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
    `target_bpp`, saved as crops/NAME_RATEbpp.png; cut from the comparison page's decode where
    it has one."""
    image = as_rgb(load_image(image_path))
    h, w = image.shape[:2]
    y, x = max(0, (h - box) // 2), max(0, (w - box) // 2)
    sl = (slice(y, y + box), slice(x, x + box))
    (out / "crops").mkdir(parents=True, exist_ok=True)
    original = out / "crops" / "original.png"
    Image.fromarray(image[sl]).save(original)
    shown = [("original", original, 24.0, float("inf"))]
    for name, spec in specs.items():
        best = compare.nearest(results, name, image_path.name, target_bpp)
        if best is None:
            continue
        saved = compare.decode_path(out, image_path.name, name, target_bpp)
        if saved.exists():
            decoded = np.asarray(Image.open(saved))
        else:
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
    efforts: dict[int, str] | None = None,
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
        f"[{compare.PAGE}]({compare.PAGE}), written beside this report by its command, shows every "
        "curve's decode side by side or with a slider.",
        "",
        "## Quality at equal rate (PSNR dB / MS-SSIM)",
        "",
        md_table(["curve", *rates, "lowest mean bpp"], equal_rate_table(curve_map)),
        "",
        notes,
        "",
        "## Perceptual quality at equal rate (HaarPSI)",
        "",
        "HaarPSI (Reisenhofer et al. 2018): 1 = identical. In its authors' tests it followed human "
        "quality ratings more closely than PSNR and SSIM.",
        "",
        md_table(["curve", *rates], metric_table(curve_map, "haarpsi-rgb")),
        "",
        f"## Bjøntegaard deltas against `{anchor}`",
        "",
        "Negative BD-rate: fewer bits for the same quality; positive BD-PSNR: more quality at the "
        "same rate. BD-rate averages over the PSNR range both curves reach, BD-PSNR over the rate "
        "range both reach. The ranges differ, so the two can disagree in sign: a curve can save "
        "bits at the qualities both reach and still trail at the rates both reach.",
        "",
        md_table(
            ["curve", "BD-rate (PSNR)", "over PSNR (dB)", "BD-rate (MS-SSIM dB)", "BD-PSNR", "over bpp"],
            bd_table(curve_map, anchor),
        ),
        "",
        "## Bits per kept sample (sparsepix)",
        "",
        "Whole files, headers included, divided by the number of kept pixels.",
        "",
        md_table(["curve", *density_header], density_rows),
        "",
        *_effort_section(curve_map, anchor, efforts or {}),
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


def _effort_section(curve_map: dict[str, dict], anchor: str, efforts: dict[int, str]) -> list[str]:
    rows = effort_table(curve_map, anchor, efforts)
    if not rows:
        return []
    return [
        "## Effort levels",
        "",
        f"`sparsepix encode --effort N` (default {DEFAULT_EFFORT}) with every other setting at its default; "
        "seconds per image are means over the curve's settings, as in the speed table.",
        "",
        md_table(
            ["effort", "curve", "PSNR @0.05 bpp", "@0.1 bpp", f"BD-rate vs {anchor}", "encode s", "decode s"],
            rows,
        ),
        "",
    ]


def crop_grid(crop_rows: list[tuple[str, Path, float, float]], most: int = 4) -> str:
    """The crops as a table at most `most` wide, rows as even as they go; each cell the crop
    over its caption. The HTML page shows it as a gallery (`_gallery`)."""
    cells = [
        f"![{n}](crops/{p.name}) {n}" + ("" if n == "original" else f", {b:.3f} bpp, {q:.2f} dB")
        for n, p, b, q in crop_rows
    ]
    rows_needed = -(-len(cells) // most)
    per_row = -(-len(cells) // rows_needed)
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
            if all(c.startswith("![") or not c for r in cells[1:] for c in r):
                body.append(_gallery([c for r in cells[1:] for c in r if c], out))
                table.clear()
                return
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
            body.append(f"<h2>{_inline(line[3:], out)}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{_inline(line[2:], out)}</h1>")
        elif line.strip():
            body.append(f"<p>{_inline(line, out)}</p>")
    flush_table()
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th,td:first-child{text-align:left}"
        "img{max-width:100%}code{white-space:pre-wrap;overflow-wrap:anywhere}"
        ".gallery{display:flex;flex-wrap:wrap;gap:12px}.gallery figure{margin:0;width:min-content}"
        ".gallery img{max-width:none}.gallery figcaption{font-size:85%}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )


def _gallery(cells: list[str], out: Path) -> str:
    """Crop cells ("![name](path) caption") as figures at their own size, side by side."""
    figures = []
    for cell in cells:
        m = re.fullmatch(r"(!\[[^\]]*\]\([^)]*\))\s*(.*)", cell)
        image, caption = _inline(m.group(1), out), _inline(m.group(2), out)
        figures.append(f"<figure>{image}<figcaption>{caption}</figcaption></figure>")
    return f"<div class='gallery'>{''.join(figures)}</div>"


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
