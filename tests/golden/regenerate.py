"""Write the golden .spx files and their manifest. Run only for a deliberate format change:
the test in tests/test_golden.py exists to catch every other one. With a new format version,
first move the files and manifest of the old one to tests/golden/vN/ (and name the folder in
tests/test_golden.py's SETS): they must keep decoding.

    python tests/golden/regenerate.py
"""

import hashlib
import json
from pathlib import Path

import numpy as np
from skimage import data

import sparsepix
from sparsepix.metrics import psnr

HERE = Path(__file__).resolve().parent
CASES = {  # name -> encode options; every sampler and value mode
    "random-pred": dict(sampler="random", values="pred", quality=65),
    "random-raw8": dict(sampler="random", values="raw8"),
    "sobel-pred": dict(sampler="sobel", values="pred", quality=70),
    "sobel-raw8": dict(sampler="sobel", values="raw8"),
    "adaptive-pred": dict(sampler="adaptive", values="pred", quality=65),
    "adaptive-raw8": dict(sampler="adaptive", values="raw8"),
}


def image() -> np.ndarray:
    return data.astronaut()[96:160, 160:240]  # 64x80: a face, an edge, flat background


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def main() -> None:
    img, manifest = image(), {}
    for name, options in CASES.items():
        blob = sparsepix.encode(img, density=0.1, seed=7, model="", optimize=0, **options)
        (HERE / f"{name}.spx").write_bytes(blob)
        _, canvas, mask = sparsepix.api.decode_samples(blob)
        manifest[name] = {
            "options": options,
            "sha256": hashlib.sha256(blob).hexdigest(),
            "samples_sha256": digest(canvas),
            "mask_sha256": digest(mask),
            "linear_psnr": round(psnr(img, sparsepix.decode(blob, model="linear")), 4),
        }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
