"""The format's compatibility promise: committed files keep decoding to the same samples, and
the encoder keeps writing the same bytes (tests/golden/regenerate.py made them). Files of an
earlier format version stay in tests/golden/vN/ and must decode forever."""

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

import sparsepix
from sparsepix.api import decode_samples
from sparsepix.bitstream import VERSION, parse_header
from sparsepix.codec.samplers import SAMPLERS
from sparsepix.metrics import psnr

GOLDEN = Path(__file__).resolve().parent / "golden"
SETS = {VERSION: GOLDEN, 1: GOLDEN / "v1", 2: GOLDEN / "v2"}  # format version -> folder
MANIFESTS = {v: json.loads((folder / "manifest.json").read_text()) for v, folder in SETS.items()}
CASES = [(v, name) for v, manifest in MANIFESTS.items() for name in sorted(manifest)]
MANIFEST = MANIFESTS[VERSION]
_spec = importlib.util.spec_from_file_location("regenerate", GOLDEN / "regenerate.py")
regenerate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regenerate)


@pytest.mark.parametrize("version", sorted(SETS))
def test_every_sampler_and_value_mode_is_pinned(version):
    """Versions 1 and 2 named their two-stage sampler (now `edges`, pred only) "adaptive"."""
    pinned = {(c["options"]["sampler"], c["options"]["values"]) for c in MANIFESTS[version].values()}
    modes = {"pred", "raw8"}
    if version < 3:
        assert pinned == {(s, m) for s in ("random", "sobel") for m in modes} | {("adaptive", "pred")}
    else:
        encodable = [name for name, sampler in SAMPLERS.items() if sampler.encodes]
        assert pinned == {(s, m) for s in encodable for m in modes}


@pytest.mark.parametrize("version, name", CASES)
def test_golden_file_decodes_to_its_pinned_samples(version, name):
    case = MANIFESTS[version][name]
    blob = (SETS[version] / f"{name}.spx").read_bytes()
    assert hashlib.sha256(blob).hexdigest() == case["sha256"]
    assert blob[4] == version
    header, canvas, mask = decode_samples(blob)
    assert header.model == ""
    assert regenerate.digest(canvas) == case["samples_sha256"]
    assert regenerate.digest(mask) == case["mask_sha256"]
    # The fill itself may differ in co-circular ties across OpenCV builds; its quality may not.
    assert psnr(regenerate.image(), sparsepix.decode(blob, model="linear")) == pytest.approx(
        case["linear_psnr"], abs=0.01
    )


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_encoder_still_writes_the_golden_header_and_samples(name):
    """Byte-for-byte but for the zstd payloads, whose bytes a zstd release may change."""
    options = MANIFEST[name]["options"]
    blob = sparsepix.encode(regenerate.image(), density=0.1, seed=7, model="", optimize=0, **options)
    golden = (GOLDEN / f"{name}.spx").read_bytes()
    size = parse_header(golden)[2]
    assert blob[:size] == golden[:size]
    _, canvas, mask = decode_samples(blob)
    assert regenerate.digest(canvas) == MANIFEST[name]["samples_sha256"]
    assert regenerate.digest(mask) == MANIFEST[name]["mask_sha256"]
