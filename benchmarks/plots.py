"""Rate-distortion plots (PNG and SVG) with matplotlib, reference curves thin, grey and
labelled where they end."""

from __future__ import annotations

import zlib
from pathlib import Path

from sparsepix.benchmarks.results import msssim_db

PANELS = (
    ("psnr-rgb", "PSNR (dB)", lambda v: v, "rd_psnr"),
    ("ms-ssim-rgb", "MS-SSIM (dB, -10 log10(1 - MS-SSIM))", msssim_db, "rd_msssim"),
    ("haarpsi-rgb", "HaarPSI", lambda v: v, "rd_haarpsi"),
)


# Measured curves: tab10's hues (grey left to the references), then dark ones. The classical
# codecs keep theirs; a sparsepix curve gets one from its name, so it keeps it from report to report.
PALETTE = (
    *("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22"),
    *("#17becf", "#000000", "#00008b", "#8b008b", "#b8860b", "#006400", "#8b0000", "#4682b4"),
)
CLASSICAL_COLOURS = {"jpeg": 8, "jpeg-optimized": 3, "webp": 2, "avif": 4, "jpeg2000": 5}
REFERENCE_GREY = "#999999"


def colours(names: list[str]) -> dict[str, str]:
    """A colour per curve: fixed for the classical codecs, from a hash of the name for the rest
    (the next free one where two names meet), none shared while the palette lasts."""
    taken = {n: CLASSICAL_COLOURS[n] for n in names if n in CLASSICAL_COLOURS}
    used = set(taken.values())
    for name in sorted(n for n in names if n not in taken):
        i = zlib.crc32(name.encode()) % len(PALETTE)
        for step in range(len(PALETTE)):
            if (i + step) % len(PALETTE) not in used:
                i = (i + step) % len(PALETTE)
                break
        taken[name] = i
        used.add(i)
    return {n: PALETTE[i] for n, i in taken.items()}


def _name_ends(ax, ends: list[tuple[list[tuple[float, float]], str]]) -> None:
    """Small grey names where the reference curves leave the plot, pushed apart so none overlap."""
    lo, hi = ax.get_ylim()
    right = ax.get_xlim()[1]
    gap, last = 0.028 * (hi - lo), {}
    visible = [([p for p in points if lo <= p[1] <= hi], name) for points, name in ends]
    for (x, y), name in sorted(((v[-1], n) for v, n in visible if v), key=lambda e: e[0][1]):
        # Curves that run to the right edge are named in one column inside it; the others
        # where they end, stacked with those that end near them.
        at_edge = x > 0.75 * right
        column = -1 if at_edge else round(10 * x / right)
        y = min(max(y, last.get(column, -float("inf")) + gap), hi - gap / 2)
        last[column] = y
        ax.annotate(
            name, (right if at_edge else x, y), xytext=(-3 if at_edge else 3, 0), textcoords="offset points",
            ha="right" if at_edge else "left", va="center", fontsize=6, color="#555555",
            bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
        )  # fmt: skip


def plot_all(
    curve_map: dict[str, dict],
    reference: dict[str, dict],
    out: Path,
    title: str,
    max_bpp: float = 1.0,
    suffix: str = "",
) -> list[Path]:
    """One figure per metric over rates up to `max_bpp`, named STEM+suffix; returns the PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colour = colours(list(curve_map))
    written = []
    for key, label, transform, stem in PANELS:
        fig, ax = plt.subplots(figsize=(10, 5.5))
        shown = []  # our values inside the plotted rate range set the vertical range
        for name, curve in curve_map.items():
            res = curve["results"]
            if key not in res:
                continue
            style = "o-" if name.startswith("sparsepix") else "s-"
            values = transform(res[key])
            ax.plot(res["bpp"], values, style, ms=3, lw=1.4, color=colour[name], label=name)
            shown += [v for b, v in zip(res["bpp"], values) if b <= max_bpp]
        ends = []
        for name, curve in reference.items():
            res = curve["results"]
            inside = [(b, v) for b, v in zip(res["bpp"], transform(res.get(key) or [])) if b <= max_bpp]
            if inside:
                xs, ys = zip(*inside)
                ax.plot(xs, ys, "--", lw=0.8, color=REFERENCE_GREY, label="_ref")
                ends.append((inside, name.removeprefix("ref: ")))
        if ends:  # one legend entry for all of them; each is named where it ends
            ax.plot([], [], "--", lw=0.8, color=REFERENCE_GREY, label="published (CompressAI)")
        ax.set_xlim(0, max_bpp)
        if shown:
            span = max(shown) - min(shown)
            ax.set_ylim(min(shown) - 0.05 * span, max(shown) + 0.15 * span)
        _name_ends(ax, ends)
        ax.set_xlabel("bits per pixel (whole file)")
        ax.set_ylabel(label)
        ax.set_title(f"{title}: {label.split(' (')[0]}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.tight_layout()
        for ext in ("png", "svg"):
            fig.savefig(out / f"{stem}{suffix}.{ext}", dpi=110)
        plt.close(fig)
        written.append(out / f"{stem}{suffix}.png")
    return written
