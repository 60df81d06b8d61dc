"""The public Python API: encode, decode, inspect, and their file helpers."""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass

import numpy as np

from sparsepix import catalog
from sparsepix.bitstream import Header, Limits, parse, parse_header
from sparsepix.bitstream.limits import MAX_SIDE
from sparsepix.codec import reconstructors, sections
from sparsepix.codec.files import check_not_input, check_path, read_bytes, write_bytes
from sparsepix.codec.imageio import as_image_array, load_image, save_image
from sparsepix.codec.pages import no_hugepage_advice
from sparsepix.codec.predictive import stored_chroma_skip
from sparsepix.codec.quality import DEFAULT_QUALITY, params_for_quality
from sparsepix.codec.samplers import SAMPLER_BY_ID, get_sampler, sample_count
from sparsepix.codec.values import PRED, VALUE_MODES
from sparsepix.effort import DEFAULT_EFFORT, Effort, get_effort
from sparsepix.errors import BitstreamError, InputError, SparsepixError, memory_errors_typed


def content_seed(image: np.ndarray) -> int:
    """A seed derived from the pixels, so `seed=None` is reproducible yet differs per image."""
    digest = hashlib.blake2b(image.tobytes(), digest_size=8, person=b"sparsepix-seed")
    return int.from_bytes(digest.digest(), "little")


@memory_errors_typed("encoding")
def encode(
    image: object,
    density: float = 0.05,
    sampler: str | None = None,
    seed: int | None = None,
    values: str = "pred",
    quality: int = DEFAULT_QUALITY,
    chroma_skip: int | None = None,
    model: str = "auto",
    optimize: int | None = None,
    effort: int = DEFAULT_EFFORT,
) -> bytes:
    """Encode an image into .spx bytes, keeping `density` of its pixels.

    image: uint8 numpy array (H, W) or (H, W, 3), or a PIL image.
    sampler: "random" (positions cost only the seed), "adaptive" (a density per 16-64 px block
        chosen for the `linear` fill's error, a byte a block before zstd, random inside each
        block) or "sobel" (edge-weighted from the image, positions stored); None: the effort's.
    seed: seed of the sampling PRNG; None derives one from the image content.
    values: value coding: "pred" (lossy: YCoCg, quantised, predicted coarse to fine) or "raw8"
        (exact 8-bit samples).
    quality: 1..100 for "pred": 75 quantises luma with step 8 and chroma with step 16, each
        12.5 points less doubles the steps. The default, 65 (steps 14 and 28, finest level
        luma-only), is the rate-distortion trade the shipped models were trained on; 70
        (steps 11 and 22, chroma on every level) is the fidelity point (docs/DECISIONS.md).
    chroma_skip: for "pred", how many of the finest levels carry luma only; None: 1 below
        quality 70, else 0.
    model: the model the decoder should use, written into the file with its version: "auto"
        names the default shipped model when installed (`natural`; `natural-opt` for tuned
        values), "" names none (decoders then use `linear`).
    optimize: tonal optimisation steps (0 = off): store the values that make the intended
        reconstructor's output closest to the image (least squares for "linear" and
        "natural-opt"; gradient steps through other learned generators), then quantise them.
        None: the effort's, for pred values and models tuned by least squares, else 0.
    effort: 0..4, how hard the encoder searches (effort.py): it picks the sampler and the
        tuning that `sampler` and `optimize` leave as None, from 3 has the adaptive sampler
        choose its densities by the decoder's error, and at 4 refines pred values for a learned
        decoder by gradient steps through it (needs torch).
    """
    level = get_effort(effort)
    sampler = level.sampler if sampler is None else sampler
    _check_encode_args(density, sampler, seed, values, quality, chroma_skip, model, optimize)
    img = as_image_array(image)
    h, w = img.shape[:2]
    _check_decodable(h, w)
    spec = get_sampler(sampler)
    if values not in VALUE_MODES:
        raise InputError(f"unknown value mode {values!r}; choose one of {', '.join(VALUE_MODES)}")
    if seed is None:
        seed = content_seed(img)
    if not 0 <= seed < 1 << 64:
        raise InputError("seed must be an integer in [0, 2**64)")
    written, named, optimize = _model_and_tuning(model, optimize, level, values)
    count = sample_count(h, w, density)
    mode = VALUE_MODES[values]
    refine = level.refine and mode == PRED and named.learned
    if refine:  # before the search, not after it
        from sparsepix.models.registry import needs_torch

        needs_torch("effort 4 (values refined through the decoder)")
    params = params_for_quality(quality, chroma_skip) if mode == PRED else None
    fill = _decoder_fill(named, img, optimize) if level.levels_by_decoder else None
    mask, side = spec.place(img, seed, count, fill)
    samples = img[mask].reshape(count, -1)
    if optimize > 0:
        samples = named.tune(img, mask, optimize)  # codec/tonal.py, models/tuning.py
    if refine:
        samples = named.refine(img, mask, samples)
    header = Header(
        width=w,
        height=h,
        channels=1 if img.ndim == 2 else 3,
        sampler=spec.id,
        value_mode=mode,
        value_param=quality if mode == PRED else 0,
        seed=seed,
        count=count,
        model=written,
    )
    network = named.macs_per_pixel * named.passes(None, h * w)  # what decoders will run (0: classical)
    return sections.to_bytes(header, mask, samples, side, params, network)


def _decoder_fill(named: reconstructors.Reconstructor, image: np.ndarray, steps: int):
    """What an adaptive sampler that searches with the decoder minimises: `named`'s one-pass
    reconstruction of `image` kept at a mask, from values tuned as the file's will be."""

    def fill(canvas: np.ndarray, mask: np.ndarray) -> np.ndarray:
        kept = np.zeros_like(image)
        kept[mask] = named.tune(image, mask, steps).reshape(kept[mask].shape) if steps else image[mask]
        kept = kept.reshape(*mask.shape, -1)  # (H, W, C), grey too
        return reconstructors.reconstruct(named, kept, mask, "auto", ensemble=1).reshape(canvas.shape)

    return fill


def _model_and_tuning(
    model: str, optimize: int | None, level: Effort, values: str
) -> tuple[str, reconstructors.Reconstructor, int]:
    """The model a file names ("" for none), the reconstructor that decodes it (`linear` for
    none) and the tuning steps its encoder runs, where `optimize` None leaves the steps to the
    effort level (which keeps raw8 samples exact)."""
    effort_steps = level.optimize if values == "pred" else 0
    if model == "auto":
        ref = catalog.default_ref(tuned=(effort_steps if optimize is None else optimize) > 0)
        written = str(ref) if ref is not None else ""
    elif model:
        written = str(catalog.as_decoder(catalog.get(model)).ref)  # fail now, not at decode time
    else:
        written = ""
    named = catalog.for_file(written)
    if optimize is None:  # a level's tuning is least squares only (effort 4 refines after it)
        optimize = effort_steps if named.tunes_cheaply else 0
    return written, named, optimize


def encode_settings(
    effort: int = DEFAULT_EFFORT,
    sampler: str | None = None,
    model: str = "auto",
    optimize: int | None = None,
    values: str = "pred",
) -> tuple[str, str, int]:
    """What `encode` runs with these arguments: (sampler, the model the file names ("" for
    none), tonal optimisation steps)."""
    level = get_effort(effort)
    sampler = level.sampler if sampler is None else sampler
    _check_settings(sampler, values, model, optimize)
    written, _, steps = _model_and_tuning(model, optimize, level, values)
    return sampler, written, steps


def _check_decodable(h: int, w: int) -> None:
    """Refuse now what decoders would refuse later (bitstream/limits.py)."""
    limits = Limits.from_env()
    if h * w > limits.max_pixels or max(h, w) > MAX_SIDE:
        raise InputError(
            f"a {w}x{h} image is over the {limits.max_pixels:,} pixels (or {MAX_SIDE} per side) that "
            "decoders accept; raise SPARSEPIX_MAX_PIXELS to encode and decode it"
        )


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_encode_args(density, sampler, seed, values, quality, chroma_skip, model, optimize) -> None:
    """Wrong types are InputErrors here, not struct or numpy errors deep in the coder."""
    if (
        not isinstance(density, (int, float, np.floating))
        or isinstance(density, bool)
        or not np.isfinite(density)
    ):
        raise InputError(f"density must be a finite number, not {density!r}")
    _check_settings(sampler, values, model, optimize)
    for name, value, optional in (
        ("seed", seed, True),
        ("quality", quality, False),
        ("chroma_skip", chroma_skip, True),
    ):
        if not (_is_int(value) or (optional and value is None)):
            raise InputError(f"{name} must be a whole number, not {value!r}")


def _check_settings(sampler, values, model, optimize) -> None:
    """The arguments `encode_settings` shares with `encode`, checked as `encode` checks them."""
    for name, value in (("sampler", sampler), ("values", values), ("model", model)):
        if not isinstance(value, str):
            raise InputError(f"{name} must be a string, not {value!r}")
    if not (_is_int(optimize) or optimize is None):
        raise InputError(f"optimize must be a whole number, not {optimize!r}")
    if optimize is not None and optimize < 0:
        raise InputError(f"optimize must be 0 or more, not {optimize}")


def decode_samples(data: bytes, limits: Limits | None = None) -> tuple[Header, np.ndarray, np.ndarray]:
    """Parse a file into (header, canvas (H, W, C) uint8 with zeros off-mask, mask (H, W) bool)."""
    return sections.from_bytes(data, _checked_limits(limits))


@memory_errors_typed("decoding")
def decode(
    data: bytes,
    model: str = "auto",
    device: str = "auto",
    limits: Limits | None = None,
    ensemble: int | None = None,
    strict: bool = False,
) -> np.ndarray:
    """Decode .spx bytes to a uint8 image: (H, W, 3) for colour files, (H, W) for grayscale.

    model: a model name (see `sparsepix.catalog.available()`), or "auto" for the model the
    file names (the installed version of it), else `linear`.
    device: "auto" (CUDA when available), "cpu" or "cuda"; classical models use the CPU.
    ensemble: learned models run their network on this many symmetries of the image (1, 2, 4
    or 8) and average; None: the model's own (its card's `ensemble`, fewer on large images:
    codec/ensemble.py). 1 decodes fastest.
    strict: refuse a file written for another version of the model than the installed one.
    """
    return decode_many([data], model, device, limits, ensemble, strict)[0]  # type: ignore[return-value]


@memory_errors_typed("decoding")
@no_hugepage_advice()
def decode_many(
    datas: list[bytes],
    model: str = "auto",
    device: str = "auto",
    limits: Limits | None = None,
    ensemble: int | None = None,
    strict: bool = False,
    batch: int | None = None,
    errors: str = "raise",
) -> list[np.ndarray | SparsepixError]:
    """`decode` for several files, results in input order. Learned models run up to `batch`
    same-sized images per network call: the way to keep a GPU busy. None: 8 on CUDA, 1 on a
    CPU, where batching is slower. The images are `decode`'s, up to the rounding of batched
    convolutions.

    errors: "raise" raises the first file's error; "return" puts each failing file's
    `SparsepixError` in its place and decodes the rest.
    """
    if errors not in ("raise", "return"):
        raise InputError(f"errors must be 'raise' or 'return', not {errors!r}")
    if datas is None or isinstance(datas, (bytes, bytearray, memoryview, str)):
        raise InputError("decode_many takes a list of files' bytes (for one file, use decode)")
    try:
        datas = list(datas)
    except TypeError:
        raise InputError(f"decode_many takes a list of files' bytes, not {type(datas).__name__}") from None
    limits = _checked_limits(limits)
    if batch is not None and (not _is_int(batch) or batch < 1):
        raise InputError(f"batch must be None or a whole number of at least 1, not {batch!r}")
    if not isinstance(model, str) or not isinstance(device, str):
        raise InputError("model and device must be strings")
    results: list[np.ndarray | SparsepixError | None] = [None] * len(datas)
    groups: dict[str, list[tuple[int, Header, np.ndarray, np.ndarray]]] = {}
    recs: dict[str, reconstructors.Reconstructor] = {}
    for i, data in enumerate(datas):
        try:
            header, canvas, mask = decode_samples(data, limits)
            rec = catalog.for_file(header.model, model, strict)
            _check_work(len(data), header, rec, rec.passes(ensemble, header.pixels), limits)
        except SparsepixError as exc:
            if errors == "raise":
                raise
            results[i] = exc
            continue
        recs[rec.name] = rec
        groups.setdefault(rec.name, []).append((i, header, canvas, mask))
    for name, members in groups.items():
        canvases, masks = [m[2] for m in members], [m[3] for m in members]
        outs = reconstructors.reconstruct_batch(recs[name], canvases, masks, device, ensemble, batch)
        for (i, header, _, _), out in zip(members, outs):
            results[i] = out[..., 0] if header.channels == 1 else out
    return results  # type: ignore[return-value]


def _checked_limits(limits: object) -> Limits:
    if limits is None:
        return Limits.from_env()
    if not isinstance(limits, Limits):
        raise InputError(f"limits must be a sparsepix.Limits or None, not {type(limits).__name__}")
    return limits


def _check_work(
    size: int, header: Header, rec: reconstructors.Reconstructor, passes: int, limits: Limits
) -> None:
    """Refuse a decode whose network work is out of proportion to the file's bytes: a small file
    must not make a learned model run for minutes (bitstream/limits.py)."""
    macs = header.pixels * rec.macs_per_pixel * passes
    needed = limits.bytes_for_network(macs)
    if size < needed:
        raise BitstreamError(
            f"decoding this {size}-byte {header.width}x{header.height} file with {rec.name} "
            f"({passes} pass{'es' if passes > 1 else ''}) would cost {macs:.2g} multiply-adds, out of "
            f"proportion to its size (it would need {needed:,} bytes); decode with --model linear "
            "or a lower --ensemble, or raise SPARSEPIX_MAX_WORK_PER_BYTE"
        )


def check_decodable(data: bytes, model: str = "auto", ensemble: int | None = None) -> None:
    """Raise what `decode` would raise before reconstructing: a malformed file, a missing model,
    or work out of proportion to the file's size. Reads the header and model cards only."""
    limits = Limits.from_env()
    header = read_header(data, limits)
    rec = catalog.for_file(header.model, model)
    _check_work(len(data), header, rec, rec.passes(ensemble, header.pixels), limits)


@dataclass(frozen=True)
class FileInfo:
    width: int
    height: int
    channels: int
    sampler: str
    value_mode: str
    seed: int
    samples: int
    density: float
    quality: int | None  # pred values: the quality they were coded at; raw8: None
    chroma_skip: int | None  # pred values: finest levels without chroma
    model: str  # as the file names it
    decodes_with: str  # what decodes it here by default ("" when not installed)
    total_bytes: int
    header_bytes: int
    section_bytes: dict[str, int]
    bpp: float
    bits_per_sample: float

    def as_dict(self) -> dict:
        return asdict(self)


@memory_errors_typed("reading a file")
def inspect(data: bytes, limits: Limits | None = None) -> FileInfo:
    """Describe a .spx file (validating it fully) without reconstructing the image."""
    spx = parse(data, _checked_limits(limits))
    h = spx.header
    modes = {v: k for k, v in VALUE_MODES.items()}
    sampler = SAMPLER_BY_ID.get(h.sampler)
    return FileInfo(
        width=h.width,
        height=h.height,
        channels=h.channels,
        sampler=sampler.name if sampler else f"unknown({h.sampler})",
        value_mode=modes.get(h.value_mode, f"unknown({h.value_mode})"),
        seed=h.seed,
        samples=h.count,
        density=h.count / h.pixels,
        quality=h.value_param if h.value_mode == PRED else None,
        chroma_skip=stored_chroma_skip(spx.sections.get(sections.VALUES_TAG, b""))
        if h.value_mode == PRED
        else None,
        model=h.model,
        decodes_with=_decodes_with(h.model),
        total_bytes=len(data),
        header_bytes=spx.header_size,
        section_bytes={tag.decode("ascii", "replace"): n for tag, n in spx.section_sizes.items()},
        bpp=8 * len(data) / h.pixels,
        bits_per_sample=8 * len(data) / h.count,
    )


def _decodes_with(file_model: str) -> str:
    try:
        return str(catalog.for_file(file_model).ref)
    except SparsepixError:
        return ""


def read_header(data: bytes, limits: Limits | None = None) -> Header:
    """Only the validated header (cheap: no section is inflated)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise BitstreamError(f"expected bytes, got {type(data).__name__}")
    return parse_header(bytes(data), _checked_limits(limits))[0]


def encode_file(src: str | os.PathLike, dst: str | os.PathLike, **kwargs) -> int:
    """Encode an image file to a .spx file. Returns the bytes written.

    The output is written as `cp` writes (codec/files.py): atomically over a regular file,
    through a symbolic link, directly into a device; never over `src` itself. For a size target
    instead of a density, see `sparsepix.encode_to_size`.
    """
    src, dst = check_path(src, "src"), check_path(dst, "dst")
    check_not_input(src, dst)
    data = encode(load_image(src), **kwargs)
    write_bytes(dst, data, src)
    return len(data)


def decode_file(src: str | os.PathLike, dst: str | os.PathLike, **kwargs) -> np.ndarray:
    """Decode a .spx file to an image file (format from the extension), written as
    `encode_file` writes."""
    src, dst = check_path(src, "src"), check_path(dst, "dst")
    check_not_input(src, dst)
    image = decode(read_bytes(src), **kwargs)
    save_image(dst, image, src)
    return image
