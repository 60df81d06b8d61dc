"""The `sparsepix` command line: encode, decode, info, models, demo.

`sparsepix.main` adds the commands of the packages above this one (train, bench).

Every error the codec raises on purpose becomes one line on stderr and exit status 1; usage
errors exit 2 (click's convention). Outputs are written atomically, so a failure never leaves a
half-written file behind.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Callable

import click

from sparsepix import __version__
from sparsepix.codec.ensemble import CHOICES as ENSEMBLE_CHOICES
from sparsepix.codec.ensemble import HELP as ENSEMBLE_HELP
from sparsepix.codec.ensemble import from_choice
from sparsepix.codec.quality import CHROMA_KEPT_FROM, DEFAULT_QUALITY
from sparsepix.errors import SparsepixError

# One --ensemble for every command that decodes (decode, bench).
ENSEMBLE_OPTION = click.option(
    "--ensemble", default="auto", show_default=True, type=click.Choice(ENSEMBLE_CHOICES), help=ENSEMBLE_HELP
)


def _fail(message: str) -> None:
    click.echo(f"sparsepix: error: {message}", err=True)


def _finite(value: float | None) -> float | None:
    """click's ranges let nan through."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number")
    return value


def _pairs(
    inputs: tuple[str, ...],
    output: str,
    suffixes: frozenset[str],
    out_suffix: str,
) -> list[tuple[Path, Path]]:
    """Map inputs to outputs: one file to one file, or files/folders into an output folder (as
    `cp` does, one file into an existing folder lands there under its own stem)."""
    from sparsepix.codec.imageio import image_files

    paths = [Path(p) for p in inputs]
    if len(paths) == 1 and not paths[0].is_dir() and not Path(output).is_dir():
        return [(paths[0], Path(output))]
    sources: list[Path] = []
    for p in paths:
        if p.is_dir():
            sources += image_files(p, suffixes=suffixes)
        else:
            sources.append(p)
    if not sources:
        raise click.UsageError("no input files found")
    out_dir = Path(output)
    if out_dir.exists() and not out_dir.is_dir():
        raise click.UsageError(f"{out_dir} must be a folder when there are several inputs")
    out_dir.mkdir(parents=True, exist_ok=True)
    return [(src, out_dir / (src.stem + out_suffix)) for src in sources]


def _run_batch(pairs: list[tuple[Path, Path]], job: Callable[[Path, Path], str], label: str) -> None:
    """Run `job` on every pair with a progress bar; report each failure, exit 1 if any failed."""
    failures = 0

    def run_one(src: Path, dst: Path) -> None:
        nonlocal failures
        try:
            message = job(src, dst)
            if len(pairs) == 1 and message:
                click.echo(message)
        except SparsepixError as exc:
            failures += 1
            _fail(str(exc))

    if len(pairs) == 1:
        run_one(*pairs[0])
    else:
        with click.progressbar(pairs, label=label, file=sys.stderr) as bar:
            for src, dst in bar:
                run_one(src, dst)
    if failures:
        sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sparsepix")
def cli() -> None:
    """sparsepix: a sparse-sample image codec.

    It keeps a small share of an image's pixels (1-20 %), packs their positions and colours into
    a compact .spx file, and rebuilds the image from them on decoding.
    """


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@click.argument("output", type=click.Path())
@click.option(
    "--density", default=0.05, show_default=True, type=float, help="Share of pixels kept, in [0.001, 0.5]."
)
@click.option(
    "--sampler",
    default="random",
    show_default=True,
    type=click.Choice(["random", "adaptive", "sobel"]),
    help="random: uniform, positions cost only a seed. adaptive: half random, half "
    "edge-weighted from what the decoder rebuilds of the first half; no position "
    "bits. sobel: edge-weighted from the image, positions stored.",
)
@click.option(
    "--seed",
    default=None,
    type=click.IntRange(0, 2**64 - 1),
    help="Seed of the sampling PRNG [default: derived from the image].",
)
@click.option(
    "--values",
    default="pred",
    show_default=True,
    type=click.Choice(["pred", "raw8"]),
    help="pred: lossy YCoCg values predicted coarse to fine (~4-6 bits a sample). "
    "raw8: exact 8-bit samples (~20 bits a sample).",
)
@click.option(
    "--quality",
    default=DEFAULT_QUALITY,
    show_default=True,
    type=click.IntRange(1, 100),
    help="pred only: 75 quantises luma with step 8, chroma 16; +12.5 halves the steps. "
    f"{DEFAULT_QUALITY} keeps chroma on every level; 65 is the better rate-distortion trade "
    "(docs/DECISIONS.md). --bpp/--size try several.",
)
@click.option(
    "--chroma-skip",
    default=None,
    type=click.IntRange(0, 3),
    help="pred only: how many of the finest sample levels carry luma only (the finest level "
    f"holds 3/4 of the samples). [default: 1 below quality {CHROMA_KEPT_FROM}, else 0]",
)
@click.option(
    "--optimize",
    default=0,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Tonal optimisation: tune the stored values for the decoder's model. linear "
    "and natural-opt: N least-squares iterations (~50 is plenty, about a second); other learned "
    "models: N gradient steps through the network (slow on a CPU). 0 = off.",
)
@click.option(
    "--bpp",
    "target_bpp",
    default=None,
    type=click.FloatRange(min=0, max=64, min_open=True),
    callback=lambda ctx, param, value: _finite(value),
    help="Rate control: choose density and quality for this many bits per pixel "
    "(within 5 % below; --density and --quality are then ignored).",
)
@click.option(
    "--size",
    "target_size",
    default=None,
    type=click.IntRange(1),
    help="Rate control: at most this many bytes per file.",
)
@click.option(
    "--model",
    default="auto",
    show_default=True,
    help="Model the file asks decoders to use: auto (the shipped learned model: "
    "natural, or natural-opt with --optimize; linear if not installed), a model name "
    "(see `sparsepix models`), or '' for none (decoders use linear).",
)
def encode(
    inputs: tuple[str, ...],
    output: str,
    density: float,
    sampler: str,
    seed: int | None,
    values: str,
    quality: int,
    chroma_skip: int | None,
    optimize: int,
    target_bpp: float | None,
    target_size: int | None,
    model: str,
) -> None:
    """Encode INPUTS (image files or folders) to OUTPUT: a .spx file, or a folder (needed for
    several inputs; files land in it as STEM.spx)."""
    from sparsepix.api import encode_file
    from sparsepix.codec.imageio import IMAGE_SUFFIXES, atomic_write, load_image
    from sparsepix.ratecontrol import encode_to_size

    if target_bpp is not None and target_size is not None:
        raise click.UsageError("give --bpp or --size, not both")
    options = dict(
        sampler=sampler, seed=seed, values=values, chroma_skip=chroma_skip, model=model, optimize=optimize
    )

    def job(src: Path, dst: Path) -> str:
        if target_bpp is None and target_size is None:
            size = encode_file(src, dst, density=density, quality=quality, **options)
            return f"{dst}: {size} bytes"
        image = load_image(src)
        target = target_size or int(target_bpp * image.shape[0] * image.shape[1] / 8)
        data = encode_to_size(image, target, **options).data
        atomic_write(dst, data)
        return f"{dst}: {len(data)} bytes"

    _run_batch(_pairs(inputs, output, IMAGE_SUFFIXES, ".spx"), job, "encoding")


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@click.argument("output", type=click.Path())
@click.option(
    "--model",
    "--reconstructor",
    "-r",
    "model",
    default="auto",
    show_default=True,
    help="auto (the file's model, in the installed version; else linear), or a model name "
    "(see `sparsepix models`). --reconstructor is an older spelling.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse files written for another version of their model than the installed one.",
)
@click.option(
    "--device",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "cpu", "cuda"]),
    help="Where learned models run.",
)
@ENSEMBLE_OPTION
def decode(
    inputs: tuple[str, ...], output: str, model: str, strict: bool, device: str, ensemble: str
) -> None:
    """Decode INPUTS (.spx files or folders) to OUTPUT: an image file (format from its
    extension), or a folder (needed for several inputs; files land in it as STEM.png)."""
    from sparsepix.api import decode_file

    def job(src: Path, dst: Path) -> str:
        decode_file(src, dst, model=model, strict=strict, device=device, ensemble=from_choice(ensemble))
        return ""

    _run_batch(_pairs(inputs, output, frozenset({".spx"}), ".png"), job, "decoding")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object, or a list for several).")
def info(files: tuple[str, ...], as_json: bool) -> None:
    """Describe .spx FILES: size, sampler, density, bytes per section, bpp."""
    from sparsepix.api import _read_bytes, inspect

    infos, failed = [], False
    for name in files:
        try:
            infos.append((name, inspect(_read_bytes(name))))
        except SparsepixError as exc:
            _fail(f"{name}: {exc}")
            failed = True
    if as_json:
        payload = [dict(file=n, **i.as_dict()) for n, i in infos]
        click.echo(json.dumps(payload[0] if len(files) == 1 and payload else payload, indent=2))
    else:
        for name, i in infos:
            sections = ", ".join(f"{t} {n} B" for t, n in i.section_bytes.items())
            click.echo(
                f"{name}: {i.width}x{i.height}x{i.channels}, {i.sampler} sampler, {i.samples} "
                f"samples ({100 * i.density:.2f} %), values {i.value_mode}, "
                f"model {_model_line(i.model, i.decodes_with)}\n"
                f"  {i.total_bytes} bytes = header {i.header_bytes} B"
                f" + {sections}; {i.bpp:.4f} bpp, {i.bits_per_sample:.2f} bits/sample"
            )
    if failed:
        sys.exit(1)


def _model_line(named: str, used: str) -> str:
    if not named:
        return "- (decodes with linear)"
    if not used:
        return f"{named} (not installed)"
    return named if used == named else f"{named} (decodes with {used})"


@cli.command()
def models() -> None:
    """List the models this installation decodes with."""
    from sparsepix import catalog

    for name, rec in sorted(catalog.available().items()):
        click.echo(f"{str(rec.ref):<16} {'learned' if rec.learned else 'classical':<10} {rec.description}")


@cli.command()
@click.argument("out_dir", type=click.Path(file_okay=False), default="sparsepix-demo")
@click.option("--density", default=0.05, show_default=True, type=float, help="Share of pixels kept.")
@click.option(
    "--sampler", default="adaptive", show_default=True, type=click.Choice(["random", "adaptive", "sobel"])
)
def demo(out_dir: str, density: float, sampler: str) -> None:
    """Encode scikit-image's astronaut photo and decode it with every reconstructor.

    Writes the original, the .spx file, the sparse canvas and one PNG per reconstructor into
    OUT_DIR, and prints the file size and each reconstruction's PSNR and time.
    """
    import time

    from skimage import data as skdata

    from sparsepix import catalog
    from sparsepix.api import decode_samples, encode
    from sparsepix.codec import reconstructors
    from sparsepix.codec.imageio import atomic_write, save_image
    from sparsepix.metrics import psnr

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    image = skdata.astronaut()
    data = encode(image, density=density, sampler=sampler)
    atomic_write(out / "astronaut.spx", data)
    save_image(out / "original.png", image)
    _, canvas, mask = decode_samples(data)
    save_image(out / "samples.png", canvas)
    bpp = 8 * len(data) / mask.size
    click.echo(
        f"astronaut 512x512, {sampler} sampler, {100 * density:g} % kept: "
        f"{len(data)} bytes, {bpp:.3f} bpp  ->  {out}/"
    )
    for name, rec in sorted(catalog.available().items()):
        t0 = time.perf_counter()
        image_out = reconstructors.reconstruct(rec, canvas, mask, "auto")
        seconds = time.perf_counter() - t0
        save_image(out / f"{name}.png", image_out)
        click.echo(f"  {name:<12} {psnr(image, image_out):6.2f} dB  {seconds:6.3f} s  {rec.description}")


def run(group: click.Group = cli) -> None:
    """Run a command group with the codec's error conventions (see the module docstring)."""
    try:
        group.main(prog_name="sparsepix", standalone_mode=True)
    except SparsepixError as exc:  # raised outside a batch (e.g. while listing inputs)
        _fail(str(exc))
        sys.exit(1)
    except KeyboardInterrupt:
        _fail("interrupted")
        sys.exit(130)
