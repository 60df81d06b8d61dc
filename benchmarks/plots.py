"""Rate-distortion plots (PNG and SVG) with matplotlib, reference curves dashed."""

from __future__ import annotations

from pathlib import Path

from sparsepix.benchmarks.results import msssim_db

PANELS = (
    ("psnr-rgb", "PSNR (dB)", lambda v: v, "rd_psnr"),
    ("ms-ssim-rgb", "MS-SSIM (dB, -10 log10(1 - MS-SSIM))", msssim_db, "rd_msssim"),
    ("haarpsi-rgb", "HaarPSI", lambda v: v, "rd_haarpsi"),
)


def plot_all(
    curve_map: dict[str, dict], reference: dict[str, dict], out: Path, title: str, max_bpp: float = 1.0
) -> list[Path]:
    """One figure per metric; returns the PNG paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
            ax.plot(res["bpp"], values, style, ms=3, lw=1.4, label=name)
            shown += [v for b, v in zip(res["bpp"], values) if b <= max_bpp]
        for name, curve in reference.items():
            res = curve["results"]
            if key in res and res[key]:
                ax.plot(res["bpp"], transform(res[key]), "--", lw=1, alpha=0.7, label=name)
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
            fig.savefig(out / f"{stem}.{ext}", dpi=110)
        plt.close(fig)
        written.append(out / f"{stem}.png")
    return written
