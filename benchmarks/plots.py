"""Rate-distortion plots (PNG and SVG) with matplotlib, reference curves dashed."""

from __future__ import annotations

from pathlib import Path

from sparsepix.benchmarks.results import msssim_db

PANELS = (
    ("psnr-rgb", "PSNR (dB)", lambda v: v, "rd_psnr"),
    ("ms-ssim-rgb", "MS-SSIM (dB, -10 log10(1 - MS-SSIM))", msssim_db, "rd_msssim"),
    ("haarpsi-rgb", "HaarPSI", lambda v: v, "rd_haarpsi"),
    (
        "gradient-w1",
        "gradient W1 to the original (grey levels; lower = closer detail)",
        lambda v: v,
        "rd_detail",
    ),
)


# Measured curves: tab10's ten hues, then five dark ones; no two of the report's curves share one.
PALETTE = (
    *("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"),
    *("#17becf", "#000000", "#00008b", "#8b008b", "#b8860b", "#006400"),
)


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

    refs = plt.get_cmap("tab20b")  # dashed; a palette of its own
    written = []
    for key, label, transform, stem in PANELS:
        fig, ax = plt.subplots(figsize=(10, 5.5))
        shown = []  # our values inside the plotted rate range set the vertical range
        for i, (name, curve) in enumerate(curve_map.items()):
            res = curve["results"]
            if key not in res:
                continue
            style = "o-" if name.startswith("sparsepix") else "s-"
            values = transform(res[key])
            color = PALETTE[i % len(PALETTE)]
            ax.plot(res["bpp"], values, style, ms=3, lw=1.4, color=color, label=name)
            shown += [v for b, v in zip(res["bpp"], values) if b <= max_bpp]
        for i, (name, curve) in enumerate(reference.items()):
            res = curve["results"]
            if key in res and res[key]:
                ax.plot(res["bpp"], transform(res[key]), "--", lw=1, color=refs(i % 20), label=name)
        ax.set_xlim(0, max_bpp)
        if shown:
            span = max(shown) - min(shown)
            ax.set_ylim(min(shown) - 0.05 * span, max(shown) + 0.15 * span)
        ax.set_xlabel("bits per pixel (whole file)")
        ax.set_ylabel(label)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.tight_layout()
        for ext in ("png", "svg"):
            fig.savefig(out / f"{stem}{suffix}.{ext}", dpi=110)
        plt.close(fig)
        written.append(out / f"{stem}{suffix}.png")
    return written
