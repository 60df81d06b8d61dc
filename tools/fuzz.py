"""Structure-aware fuzzing of the decoder: mutated .spx files, each decoded in a capped worker.

    python -m sparsepix.tools.fuzz --cases 20000 --workers 2 --json fuzz.json
    python -m sparsepix.tools.fuzz --model auto ...   # each file's own model: learned too

Seeds are the golden files (tests/golden/) and files the harness encodes itself. Each case
mutates one seed (bit flips, truncation, header field edits, lying section lengths, zstd bombs,
sections swapped between seeds or renamed, bytes inserted or deleted, the claimed size grown) and
then recomputes every
CRC it can, so the mutation reaches the parser and the decoders instead of the checksum. A
worker process decodes each case under a memory cap (RLIMIT_AS) and a time alarm and reports
one outcome: `ok` (an image of the header's shape), `refused` (a SparsepixError), or a finding:
`untyped` (any other exception), `wrong-shape`, `slow` (over the time cap), `crash` (the worker
died). It also records seconds per claimed megapixel and bytes of peak-memory growth per claimed
pixel, charging images below a quarter megapixel as a quarter megapixel (their fixed costs are
not work per pixel), and seconds per kilobyte of file, charging files below 1 KB as 1 KB.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue
import struct
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

# The container's own layout and section checksum, so the mutations track the format.
from sparsepix.bitstream.container import _FIXED as HEADER
from sparsepix.bitstream.container import _SECTION as SECTION
from sparsepix.bitstream.container import _section_crc

KINDS = ("bitflip", "truncate", "header", "length", "bomb", "swap", "rename", "splice", "grow")
MIN_PIXELS = 250_000
GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "golden"


def layout(data: bytes) -> tuple[int, list[tuple[int, bytes, int, int]]] | None:
    """(header end, [(offset, tag, stored_len, raw_len)]) of a well-formed file, else None."""
    if len(data) < HEADER.size + 5:
        return None
    model_len = data[HEADER.size - 1]
    end = HEADER.size + model_len + 1
    if len(data) < end + 4:
        return None
    n, pos, sections = data[end - 1], end + 4, []
    for _ in range(n):
        if len(data) < pos + SECTION.size:
            return None
        tag, stored, raw, _ = SECTION.unpack_from(data, pos)
        sections.append((pos, tag, stored, raw))
        pos += SECTION.size + stored
    return end, sections


def fix_crcs(data: bytes) -> bytes:
    """Recompute the header's and every section's CRC where the structure still parses."""
    shape = layout(data)
    if shape is None:
        return data
    end, sections = shape
    out = bytearray(data)
    out[end : end + 4] = struct.pack("<I", zlib.crc32(bytes(out[:end])))
    for pos, tag, stored, raw in sections:
        body = bytes(out[pos + SECTION.size : pos + SECTION.size + stored])
        if len(body) == stored:
            out[pos + 12 : pos + 16] = struct.pack("<I", _section_crc(tag, stored, raw, body))
    return bytes(out)


def mutate(seed: bytes, other: bytes, rng: np.random.Generator, kind: str) -> bytes:
    data = bytearray(seed)
    shape = layout(seed)
    end, sections = shape if shape else (len(seed), [])
    if kind == "bitflip":
        for _ in range(int(rng.integers(1, 9))):
            i = int(rng.integers(len(data)))
            data[i] ^= 1 << int(rng.integers(8))
    elif kind == "truncate":
        bounds = (
            [4, HEADER.size, end, end + 4]
            + [p for p, *_ in sections]
            + [p + SECTION.size for p, *_ in sections]
        )
        cut = (
            int(rng.choice(bounds)) + int(rng.integers(-2, 3))
            if rng.random() < 0.7
            else int(rng.integers(len(data)))
        )
        data = data[: max(0, min(cut, len(data) - 1))]
    elif kind == "header":
        fields = HEADER.unpack_from(seed)
        i = int(rng.integers(1, len(fields)))
        limits = {
            1: 255,
            2: 255,
            3: 2**32 - 1,
            4: 2**32 - 1,
            5: 255,
            6: 255,
            7: 255,
            8: 255,
            9: 2**64 - 1,
            10: 2**32 - 1,
            11: 255,
        }
        choices = [0, 1, 2, 3, limits[i], int(rng.integers(0, min(limits[i], 2**62) + 1))]
        value = choices[int(rng.integers(len(choices)))]  # python ints: no float rounding
        fields = list(fields)
        fields[i] = value
        if i == 11:  # the model reference's length: keep the bytes where the parser looks
            data = bytearray(HEADER.pack(*fields)) + data[HEADER.size :]
        else:
            data[: HEADER.size] = HEADER.pack(*fields)
    elif kind == "length" and sections:
        pos, tag, stored, raw = sections[int(rng.integers(len(sections)))]
        which = int(rng.integers(2))
        choices = [0, 1, stored, raw, 2**31, 2**32 - 1, int(rng.integers(0, 1 << 24))]
        value = choices[int(rng.integers(len(choices)))]
        struct.pack_into("<I", data, pos + 4 + 4 * which, value)
    elif kind == "bomb" and sections:
        import zstandard

        pos, tag, stored, raw = sections[int(rng.integers(len(sections)))]
        size = [raw * 2, 1 << 20, 1 << 26][int(rng.integers(3))]
        payload = zstandard.ZstdCompressor(level=3, write_content_size=True).compress(bytes(size))
        body = SECTION.pack(tag, len(payload), size, 0) + payload
        data = data[:pos] + body + data[pos + SECTION.size + stored :]
    elif kind == "swap" and sections:
        other_shape = layout(other)
        if other_shape and other_shape[1]:
            pos, _, stored, _ = sections[int(rng.integers(len(sections)))]
            opos, _, ostored, _ = other_shape[1][int(rng.integers(len(other_shape[1])))]
            data = (
                data[:pos] + other[opos : opos + SECTION.size + ostored] + data[pos + SECTION.size + stored :]
            )
    elif kind == "rename" and sections:
        pos = sections[int(rng.integers(len(sections)))][0]
        tags = [b"MASK", b"VALS", b"VAL2", b"vals", b"xyz!", b"\x00\x00\x00\x00"]
        data[pos : pos + 4] = tags[int(rng.integers(len(tags)))]
    elif kind == "grow":  # a small file claiming a larger image: the work-per-byte attack
        fields = list(HEADER.unpack_from(seed))
        fields[3], fields[4] = (int(np.exp(rng.uniform(np.log(64), np.log(4096)))) for _ in range(2))
        data[: HEADER.size] = HEADER.pack(*fields)
    elif kind == "splice":
        i = int(rng.integers(len(data) + 1))
        if rng.random() < 0.5:
            data[i:i] = rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8).tobytes()
        else:
            del data[i : i + int(rng.integers(1, 9))]
    data = bytes(data)
    return fix_crcs(data) if rng.random() < 0.9 else data


def seeds() -> list[bytes]:
    """The golden files of every format version, plus a few the harness encodes: larger,
    adaptive, naming a classical or a learned model."""
    import sparsepix
    from sparsepix import catalog

    found = [p.read_bytes() for p in sorted(GOLDEN.rglob("*.spx"))]
    rng = np.random.default_rng(0)
    photo = (rng.random((96, 128, 3)) * 64 + np.linspace(0, 190, 128)[None, :, None]).astype(np.uint8)
    found.append(sparsepix.encode(photo, density=0.2, sampler="adaptive", seed=1, model=""))
    found.append(sparsepix.encode(photo[..., 0], density=0.05, sampler="sobel", seed=2, model=""))
    found.append(sparsepix.encode(photo, density=0.02, values="raw8", seed=3, model="linear"))
    for name in ("natural", "natural-opt", "faces"):  # files whose own model is learned
        if name in catalog.available():
            found.append(sparsepix.encode(photo, density=0.05, seed=4, model=name))
    return found


def _claimed_pixels(data: bytes) -> int:
    if len(data) < HEADER.size:
        return 0
    fields = HEADER.unpack_from(data)
    return fields[3] * fields[4]


def _address_space() -> int:
    """This process's virtual size in bytes (Linux), else 0."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _worker(jobs, results, memory_bytes: int, seconds: int, model: str) -> None:
    import resource
    import signal

    import sparsepix
    from sparsepix.bitstream import parse_header

    def alarm(*_):
        raise TimeoutError

    signal.signal(signal.SIGALRM, alarm)
    warm = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)  # lazy imports,
    for sampler in ("random", "sobel", "adaptive"):  # first-call costs: not the cases' work
        sparsepix.decode(sparsepix.encode(warm, density=0.1, sampler=sampler, model=""), model="linear")
    if model == "auto":  # the learned models the seeds name: torch and their weights, loaded once
        for name in ("natural", "natural-opt", "faces"):
            if name in sparsepix.catalog.available():
                sparsepix.decode(sparsepix.encode(warm, density=0.1, model=name), device="cpu")
    # On top of what the worker holds by now: a fork of a large process (a test session that has
    # run torch) may already hold more address space than the cap, and would then fail every case.
    cap = memory_bytes + _address_space()
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    while (job := jobs.get()) is not None:
        index, kind, data = job
        start, outcome, detail = time.perf_counter(), "ok", ""
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        signal.alarm(seconds)
        try:
            out = sparsepix.decode(data, model=model, device="cpu")
            header = parse_header(data)[0]
            expected = (header.height, header.width) + ((3,) if header.channels == 3 else ())
            if out.shape != expected or out.dtype != np.uint8:
                outcome, detail = "wrong-shape", f"{out.shape} for {expected}"
        except TimeoutError:
            outcome = "slow"
        except sparsepix.SparsepixError:
            outcome = "refused"
        except Exception as exc:  # noqa: BLE001 - what the harness is looking for
            outcome, detail = "untyped", f"{type(exc).__name__}: {str(exc)[:120]}"
        finally:
            signal.alarm(0)
        seconds_taken = time.perf_counter() - start
        grown = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
        results.put((index, kind, outcome, detail, seconds_taken, grown, _claimed_pixels(data), len(data)))
    results.put(None)


def campaign(
    cases: int, workers: int, seed: int, memory_mb: int = 2048, seconds: int = 20, model: str = "linear"
) -> dict:
    """Run `cases` mutations, decoded with `model` ("auto": each file's own); returns counts per
    outcome and kind, the findings, and the worst seconds per claimed megapixel, bytes per
    claimed pixel and seconds per kilobyte of file."""
    pool = seeds()
    rng = np.random.default_rng(seed)
    ctx = mp.get_context("fork" if sys.platform != "win32" else "spawn")
    jobs, results = ctx.Queue(maxsize=4 * workers), ctx.Queue()
    cases_sent: dict[int, tuple[str, bytes]] = {}

    def start() -> mp.Process:
        args = (jobs, results, memory_mb << 20, seconds, model)
        proc = ctx.Process(target=_worker, args=args, daemon=True)
        proc.start()
        return proc

    procs = [start() for _ in range(workers)]
    counts, findings = Counter(), []
    worst = {"s_per_mp": 0.0, "bytes_per_pixel": 0.0, "small_file_s": 0.0, "s_per_kb": 0.0}
    done, sent, last = 0, 0, time.monotonic()
    while done < cases:
        while sent < cases and not jobs.full():
            kind = KINDS[int(rng.integers(len(KINDS)))]
            a, b = (pool[int(i)] for i in rng.integers(len(pool), size=2))
            data = mutate(a, b, rng, kind)
            cases_sent[sent] = (kind, data)
            jobs.put((sent, kind, data))
            sent += 1
        try:
            item = results.get(timeout=1)
        except queue.Empty:
            # A worker that died (a signal, the memory cap, an error outside a case) lost the
            # case it held: count it and start another.
            for i, proc in enumerate(procs):
                if not proc.is_alive():
                    counts["crash"] += 1
                    done += 1
                    findings.append({"outcome": "crash", "detail": f"worker exit code {proc.exitcode}"})
                    procs[i] = start()
            if time.monotonic() - last > seconds + 60:
                findings.append({"outcome": "crash", "detail": "no answer from any worker"})
                counts["crash"] += 1
                break
            continue
        last = time.monotonic()
        if item is None:
            continue
        index, kind, outcome, detail, taken, grown, pixels, size = item
        cases_sent.pop(index, None)
        done += 1
        counts[outcome] += 1
        counts[f"{kind}:{outcome}"] += 1
        if outcome not in ("ok", "refused"):
            findings.append(
                {
                    "kind": kind,
                    "outcome": outcome,
                    "detail": detail,
                    "file_hex": "" if size > 4096 else cases_sent.get(index, ("", b""))[1].hex(),
                }
            )
        if pixels:  # small images are charged as MIN_PIXELS: fixed costs are no work per pixel
            charged = max(pixels, MIN_PIXELS)
            if taken / (charged / 1e6) > worst["s_per_mp"]:
                worst["s_per_mp"] = taken / (charged / 1e6)
                worst["slowest"] = f"{kind}, {pixels} px, {size} B, {outcome}"
            worst["bytes_per_pixel"] = max(worst["bytes_per_pixel"], grown / charged)
        if taken / (max(size, 1024) / 1024) > worst["s_per_kb"]:
            worst["s_per_kb"] = taken / (max(size, 1024) / 1024)
            worst["slowest_per_kb"] = f"{kind}, {pixels} px, {size} B, {outcome}"
        if size < 1024 and taken > worst["small_file_s"]:
            worst["small_file_s"] = taken
            worst["slowest_small"] = f"{kind}, {pixels} px, {size} B, {outcome}"
    for proc in procs:
        proc.terminate()
    return {"cases": done, "counts": dict(sorted(counts.items())), "worst": worst, "findings": findings[:50]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-mb", type=int, default=2048, help="address space a worker may add")
    parser.add_argument("--seconds", type=int, default=20, help="time cap per case")
    parser.add_argument("--model", default="linear", help="decode with this model; auto: each file's own")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    start = time.perf_counter()
    report = campaign(args.cases, args.workers, args.seed, args.memory_mb, args.seconds, args.model)
    report["model"] = args.model
    report["wall_s"] = round(time.perf_counter() - start, 1)
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    bad = sum(report["counts"].get(k, 0) for k in ("untyped", "wrong-shape", "slow", "crash"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
