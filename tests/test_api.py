import numpy as np
import pytest
from PIL import Image

import sparsepix
from sparsepix.api import decode_samples
from sparsepix.codec import pages
from sparsepix.errors import InputError


@pytest.mark.parametrize("sampler", ["random", "sobel"])
def test_round_trip_keeps_samples_exactly(small_rgb, sampler):
    data = sparsepix.encode(small_rgb, density=0.1, sampler=sampler, seed=9, values="raw8")
    header, canvas, mask = decode_samples(data)
    assert (header.width, header.height, header.channels) == (101, 67, 3)
    assert mask.sum() == round(0.1 * 101 * 67)
    assert np.array_equal(canvas[mask], small_rgb[mask])
    out = sparsepix.decode(data, model="pushpull")
    assert out.shape == small_rgb.shape and np.array_equal(out[mask], small_rgb[mask])


def test_encoding_is_deterministic_and_seed_defaults_to_content(small_rgb):
    assert sparsepix.encode(small_rgb) == sparsepix.encode(small_rgb)
    other = small_rgb.copy()
    other[0, 0] ^= 1
    assert (
        sparsepix.inspect(sparsepix.encode(other)).seed != sparsepix.inspect(sparsepix.encode(small_rgb)).seed
    )


def test_grayscale_pil_and_odd_shapes(astronaut):
    gray = np.asarray(Image.fromarray(astronaut).convert("L"))[:51, :1]
    out = sparsepix.decode(sparsepix.encode(gray, density=0.2), model="linear")
    assert out.shape == (51, 1)
    pil = Image.fromarray(astronaut[:33, :70])
    assert sparsepix.decode(sparsepix.encode(pil)).shape == (33, 70, 3)
    assert sparsepix.decode(sparsepix.encode(np.zeros((1, 1, 3), np.uint8), density=0.5)).shape == (1, 1, 3)


def test_inspect_reports_real_sizes(small_rgb):
    data = sparsepix.encode(small_rgb, density=0.05, sampler="sobel")
    info = sparsepix.inspect(data)
    assert info.total_bytes == len(data)
    assert info.header_bytes + sum(info.section_bytes.values()) == len(data)
    assert set(info.section_bytes) == {"MASK", "VALS"}
    assert info.bpp == pytest.approx(8 * len(data) / (101 * 67))


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4), np.float32),
        np.zeros((4, 4, 5), np.uint8),
        np.zeros((0, 4, 3), np.uint8),
        "not an image",
        np.zeros((4,), np.uint8),
    ],
)
def test_bad_images_raise_input_error(bad):
    with pytest.raises(InputError):
        sparsepix.encode(bad)


def test_bad_arguments_raise_clear_errors(small_rgb):
    with pytest.raises(InputError, match="density"):
        sparsepix.encode(small_rgb, density=0.9)
    with pytest.raises(InputError, match="sampler"):
        sparsepix.encode(small_rgb, sampler="poisson")
    with pytest.raises(InputError, match="quality"):
        sparsepix.encode(small_rgb, quality=0)
    with pytest.raises(InputError, match="value mode"):
        sparsepix.encode(small_rgb, values="jpeg")
    with pytest.raises(sparsepix.SparsepixError, match="unknown model"):
        sparsepix.encode(small_rgb, model="nope")


def test_lossy_default_is_close_and_cheaper(small_rgb):
    lossy = sparsepix.encode(small_rgb, density=0.1, seed=9, effort=0)  # stored as sampled, untuned
    exact = sparsepix.encode(small_rgb, density=0.1, seed=9, values="raw8")
    assert sparsepix.inspect(lossy).value_mode == "pred" and len(lossy) < 0.6 * len(exact)
    _, canvas, mask = decode_samples(lossy)
    err = np.abs(canvas[mask].astype(int) - small_rgb[mask])
    assert err.mean() < 6
    finer = sparsepix.encode(small_rgb, density=0.1, seed=9, quality=100, chroma_skip=0, effort=0)
    _, canvas, _ = decode_samples(finer)
    assert np.abs(canvas[mask].astype(int) - small_rgb[mask]).max() <= 3  # luma step 2, chroma 4


def test_random_file_positions_cost_nothing(small_rgb):
    info = sparsepix.inspect(sparsepix.encode(small_rgb, sampler="random"))
    assert set(info.section_bytes) == {"VALS"}


@pytest.mark.data
def test_kodak_sobel_linear_quality(kodak_dir):
    img = np.asarray(Image.open(kodak_dir / "kodim23.png"))
    data = sparsepix.encode(img, density=0.05, sampler="sobel", values="raw8")
    out = sparsepix.decode(data, model="linear")
    mse = np.mean((out.astype(float) - img) ** 2)
    assert 10 * np.log10(255**2 / mse) > 28


def test_image_files_lists_one_way_for_every_command(tmp_path):
    """Training, benchmarks and the batch CLI all list folders through `image_files`."""
    from sparsepix.codec.imageio import image_files

    (tmp_path / "sub").mkdir()
    (tmp_path / "dir.png").mkdir()  # a folder with an image's name is not an image
    for name in ("b.PNG", "a.jpg", "notes.txt", "sub/c.webp"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in image_files(tmp_path)] == ["a.jpg", "b.PNG"]
    assert [p.name for p in image_files(tmp_path, recursive=True)] == ["a.jpg", "b.PNG", "c.webp"]
    assert [p.name for p in image_files(tmp_path, suffixes=frozenset({".jpg"}))] == ["a.jpg"]
    with pytest.raises(InputError, match="is not a folder"):
        image_files(tmp_path / "missing")


def test_unreadable_and_refused_files_name_themselves(tmp_path):
    """A batch reports each failing file by name, whether Pillow cannot read it or we refuse it."""
    from sparsepix.codec.imageio import load_image

    junk, deep = tmp_path / "junk.png", tmp_path / "deep.tif"
    junk.write_bytes(b"not an image")
    Image.fromarray(np.zeros((4, 4), np.float32)).save(deep)  # float samples
    with pytest.raises(InputError, match=r"junk\.png: not an image file"):
        load_image(junk)
    with pytest.raises(InputError, match=r"deep\.tif: F images .* not supported"):
        load_image(deep)


@pytest.mark.parametrize(
    "options",
    [
        {"quality": 70.5},
        {"seed": 1.5},
        {"density": float("nan")},
        {"density": "0.05"},
        {"model": None},
        {"sampler": 3},
        {"optimize": -1},
        {"chroma_skip": "1"},
    ],
)
def test_wrong_argument_types_are_input_errors(small_rgb, options):
    with pytest.raises(InputError):
        sparsepix.encode(small_rgb, **options)


@pytest.mark.parametrize("options", [{"ensemble": 2.0}, {"ensemble": "2"}, {"model": None}, {"device": 1}])
def test_wrong_decode_arguments_are_input_errors(small_rgb, options):
    data = sparsepix.encode(small_rgb, model="")
    with pytest.raises(InputError):
        sparsepix.decode(data, **options)


def test_pil_images_pillow_cannot_convert_are_input_errors():
    from PIL import Image

    for image in (Image.new("La", (4, 4)), Image.new("RGB", (0, 0))):
        with pytest.raises(InputError):
            sparsepix.encode(image)


def test_every_error_type_the_readme_names_is_exported():
    from sparsepix import errors

    for name in ("SparsepixError", "BitstreamError", "InputError", "ModelError", "ResourceError"):
        assert getattr(sparsepix, name) is getattr(errors, name)


def test_lazy_exports_are_listed_for_completion():
    lazy = {"encode", "decode", "inspect", "encode_file", "decode_file", "encode_to_size"}
    assert lazy <= set(dir(sparsepix))


def test_encode_to_size_takes_a_pil_image(small_rgb):
    from PIL import Image

    choice = sparsepix.encode_to_size(Image.fromarray(small_rgb), 600)
    assert len(choice.data) <= 600 and sparsepix.decode(choice.data).shape == small_rgb.shape


def test_naming_models_and_classical_decoding_never_import_torch():
    """torch costs about a second of a cold start: only running a network may import it."""
    import subprocess
    import sys

    probe = (
        "import sys, numpy as np, sparsepix; from sparsepix import catalog;"
        "data = sparsepix.encode(np.zeros((16, 16, 3), np.uint8));"  # names the default model
        "sparsepix.decode(data, model='linear'); sparsepix.inspect(data); sorted(catalog.available());"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("failure", [MemoryError(), RuntimeError("CUDA out of memory. Tried to allocate")])
def test_running_out_of_memory_is_a_one_line_resource_error(monkeypatch, small_rgb, failure):
    from sparsepix.codec import reconstructors

    def fails_with(error):
        def run(*args, **kwargs):
            raise error

        return run

    data = sparsepix.encode(small_rgb, model="")
    monkeypatch.setattr(reconstructors, "reconstruct_batch", fails_with(failure))
    with pytest.raises(sparsepix.ResourceError, match="out of memory while decoding") as info:
        sparsepix.decode(data)
    assert "\n" not in str(info.value)
    monkeypatch.setattr(reconstructors, "reconstruct_batch", fails_with(RuntimeError("x")))
    with pytest.raises(RuntimeError):  # other errors are not dressed up as memory
        sparsepix.decode(data)


def _hugepage_advice() -> bool:
    current = pages._set_madvise_hugepage(True)
    pages._set_madvise_hugepage(current)
    return current


@pytest.mark.skipif(pages._set_madvise_hugepage is None, reason="this numpy has no huge-page switch")
def test_decoding_turns_numpy_hugepage_advice_off_and_restores_the_callers(monkeypatch, small_rgb):
    from sparsepix.codec import reconstructors

    data = sparsepix.encode(small_rgb, density=0.1, model="")
    real, seen = reconstructors.reconstruct_batch, []

    def spy(*args, **kw):
        seen.append(_hugepage_advice())
        return real(*args, **kw)

    monkeypatch.setattr(reconstructors, "reconstruct_batch", spy)
    for callers in (True, False):
        pages._set_madvise_hugepage(callers)
        sparsepix.decode(data, model="linear")
        assert seen[-1] is False and _hugepage_advice() is callers
        with pages.no_hugepage_advice():  # overlapping users: the last one out restores
            sparsepix.decode(data, model="linear")
            assert _hugepage_advice() is False
        assert _hugepage_advice() is callers
    pages._set_madvise_hugepage(True)
