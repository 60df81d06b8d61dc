"""The format's compatibility promise: committed files keep decoding to the same samples, and
the encoder keeps writing the same bytes (tests/golden/regenerate.py made them)."""

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

import sparsepix
from sparsepix.api import decode_samples
from sparsepix.bitstream import parse_header
from sparsepix.metrics import psnr

GOLDEN = Path(__file__).resolve().parent / "golden"
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text())
_spec = importlib.util.spec_from_file_location("regenerate", GOLDEN / "regenerate.py")
regenerate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regenerate)


def test_every_sampler_and_value_mode_is_pinned():
    pinned = {(c["options"]["sampler"], c["options"]["values"]) for c in MANIFEST.values()}
    assert pinned == {
        ("random", "pred"),
        ("random", "raw8"),
        ("sobel", "pred"),
        ("sobel", "raw8"),
        ("adaptive", "pred"),
    }


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_golden_file_decodes_to_its_pinned_samples(name):
    case = MANIFEST[name]
    blob = (GOLDEN / f"{name}.spx").read_bytes()
    assert hashlib.sha256(blob).hexdigest() == case["sha256"]
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
    blob = sparsepix.encode(regenerate.image(), density=0.1, seed=7, model="", **options)
    golden = (GOLDEN / f"{name}.spx").read_bytes()
    size = parse_header(golden)[2]
    assert blob[:size] == golden[:size]
    _, canvas, mask = decode_samples(blob)
    assert regenerate.digest(canvas) == MANIFEST[name]["samples_sha256"]
    assert regenerate.digest(mask) == MANIFEST[name]["mask_sha256"]
