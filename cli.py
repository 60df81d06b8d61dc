"""The `sparsepix` command line: encode, decode, restore, info, models, demo.

`sparsepix.main` adds the commands of the packages above this one (train, bench).

Every error the codec raises on purpose becomes one line on stderr and exit status 1; usage
errors exit 2 (click's convention). Outputs are written atomically, so a failure never leaves a
half-written file behind.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import click
from click.core import ParameterSource

from sparsepix import __version__
from sparsepix.bitstream import VERSION as FORMAT_VERSION
from sparsepix.codec import progress
from sparsepix.codec.ensemble import CHOICES as ENSEMBLE_CHOICES
from sparsepix.codec.ensemble import HELP as ENSEMBLE_HELP
from sparsepix.codec.ensemble import from_choice
from sparsepix.codec.quality import CHROMA_KEPT_FROM, DEFAULT_QUALITY
from sparsepix.effort import DEFAULT_EFFORT, EFFORTS
from sparsepix.errors import TORCH_INSTALL, InputError, SparsepixError, SparsepixWarning

# One --ensemble for every command that decodes (decode, bench).
ENSEMBLE_OPTION = click.option(
    "--ensemble", default="auto", show_default=True, type=click.Choice(ENSEMBLE_CHOICES), help=ENSEMBLE_HELP
)


def _model_option(help: str) -> Callable:
    """-r / --model (--reconstructor, its older spelling), as every command that picks one; an
    unknown name is a usage error."""
    return click.option(
        "-r",
        "--model",
        "--reconstructor",
        "model",
        default="auto",
        show_default=True,
        callback=_known_model,
        help=help,
    )


def _known_model(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from sparsepix import catalog

    if value not in ("auto", ""):
        try:
            catalog.get(value)
        except SparsepixError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


DEVICE_OPTION = click.option(
    "--device",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "cpu", "cuda"]),
    help="Where learned models run.",
)


SCHEDULER_OPTION = click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Send the per-image work to this Dask scheduler (tcp://host:8786), or 'local' "
    "[default: $SPARSEPIX_SCHEDULER, else local]; needs the cluster extra.",
)


@contextlib.contextmanager
def connected(scheduler: str | None):
    """A Dask client for --scheduler (or SPARSEPIX_SCHEDULER), closed after; None to run locally."""
    from sparsepix import cluster

    where = cluster.address(scheduler)
    if where is None:
        yield None
        return
    client = cluster.connect(where)
    try:
        yield client
    finally:
        client.close()


STDIO = "-"  # standard input as an input, standard output as the output
SPX_SUFFIX = ".spx"


def _image_suffixes() -> frozenset[str]:
    """Every file extension Pillow knows an image format for (.spx among them)."""
    from PIL import Image

    return frozenset(Image.registered_extensions())


def _fail(message: str) -> None:
    click.echo(f"sparsepix: error: {message}", err=True)


def _finite(value: float | None) -> float | None:
    """click's ranges let nan through."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number")
    return value


def _given(ctx: click.Context, *names: str) -> list[str]:
    """The options among `names` the user set (on the command line or by environment)."""
    return [n for n in names if ctx.get_parameter_source(n) not in (None, ParameterSource.DEFAULT)]


def _split(paths: tuple[str, ...], output: str | None) -> tuple[list[str], str]:
    """INPUTS... OUTPUT, or INPUTS... with -o OUTPUT."""
    if output is None:
        if len(paths) < 2:
            raise click.UsageError("missing OUTPUT (a file, a folder, or - for standard output)")
        return list(paths[:-1]), paths[-1]
    if not paths:
        raise click.UsageError("missing INPUTS")
    return list(paths), output


def _pairs(
    paths: tuple[str, ...],
    output: str | None,
    suffixes: frozenset[str],
    out_suffix: str,
    file_suffixes: frozenset[str],
) -> list[tuple[str, str]]:
    """Map inputs to outputs: one file (or -) to one file (or -), or files and folders into an
    output folder (as `cp` does, one file into an existing folder lands there under its stem).
    A folder that does not exist yet is made, unless its name ends in one of `file_suffixes`
    (`encode a.png b.png one.spx` is a mistake, not a folder named one.spx)."""
    from sparsepix.codec.imageio import image_files

    inputs, out = _split(paths, output)
    for p in inputs:
        if p != STDIO and not Path(p).exists():
            raise click.UsageError(f"{p}: no such file or folder")
    if len(inputs) == 1 and (inputs[0] == STDIO or not Path(inputs[0]).is_dir()):
        src = inputs[0]
        if out != STDIO and Path(out).is_dir():
            stem = "stdin" if src == STDIO else Path(src).stem
            return [(src, str(Path(out) / (stem + out_suffix)))]
        return [(src, out)]
    if out == STDIO:
        raise click.UsageError("several inputs cannot all go to standard output; give a folder")
    if STDIO in inputs:
        raise click.UsageError("- (standard input) cannot be part of a batch")
    sources = [
        s for p in inputs for s in (image_files(p, suffixes=suffixes) if Path(p).is_dir() else [Path(p)])
    ]
    if not sources:
        raise click.UsageError("no input files found")
    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise click.UsageError(f"{out} must be a folder when there are several inputs")
    if not out_dir.exists() and out_dir.suffix.lower() in file_suffixes:
        raise click.UsageError(f"{out} names a file, but several inputs need a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    return [(str(src), str(out_dir / (src.stem + out_suffix))) for src in sources]


def _read(src: str) -> bytes:
    from sparsepix.codec.files import read_bytes, read_stdin

    return read_stdin() if src == STDIO else read_bytes(src)


def _source(src: str) -> str | int:
    """What an output must not overwrite: the input's path, or stdin's descriptor."""
    return 0 if src == STDIO else src


def _check_output(src: str, dst: str) -> None:
    """Refuse, before any work, an output that is the input itself."""
    from sparsepix.codec.files import check_not_input

    if dst != STDIO:
        check_not_input(_source(src), dst)


def _write(src: str, dst: str, data: bytes) -> None:
    """Write an output (codec/files.py: as `cp` does, never over the input); - is stdout."""
    from sparsepix.codec.files import write_bytes

    if dst != STDIO:
        write_bytes(dst, data, _source(src))
        return
    if sys.stdout is None:
        raise InputError("<stdout>: standard output is closed")
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        raise  # the reader left: `run` ends quietly
    except (OSError, ValueError) as exc:  # /dev/full, EBADF
        raise InputError(f"<stdout>: cannot write ({getattr(exc, 'strerror', None) or exc})") from None


def _named(name: str, exc: SparsepixError) -> SparsepixError:
    """`exc` with its message led by the file's name, once."""
    return exc if str(exc).startswith(f"{name}:") else type(exc)(f"{name}: {exc}")


def _gpu_in_use() -> bool:
    """Whether decoding runs on CUDA; torch is imported by then if a learned model ran."""
    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_available())


def _show(path: str, stream: str = "<stdout>") -> str:
    return stream if path == STDIO else path


@dataclass(frozen=True)
class Voice:
    """What a command says on stderr: errors always; one line per file unless quiet; more when
    verbose. stdout carries data only."""

    level: int  # 0 quiet, 1 normal, 2 verbose (the commands add detail to their lines)

    def say(self, message: str) -> None:
        if self.level > 0:
            click.echo(message, err=True)


def _voice(quiet: bool, verbose: bool) -> Voice:
    if quiet and verbose:
        raise click.UsageError("give --quiet or --verbose, not both")
    return Voice(0 if quiet else 2 if verbose else 1)


# A file's work that lasts past HEARTBEAT_S seconds is said to go on, every HEARTBEAT_S after.
HEARTBEAT_S = 2.0


@contextlib.contextmanager
def _heartbeat(voice: Voice, name: str):
    """While the body runs past HEARTBEAT_S: `NAME: working, N s` on stderr, with the progress the
    work reports (codec/progress.py: `network 3/20` for tiles), rewritten in place on a terminal,
    a line each time elsewhere; nothing when quiet."""
    done = threading.Event()
    tty = sys.stderr is not None and sys.stderr.isatty()
    said: list[str] = []
    heard = [""]

    def listen(what: str, finished: int, total: int) -> None:
        heard[0] = f" ({what} {finished}/{total})"

    def beat() -> None:
        start = time.monotonic()
        while not done.wait(HEARTBEAT_S):
            line = f"{name}: working, {time.monotonic() - start:.0f} s{heard[0]}"
            click.echo(f"\r{line}\x1b[K" if tty else line, err=True, nl=not tty)
            said.append(line)

    thread = threading.Thread(target=beat, daemon=True)
    if voice.level > 0:
        thread.start()
    try:
        with progress.listening(listen):
            yield
    finally:
        done.set()
        if thread.is_alive():
            thread.join()
        if tty and said:
            click.echo("\r\x1b[K", err=True, nl=False)  # the result line takes its place


def _run_batch(
    pairs: list[tuple[str, str]],
    job: Callable[..., str],
    voice: Voice,
    scheduler: str | None = None,
    prepare: Callable | None = None,
) -> None:
    """Run `job(i, src, dst, remote)` on every pair, one line per file on stderr (a counter in
    batches), warnings and failures as one line each; exit 1 if any failed. With a scheduler
    (cluster.py), `remote.result(i)` is the result of the call `prepare(i)` built, run on the
    cluster a window ahead; without one, `remote` is None and the job does its own work."""
    with connected(scheduler) as client:
        if client is None:
            failures = _each(pairs, job, voice, None)
        else:
            from sparsepix.cluster import Ahead

            failures = _each(pairs, job, voice, Ahead(client, len(pairs), prepare))
    if len(pairs) > 1:
        voice.say(f"{len(pairs) - failures} of {len(pairs)} files done")
    if failures:
        sys.exit(1)


def _each(pairs: list[tuple[str, str]], job: Callable[..., str], voice: Voice, remote) -> int:
    """`_run_batch`'s loop; the number of files that failed."""
    failures = 0
    for i, (src, dst) in enumerate(pairs, 1):
        counter = f"[{i}/{len(pairs)}] " if len(pairs) > 1 else ""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SparsepixWarning)
            try:
                with _heartbeat(voice, f"{counter}{_show(src, '<stdin>')}"):
                    message = job(i - 1, src, dst, remote)
                voice.say(f"{counter}{_show(dst)}: {message}")
            except SparsepixError as exc:
                failures += 1
                _fail(f"{counter}{exc}")
        _say_warnings(caught, _show(src, "<stdin>"), voice)
    return failures


def _say_warnings(caught: list[warnings.WarningMessage], name: str, voice: Voice) -> None:
    """Our warnings as one line each, `sparsepix: warning: NAME: ...`; others as Python shows them."""
    for w in caught:
        if issubclass(w.category, SparsepixWarning):
            voice.say(f"sparsepix: warning: {name}: {w.message}")
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def _warned(name: str, voice: Voice, fn: Callable[[], object]) -> object:
    """`fn()`, its warnings said as `_run_batch` says them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SparsepixWarning)
        try:
            return fn()
        finally:
            _say_warnings(caught, name, voice)


def _io_options(command: Callable) -> Callable:
    """-o, --quiet and --verbose, shared by the commands that write files."""
    for option in reversed(
        [
            click.option(
                "-o",
                "--output",
                default=None,
                help="Output file, folder or - (stdout); then every argument is an input.",
            ),
            click.option("--quiet", is_flag=True, help="Print errors only."),
            click.option("-v", "--verbose", is_flag=True, help="Print settings and timings too."),
        ]
    ):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, prog_name="sparsepix", message=f"%(prog)s %(version)s (.spx format version {FORMAT_VERSION})"
)
def cli() -> None:
    """sparsepix: a sparse-sample image codec.

    It keeps a small share of an image's pixels (1-20 %), packs their positions and colours into
    a compact .spx file, and rebuilds the image from them on decoding. `-` stands for standard
    input or output; messages go to stderr. Exit status: 0 success, 1 failure, 2 usage error.
    """


@dataclass(frozen=True)
class EncodeSettings:
    """What `encode` does to every file, sent with it to a cluster worker."""

    background: tuple[int, int, int]
    target: tuple[float | None, int | None] | None  # (bpp, bytes) for rate control, else None
    options: dict
    density: float
    quality: int


def _encode_file(raw: bytes, name: str, settings: EncodeSettings) -> tuple[bytes, int, float]:
    """An image file's bytes to .spx bytes: (data, pixels, seconds), here or on a worker."""
    from sparsepix.api import encode as encode_image
    from sparsepix.codec.imageio import image_from_bytes
    from sparsepix.ratecontrol import encode_to_size, target_bytes

    image = image_from_bytes(raw, name, settings.background)
    pixels = image.shape[0] * image.shape[1]
    t0 = time.perf_counter()
    if settings.target is not None:
        data = encode_to_size(image, target_bytes(pixels, *settings.target), **settings.options).data
    else:
        data = encode_image(image, density=settings.density, quality=settings.quality, **settings.options)
    return data, pixels, time.perf_counter() - t0


def _decode_file(
    data: bytes, options: dict, fmt: str, name: str
) -> tuple[bytes, tuple[int, int], str, float]:
    """.spx bytes to image-file bytes in `fmt` on a cluster worker: (bytes, (h, w), the model
    that decoded, seconds)."""
    from sparsepix import catalog
    from sparsepix.api import decode_many, read_header
    from sparsepix.codec.imageio import image_bytes

    t0 = time.perf_counter()
    image = decode_many([data], batch=1, errors="return", **options)[0]
    if isinstance(image, SparsepixError):
        raise image
    seconds = time.perf_counter() - t0
    used = catalog.for_file(read_header(data).model, options["model"], options["strict"]).ref
    return image_bytes(image, fmt, name), image.shape[:2], str(used), seconds


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="INPUTS... OUTPUT")
@click.option(
    "-d",
    "--density",
    default=0.05,
    show_default=True,
    type=click.FloatRange(0.001, 0.5),
    callback=lambda ctx, param, value: _finite(value),
    help="Share of pixels kept.",
)
@click.option(
    "-e",
    "--effort",
    default=DEFAULT_EFFORT,
    show_default=True,
    type=click.IntRange(0, len(EFFORTS) - 1),
    help="How hard the encoder searches at the same rate: "
    + "; ".join(f"{e.level}: {e.summary}" for e in EFFORTS)
    + ". --sampler and --optimize override it.",
)
@click.option(
    "--sampler",
    default=None,
    type=click.Choice(["random", "adaptive", "sobel"]),
    help="random: uniform, positions cost only a seed. adaptive: a density per block "
    "(16-64 px), chosen for the reconstruction's error, random inside each block. sobel: "
    "edge-weighted from the image, positions stored. [default: the effort's]",
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
    "-q",
    "--quality",
    default=DEFAULT_QUALITY,
    show_default=True,
    type=click.IntRange(1, 100),
    help="pred only: 75 quantises luma with step 8, chroma 16; +12.5 halves the steps. "
    f"{DEFAULT_QUALITY} is the rate-distortion trade the models were trained on; 70 keeps chroma "
    "on every level, for fidelity (docs/DECISIONS.md). --bpp/--size try several.",
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
    default=None,
    type=click.IntRange(0, 1000),
    help="Tonal optimisation: tune the stored values for the decoder's model. linear "
    "and natural-opt: N least-squares iterations (~50 is plenty, about a second); other learned "
    "models: N gradient steps through the network (slow on a CPU). 0 = off. [default: the "
    "effort's, for pred values and models tuned by least squares, else 0]",
)
@click.option(
    "-b",
    "--bpp",
    "target_bpp",
    default=None,
    type=click.FloatRange(min=0, max=64, min_open=True),
    callback=lambda ctx, param, value: _finite(value),
    help="Rate control: choose density and quality for this many bits per pixel (within 5 % below).",
)
@click.option(
    "-s",
    "--size",
    "target_size",
    default=None,
    type=click.IntRange(1),
    help="Rate control: at most this many bytes.",
)
@_model_option(
    "Model the file asks decoders to use: auto (the shipped learned model: "
    "natural, or natural-opt for tuned values; linear if not installed), a model name "
    "(see `sparsepix models`), or '' for none (decoders use linear)."
)
@click.option(
    "--background",
    default="white",
    show_default=True,
    help="Colour that transparent pixels are composited over (a name or #rrggbb).",
)
@SCHEDULER_OPTION
@_io_options
@click.pass_context
def encode(
    ctx: click.Context,
    paths: tuple[str, ...],
    density: float,
    effort: int,
    sampler: str | None,
    seed: int | None,
    values: str,
    quality: int,
    chroma_skip: int | None,
    optimize: int | None,
    target_bpp: float | None,
    target_size: int | None,
    model: str,
    background: str,
    scheduler: str | None,
    output: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Encode INPUTS (image files, folders or - for stdin) to OUTPUT: a .spx file, - for stdout,
    or a folder (needed for several inputs; files land in it as STEM.spx)."""
    from PIL import ImageColor

    from sparsepix.api import inspect
    from sparsepix.codec.imageio import IMAGE_SUFFIXES, format_for

    voice = _voice(quiet, verbose)
    if target_bpp is not None and target_size is not None:
        raise click.UsageError("give --bpp or --size, not both")
    rate_control = target_bpp is not None or target_size is not None
    if rate_control and (fixed := _given(ctx, "density", "quality")):
        raise click.UsageError(f"--bpp and --size choose density and quality; drop --{' --'.join(fixed)}")
    if values == "raw8" and (lossy := _given(ctx, "quality", "chroma_skip")):
        names = " and ".join("--" + n.replace("_", "-") for n in lossy)
        verb = "applies" if len(lossy) == 1 else "apply"
        raise click.UsageError(f"{names} {verb} to pred values; raw8 stores exact samples")
    try:
        rgb = ImageColor.getrgb(background)[:3]
    except ValueError:
        raise click.BadParameter(f"{background!r} is not a colour", param_hint="--background") from None
    settings = EncodeSettings(
        background=rgb,
        target=(target_bpp, target_size) if rate_control else None,
        options=dict(
            sampler=sampler,
            seed=seed,
            values=values,
            chroma_skip=chroma_skip,
            model=model,
            optimize=optimize,
            effort=effort,
        ),
        density=density,
        quality=quality,
    )
    pairs = _pairs(paths, output, IMAGE_SUFFIXES, SPX_SUFFIX, frozenset({SPX_SUFFIX}))

    def prepare(i: int):
        src = pairs[i][0]
        return _encode_file, (_read(src), _show(src, "<stdin>"), settings), False

    def job(i: int, src: str, dst: str, remote) -> str:
        _check_output(src, dst)
        if dst != STDIO and Path(dst).suffix.lower() in _image_suffixes() - {SPX_SUFFIX}:
            raise InputError(f"{dst}: encode writes .spx files, not {format_for(dst)} images")
        if remote is None:
            data, pixels, seconds = _encode_file(_read(src), _show(src, "<stdin>"), settings)
        else:
            data, pixels, seconds = remote.result(i)
        _write(src, dst, data)
        detail = f" ({_settings(inspect(data))}, {seconds:.2f} s)" if voice.level > 1 else ""
        return f"{len(data)} bytes, {8 * len(data) / pixels:.4f} bpp{detail}"

    _run_batch(pairs, job, voice, scheduler, prepare)


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="INPUTS... OUTPUT")
@_model_option(
    "auto (the file's model, in the installed version; else linear), or a model name "
    "(see `sparsepix models`). --reconstructor is an older spelling."
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse files written for another version of their model than the installed one.",
)
@DEVICE_OPTION
@ENSEMBLE_OPTION
@click.option(
    "--batch",
    default=None,
    type=click.IntRange(1, 256),
    help="Files per network call for learned models [default: 8 on a GPU, 1 on a CPU].",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    default=None,
    help="Image format for - and folders (png, jpeg, webp, ...) [default: png]; a file OUTPUT's "
    "extension sets its own.",
)
@SCHEDULER_OPTION
@_io_options
def decode(
    paths: tuple[str, ...],
    model: str,
    strict: bool,
    device: str,
    ensemble: str,
    batch: int | None,
    fmt: str | None,
    scheduler: str | None,
    output: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Decode INPUTS (.spx files, folders or - for stdin) to OUTPUT: an image file (format from
    its extension), - for stdout (PNG unless --format), or a folder (needed for several inputs;
    files land in it as STEM.png)."""
    from PIL import Image

    from sparsepix import catalog
    from sparsepix.api import decode_many, read_header
    from sparsepix.codec.imageio import format_for, image_bytes
    from sparsepix.codec.reconstructors import CLASSICAL
    from sparsepix.models.registry import GPU_BATCH
    from sparsepix.pil_plugin import FORMAT

    voice = _voice(quiet, verbose)
    suffix = ".png"
    if fmt is not None:
        known = [s for s, f in Image.registered_extensions().items() if f == fmt.upper()]
        if not known or fmt.upper() not in Image.SAVE:
            raise click.BadParameter(f"{fmt!r} is not an image format Pillow writes", param_hint="--format")
        suffix = f".{fmt.lower()}" if f".{fmt.lower()}" in known else known[0]

    pairs = _pairs(paths, output, frozenset({SPX_SUFFIX}), suffix, _image_suffixes())
    options = dict(model=model, strict=strict, device=device, ensemble=from_choice(ensemble))
    pending: dict[int, tuple[bytes, object, float]] = {}  # index -> (bytes, image or error, seconds)

    def decode_from(start: int) -> None:
        """Decode the inputs from `start` on together: several per network call on a GPU."""
        size = batch or (GPU_BATCH if _gpu_in_use() else 1)
        indices = range(start, min(start + size, len(pairs)))
        datas, failed = [], {}
        for i in indices:
            try:
                datas.append(_read(pairs[i][0]))
            except SparsepixError as exc:
                datas.append(b"")
                failed[i] = exc
        t0 = time.perf_counter()
        results = decode_many(datas, batch=batch, errors="return", **options)
        seconds = (time.perf_counter() - t0) / len(datas)
        for i, data, result in zip(indices, datas, results):
            pending[i] = (data, failed.get(i, result), seconds)

    def out_format(dst: str) -> str:
        out_fmt = "PNG" if dst == STDIO else format_for(dst)
        if fmt is not None:
            if out_fmt != fmt.upper() and dst != STDIO:
                raise InputError(f"{dst}: --format {fmt} does not match the file's extension")
            out_fmt = fmt.upper()
        if out_fmt == FORMAT:
            raise InputError(f"{_show(dst)}: decode writes images, not .spx files")
        return out_fmt

    def prepare(i: int):
        src, dst = pairs[i]
        data = _read(src)
        try:
            learned = catalog.for_file(read_header(data).model, model, strict).name not in CLASSICAL
        except SparsepixError:
            learned = False  # the worker's decode says what is wrong, as a local one would
        return _decode_file, (data, options, out_format(dst), _show(dst)), learned

    def job(i: int, src: str, dst: str, remote) -> str:
        _check_output(src, dst)
        out_fmt = out_format(dst)  # before decoding: fail fast
        if remote is not None:
            try:
                encoded, (h, w), used, seconds = remote.result(i)
            except SparsepixError as exc:
                raise _named(_show(src, "<stdin>"), exc) from None
            _write(src, dst, encoded)
            return f"{w}x{h}" + (f", {used}, {seconds:.2f} s" if voice.level > 1 else "")
        if i not in pending:
            decode_from(i)
        data, image, seconds = pending.pop(i)
        if isinstance(image, SparsepixError):
            raise _named(_show(src, "<stdin>"), image)
        _write(src, dst, image_bytes(image, out_fmt, _show(dst)))
        line = f"{image.shape[1]}x{image.shape[0]}"
        if voice.level > 1:
            used = catalog.for_file(read_header(data).model, model, strict).ref
            line += f", {used}, {seconds:.2f} s"
        return line

    _run_batch(pairs, job, voice, scheduler, prepare)


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="INPUTS... OUTPUT")
@click.option(
    "--mask",
    "mask_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Image of the holes to fill, white = missing, any shape; the size of every input.",
)
@click.option(
    "--task",
    type=click.Choice(["white-block", "color-noise", "color-block"]),
    help="Instead of a mask: undo one of the X-GANs paper's corruptions, already in the inputs.",
)
@_model_option(
    "auto (a model trained for the job, else telea where the holes are known), a learned "
    "model, or a classical inpainter: telea, ns, linear (see `sparsepix models`)."
)
@DEVICE_OPTION
@ENSEMBLE_OPTION
@_io_options
def restore(
    paths: tuple[str, ...],
    mask_path: str | None,
    task: str | None,
    model: str,
    device: str,
    ensemble: str,
    output: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Restore INPUTS (image files, folders or - for stdin) to OUTPUT: an image file, - for
    stdout (PNG), or a folder (needed for several inputs; files land in it as STEM.png)."""
    from sparsepix.codec.imageio import IMAGE_SUFFIXES, format_for, image_bytes, image_from_bytes
    from sparsepix.pil_plugin import FORMAT
    from sparsepix.restoration import mask_image, model_for
    from sparsepix.restoration import restore as restore_image
    from sparsepix.tasks import INPAINT

    voice = _voice(quiet, verbose)
    if (mask_path is None) == (task is None):
        raise click.UsageError("give --mask or --task, not both or neither")
    holes = None if mask_path is None else _warned(mask_path, voice, lambda: mask_image(mask_path))

    def job(i: int, src: str, dst: str, remote=None) -> str:
        _check_output(src, dst)
        out_fmt = "PNG" if dst == STDIO else format_for(dst)
        if out_fmt == FORMAT:
            raise InputError(f"{dst}: restore writes images, not .spx files")
        name = _show(src, "<stdin>")
        image = image_from_bytes(_read(src), name)
        t0 = time.perf_counter()
        try:
            out = restore_image(
                image, mask=holes, task=task, model=model, device=device, ensemble=from_choice(ensemble)
            )
        except InputError as exc:
            raise _named(name, exc) from None
        _write(src, dst, image_bytes(out, out_fmt, _show(dst)))
        if voice.level < 2:
            return f"{out.shape[1]}x{out.shape[0]}"
        used = model_for(task or INPAINT, model).name
        return f"{out.shape[1]}x{out.shape[0]}, {used}, {time.perf_counter() - t0:.2f} s"

    _run_batch(_pairs(paths, output, IMAGE_SUFFIXES, ".png", _image_suffixes()), job, voice)


@cli.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, allow_dash=True)
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object, or a list for several).")
def info(files: tuple[str, ...], as_json: bool) -> None:
    """Describe .spx FILES (or - for stdin): size, sampler, density, bytes per section, bpp."""
    from sparsepix.api import inspect

    infos, failed = [], False
    for path in files:
        name = _show(path, "<stdin>")
        try:
            infos.append((name, inspect(_read(path))))
        except SparsepixError as exc:
            _fail(str(_named(name, exc)))
            failed = True
    if as_json:
        payload = [dict(file=n, **i.as_dict()) for n, i in infos]
        click.echo(json.dumps(payload[0] if len(files) == 1 and payload else payload, indent=2))
    else:
        for name, i in infos:
            sections = ", ".join(f"{t} {n} B" for t, n in i.section_bytes.items())
            click.echo(
                f"{name}: {i.width}x{i.height}x{i.channels}, {i.samples} samples; {_settings(i)}\n"
                f"  {i.total_bytes} bytes = header {i.header_bytes} B"
                f" + {sections}; {i.bpp:.4f} bpp, {i.bits_per_sample:.2f} bits/sample"
            )
    if failed:
        sys.exit(1)


def _settings(i) -> str:
    """What an encoder chose, from a file's `FileInfo`: sampler, density, values, model."""
    values = i.value_mode
    if i.quality is not None:
        values += f" quality {i.quality}, chroma skip {i.chroma_skip}"
    return (
        f"{i.sampler} sampler, density {i.density:.4f}, values {values}, "
        f"model {_model_line(i.model, i.decodes_with)}"
    )


def _model_line(named: str, used: str) -> str:
    if not named:
        return "- (decodes with linear)"
    if not used:
        return f"{named} (not installed)"
    return named if used == named else f"{named} (decodes with {used})"


@cli.command()
def models() -> None:
    """List the models this installation decodes and restores with (learned: what for)."""
    from sparsepix import catalog

    defaults = {
        str(catalog.default_ref()): "default for encode --effort 0 (untuned values)",
        str(catalog.default_ref(tuned=True)): "default for encode",
        catalog.DEFAULT_CLASSICAL: "decodes files that name no model",
    }
    rows = [
        (
            str(rec.ref),
            f"learned, {rec.task}" if rec.learned else "classical",
            rec.description + (f" [{defaults[str(rec.ref)]}]" if str(rec.ref) in defaults else ""),
        )
        for _, rec in sorted(catalog.available().items())
    ]
    name_width, kind_width = (max(len(row[i]) for row in rows) for i in (0, 1))
    for ref, kind, description in rows:
        click.echo(f"{ref:<{name_width}}  {kind:<{kind_width}}  {description}")


@cli.command()
@click.argument("out_dir", type=click.Path(file_okay=False), default="sparsepix-demo")
@click.option("--density", default=0.05, show_default=True, type=float, help="Share of pixels kept.")
@click.option(
    "-e", "--effort", default=DEFAULT_EFFORT, show_default=True, type=click.IntRange(0, len(EFFORTS) - 1)
)
def demo(out_dir: str, density: float, effort: int) -> None:
    """Encode scikit-image's astronaut photo and decode it with every reconstructor.

    Writes the original, the .spx file, the sparse canvas and one PNG per reconstructor into
    OUT_DIR, and prints the file size and each reconstruction's PSNR and time.
    """
    import time

    from skimage import data as skdata

    from sparsepix import catalog
    from sparsepix.api import decode_samples, encode
    from sparsepix.codec import reconstructors
    from sparsepix.codec.files import write_bytes
    from sparsepix.codec.imageio import save_image
    from sparsepix.metrics import psnr

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    image = skdata.astronaut()
    data = encode(image, density=density, effort=effort)
    write_bytes(out / "astronaut.spx", data)
    save_image(out / "original.png", image)
    _, canvas, mask = decode_samples(data)
    save_image(out / "samples.png", canvas)
    bpp = 8 * len(data) / mask.size
    click.echo(
        f"astronaut 512x512, effort {effort} ({EFFORTS[effort].summary}), {100 * density:g} % kept: "
        f"{len(data)} bytes, {bpp:.3f} bpp  ->  {out}/"
    )
    decoders = {name: rec for name, rec in catalog.available().items() if rec.decodes_samples}
    for name, rec in sorted(decoders.items()):
        t0 = time.perf_counter()
        image_out = reconstructors.reconstruct(rec, canvas, mask, "auto")
        seconds = time.perf_counter() - t0
        save_image(out / f"{name}.png", image_out)
        click.echo(f"  {name:<12} {psnr(image, image_out):6.2f} dB  {seconds:6.3f} s  {rec.description}")


def passthrough(name: str, module: str, summary: str) -> click.Command:
    """A command that hands its arguments to `module.main()` (an argparse tool) under the name
    `sparsepix ... NAME`; `--help` is the tool's own."""

    @click.command(
        name, help=summary, add_help_option=False, context_settings={"ignore_unknown_options": True}
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    @click.pass_context
    def command(ctx: click.Context, args: tuple[str, ...]) -> None:
        sys.argv = [ctx.command_path, *args]
        importlib.import_module(module).main()

    return command


def run(group: click.Group = cli) -> None:
    """Run a command group with the codec's error conventions (see the module docstring)."""
    command = _command_names(group, sys.argv[1:])  # before a passthrough tool rewrites argv
    if sys.stdout is None:  # started with fd 1 closed: what would go there fails as a write
        sys.stdout = _ClosedStdout()
    try:
        try:
            group.main(prog_name="sparsepix", standalone_mode=False)
        finally:
            sys.stdout.flush()  # here, not at exit, where a failure would be a traceback
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:  # one line too, exit 2, with where to read more
        where = exc.ctx.command_path if exc.ctx else "sparsepix"
        _fail(f"{exc.format_message()} (see {where} --help)")
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        _fail("aborted")
        sys.exit(1)
    except SparsepixError as exc:  # raised outside a batch (e.g. while listing inputs)
        _fail(str(exc))
        sys.exit(1)
    except ImportError as exc:  # torch, in an install that decodes without it (models/lean.py)
        if exc.name != "torch":
            raise
        _fail(f"{' '.join(command)} needs torch, which is not installed: {TORCH_INSTALL}")
        sys.exit(1)
    except KeyboardInterrupt:
        _fail("interrupted")
        sys.exit(130)
    except BrokenPipeError:  # the reader of stdout left (`| head`): quiet, as other tools
        _silence_stdout()
        sys.exit(1)
    except OSError as exc:  # stdout full or closed (`> /dev/full`, `>&-`)
        _silence_stdout()
        _fail(f"cannot write to standard output ({exc.strerror or exc})")
        sys.exit(1)


def _command_names(group: click.Group, args: list[str]) -> list[str]:
    """The command the arguments name, through nested groups: `sparsepix bench recon`."""
    names, node = ["sparsepix"], group
    for arg in args:
        command = node.commands.get(arg) if isinstance(node, click.Group) else None
        if command is None:
            break
        names.append(arg)
        node = command
    return names


class _ClosedStdout:
    """sys.stdout when the process started without one: writing fails as a closed fd does."""

    def write(self, text: str) -> int:
        raise OSError(9, "standard output is closed")

    def flush(self) -> None:
        pass

    buffer = property(lambda self: self)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush at exit cannot fail again."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        sys.stdout = open(os.devnull, "w")
