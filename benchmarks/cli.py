"""`sparsepix bench`: the rate-distortion sweep, its JSON, plots and report; `sparsepix bench
recon | restore | speed`: the model tables and the speed records."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sparsepix.cli import ENSEMBLE_OPTION, SCHEDULER_OPTION, connected, passthrough
from sparsepix.codec.ensemble import from_choice

DEFAULT_CLASSICAL = "jpeg,jpeg-optimized,webp,avif,jpeg2000"
# Quality 65 (finest level luma-only) is the encoder's default; 70 spends more bits for fidelity
# to the exact samples.
DEFAULT_SPARSEPIX = (
    "random:linear:pred70,random:linear:pred65,random:linear:pred65:50,adaptive:linear:pred65:50,"
    "sobel:linear:pred65,random:linear:raw8"
)
# --quick leaves out the adaptive sampler's curve: its level choice (six fills per rate-control
# step) makes it the slowest part of a run.
QUICK_SPARSEPIX = (
    "random:linear:pred65,random:linear:pred65:50,sobel:linear:pred65,random:linear:raw8,"
    "random:natural:pred65"
)
ANCHOR = "jpeg-optimized"
LOW_RATES = 0.3  # the zoomed plots: where sparsepix lives


def _sparsepix_specs(text: str, ensemble: int | None = None):
    from sparsepix import catalog
    from sparsepix.benchmarks.codecs import CurveSpec, effort_spec
    from sparsepix.effort import EFFORTS

    specs = []
    for item in filter(None, text.split(",")):
        if item in (efforts := {f"effort{e.level}": e.level for e in EFFORTS}):
            specs.append(effort_spec(efforts[item], ensemble))
            continue
        parts = item.split(":")
        if len(parts) not in (2, 3, 4):
            raise click.BadParameter(
                f"{item!r} is not SAMPLER:MODEL[:VALUES[:OPTIMIZE]] or effortN", param_hint="--sparsepix"
            )
        sampler, model = parts[0], parts[1]
        catalog.get(model)  # unknown names fail before the sweep starts
        values = parts[2] if len(parts) >= 3 and parts[2] else "pred"
        quality = {}
        digits = values[len("pred") :] if values.startswith("pred") else ""
        if digits.isdigit() and 1 <= int(digits) <= 100:
            values, quality = "pred", {"quality": int(digits)}
        if values not in ("pred", "raw8"):
            raise click.BadParameter(
                f"{item!r}: VALUES is raw8, pred or predQ with Q in 1..100", param_hint="--sparsepix"
            )
        if len(parts) == 4 and not parts[3].isdigit():
            raise click.BadParameter(f"{item!r}: OPTIMIZE must be a whole number", param_hint="--sparsepix")
        optimize = int(parts[3]) if len(parts) == 4 else 0
        specs.append(
            CurveSpec(
                "sparsepix",
                sampler=sampler,
                model=model,
                values=values,
                optimize=optimize,
                ensemble=ensemble,
                **quality,
            )
        )
    return specs


def _standing(curve_map: dict[str, dict]) -> str:
    """Plain statements from the numbers: the best curve at each fixed rate, and ours."""
    import numpy as np

    from sparsepix.benchmarks.results import FIXED_RATES, quality_at

    lines = ["**Where sparsepix stands (generated from the table above).**"]
    for rate in FIXED_RATES:
        scored = [
            (quality_at(c["results"]["bpp"], c["results"]["psnr-rgb"], rate), n) for n, c in curve_map.items()
        ]
        scored = [(q, n) for q, n in scored if q is not None]
        if not scored:
            lines.append(f"At {rate:g} bpp no curve has a point.")
            continue
        best_q, best = max(scored)
        ours = [(q, n) for q, n in scored if n.startswith("sparsepix")]
        if ours:
            q, n = max(ours)
            verdict = "the best" if n == best else f"{best_q - q:.2f} dB behind {best} ({best_q:.2f} dB)"
            line = f"At {rate:g} bpp the best sparsepix curve, {n}, reaches {q:.2f} dB: {verdict}."
        else:
            q, line = -np.inf, f"At {rate:g} bpp sparsepix has no point; {best} leads with {best_q:.2f} dB."
        # Curves that stop below this rate but already beat the one named: say so, not blank.
        for name, c in curve_map.items():
            res = c["results"]
            top = int(np.argmax(res["bpp"]))
            bpp, psnr = res["bpp"][top], res["psnr-rgb"][top]
            if name.startswith("sparsepix") and bpp < rate and psnr > q:
                line += f" {name} ends below, at {bpp:.3f} bpp with {psnr:.2f} dB."
        lines.append(line)
    lowest = {n: min(c["results"]["bpp"]) for n, c in curve_map.items()}
    lines.append(
        "Lowest mean rates: "
        + ", ".join(f"{n} {b:.3f}" for n, b in sorted(lowest.items(), key=lambda x: x[1]))
        + " bpp."
    )
    return "\n\n".join(lines)


@click.command()
@click.argument("dataset", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for results and report.")
@click.option(
    "--quick",
    is_flag=True,
    help="Fewer settings per codec and, unless --sparsepix is given, no adaptive-sampler curve "
    "(a few minutes on Kodak).",
)
@click.option(
    "--codecs",
    default=DEFAULT_CLASSICAL,
    show_default=True,
    help="Classical codecs, comma-separated ('' for none).",
)
@click.option(
    "--sparsepix",
    "sparse",
    default=None,
    help="sparsepix curves as SAMPLER:MODEL[:VALUES[:OPTIMIZE]] (VALUES raw8, pred at the "
    "encoder's default quality, or predQ at quality Q, e.g. pred65; OPTIMIZE = tonal optimisation "
    "steps, default 0), or effortN (the encoder's effort level N, all else default), "
    "comma-separated. "
    f"[default: {DEFAULT_SPARSEPIX}; with --quick: {QUICK_SPARSEPIX}]",
)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1), help="Worker processes.")
@SCHEDULER_OPTION
@click.option("--limit", default=0, type=click.IntRange(0), help="Only the first N images (0 = all).")
@click.option(
    "--reference",
    default=None,
    type=click.Path(exists=True, file_okay=False),
    help="Folder of CompressAI-format JSON curves to overlay (e.g. ../shared/reference/compressai-kodak).",
)
@click.option("--crop-image", default="", help="Image for the side-by-side crops [default: the first].")
@click.option(
    "--compare-images",
    default="",
    help="Images on the comparison page (compare.html), comma-separated names, or 'all' "
    "[default: the crop image].",
)
@click.option(
    "--cache",
    "cache_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder for per-image results [default: OUT/cache]; share it between runs.",
)
@click.option(
    "--crop-bpp",
    default="0.25",
    show_default=True,
    help="Rates the crops are shown at, comma-separated (one grid each).",
)
@click.option(
    "--crop-curves",
    default="",
    help="Curves shown in the crop grids, comma-separated [default: all].",
)
@ENSEMBLE_OPTION
def bench(
    dataset,
    out,
    quick,
    codecs,
    sparse,
    workers,
    scheduler,
    limit,
    reference,
    crop_image,
    compare_images,
    cache_dir,
    crop_bpp,
    crop_curves,
    ensemble,
) -> None:
    """Rate-distortion sweep of sparsepix against JPEG, WebP, AVIF and JPEG 2000 on DATASET.

    Writes OUT/curves/*.json (CompressAI format), per_image.json, summary.csv, rd_*.png/svg and
    report.md + report.html. Per-image results are cached (OUT/cache, or --cache), so an interrupted run
    resumes and a finished one re-renders instantly.
    """
    from sparsepix.benchmarks import compare, plots, report, results, sweep
    from sparsepix.benchmarks.codecs import CurveSpec, make_codec
    from sparsepix.codec.imageio import image_files
    from sparsepix.errors import InputError

    images = image_files(dataset)
    images = images[:limit] if limit else images
    if sparse is None:
        sparse = QUICK_SPARSEPIX if quick else DEFAULT_SPARSEPIX
    if not images:
        raise InputError(f"no images in {dataset}")
    specs = {
        s.name: s
        for s in [CurveSpec(k) for k in filter(None, codecs.split(","))]
        + _sparsepix_specs(sparse, from_choice(ensemble))
    }
    # The crop and comparison choices are checked before the long sweep.
    rates, crop_specs = _crop_choice(crop_bpp, crop_curves, specs)
    crop_path = next((p for p in images if p.name == crop_image), images[0])
    _compare_choice(compare_images, images, crop_path)
    adapters = {name: make_codec(spec) for name, spec in specs.items()}
    tasks = [
        sweep.Task(spec, str(img), setting)
        for name, spec in specs.items()
        for setting in adapters[name].settings(quick)
        for img in images
    ]
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    cache = Path(cache_dir) if cache_dir else out_dir / "cache"
    with connected(scheduler) as client:
        measured, failures = sweep.run(tasks, cache, workers, client=client)
    for f in failures:
        click.echo(f"sparsepix: {f['image']}: {f['curve']} at {f['setting']:g}: {f['error']}", err=True)
    wanted = {(t.spec.name, Path(t.image).name, t.setting) for t in tasks}
    measured = [r for r in measured if (r["curve"], r["image"], r["setting"]) in wanted]
    # Crops and the comparison page show images every measurement of which succeeded.
    broken = {f["image"] for f in failures}
    whole = [p for p in images if p.name not in broken]
    if not whole:
        raise InputError(f"every image of {dataset} failed; see the lines above")
    if crop_path.name in broken:
        if crop_image:
            raise InputError(f"--crop-image {crop_image} failed to measure; see the lines above")
        crop_path = whole[0]
    shown = [p for p in _compare_choice(compare_images, images, crop_path) if p.name not in broken]
    versions = {n: a.version() for n, a in adapters.items()}
    curve_map = results.curves(measured, {n: a.description for n, a in adapters.items()}, versions)
    results.write(curve_map, measured, out_dir)
    ref = results.load_reference(Path(reference)) if reference else {}
    title = f"sparsepix rate-distortion on {Path(dataset).name} ({len(images)} images)"
    pngs = plots.plot_all(curve_map, ref, out_dir, title)
    pngs += plots.plot_all(curve_map, ref, out_dir, f"{title}, low rates", max_bpp=LOW_RATES, suffix="_low")
    entries = compare.decodes(specs, measured, shown, rates, out_dir)
    compare.write_page(out_dir, title, entries)
    crop_sets = {rate: report.crops(crop_specs, measured, crop_path, rate, out_dir) for rate in rates}
    command = "sparsepix bench " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else "sparsepix bench"
    path = report.write_report(
        out_dir,
        title,
        command,
        curve_map,
        ANCHOR,
        pngs,
        crop_sets,
        _standing(curve_map),
        versions,
        _effort_curves(from_choice(ensemble)),
    )
    click.echo(f"report: {path}")
    if failures:
        click.echo(f"sparsepix: {len(failures)} measurements failed; the report leaves them out", err=True)
        sys.exit(1)


def _effort_curves(ensemble: int | None) -> dict[int, str]:
    """Each encoder effort level's curve name, for the report's table of those measured."""
    from sparsepix.benchmarks.codecs import effort_spec
    from sparsepix.effort import EFFORTS

    return {e.level: effort_spec(e.level, ensemble).name for e in EFFORTS}


def _compare_choice(names: str, images: list, default) -> list:
    """--compare-images: the images of the run it names ('all', or names), else `default`."""
    from sparsepix.errors import InputError

    if names == "all":
        return images
    wanted = [n for n in names.split(",") if n]
    unknown = [n for n in wanted if n not in {p.name for p in images}]
    if unknown:
        raise InputError(f"--compare-images names no image of this run: {', '.join(unknown)}")
    return [p for p in images if p.name in wanted] or [default]


def _crop_choice(rates: str, curves: str, specs: dict) -> tuple[list[float], dict]:
    """--crop-bpp and --crop-curves parsed: the rates, and the specs of the curves shown."""
    from sparsepix.errors import InputError

    try:
        parsed = [float(r) for r in rates.split(",") if r.strip()]
    except ValueError:
        raise InputError(f"--crop-bpp takes rates such as 0.05,0.1, not {rates!r}") from None
    if not parsed or not all(0 < r < 64 for r in parsed):
        raise InputError(f"--crop-bpp takes rates between 0 and 64 bpp, not {rates!r}")
    shown = [c for c in curves.split(",") if c] or list(specs)
    unknown = [c for c in shown if c not in specs]
    if unknown:
        raise InputError(f"--crop-curves names no curve of this run: {', '.join(unknown)}")
    return parsed, {name: specs[name] for name in shown}


class BenchGroup(click.Group):
    """`sparsepix bench DATASET ...` is the rate-distortion sweep; a first word that names a
    subcommand runs that instead."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [SWEEP, *args]
        return super().parse_args(ctx, args)


SWEEP = "sweep"
bench.name = SWEEP
group = BenchGroup(
    "bench",
    help="Rate-distortion sweep of DATASET (`sparsepix bench DATASET --out DIR`, the same as "
    "`bench sweep`), or a measurement named by its subcommand.",
    commands=[
        bench,
        passthrough("recon", "sparsepix.benchmarks.recon_table", "Models side by side on the same files."),
        passthrough("restore", "sparsepix.benchmarks.restore_table", "Restorers on the paper's tasks."),
        passthrough("speed", "sparsepix.benchmarks.speed", "Decode and training speed records."),
    ],
)
COMMANDS = [group]
