"""`sparsepix.restore` and `sparsepix restore`: user masks and the paper's corruptions."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import sparsepix
from sparsepix.metrics import psnr


@pytest.fixture
def holes(small_rgb):
    h = np.zeros(small_rgb.shape[:2], bool)
    h[20:45, 30:70] = True
    return h


@pytest.mark.parametrize("model", ["telea", "ns", "linear", "auto"])
def test_holes_are_filled_and_the_rest_kept(small_rgb, holes, model):
    out = sparsepix.restore(small_rgb, mask=holes, model=model)
    assert out.shape == small_rgb.shape and out.dtype == np.uint8
    assert np.array_equal(out[~holes], small_rgb[~holes])
    assert psnr(small_rgb, out) > psnr(small_rgb, small_rgb * ~holes[..., None]) + 5


def test_masks_come_as_bool_white_uint8_or_pil(small_rgb, holes):
    expected = sparsepix.restore(small_rgb, mask=holes, model="telea")
    white = holes.astype(np.uint8) * 255
    for mask in (white, Image.fromarray(white), np.dstack([white] * 3)):
        assert np.array_equal(sparsepix.restore(small_rgb, mask=mask, model="telea"), expected)
    grey = sparsepix.restore(small_rgb[..., 0], mask=holes, model="telea")
    assert grey.shape == small_rgb.shape[:2]
    assert np.array_equal(sparsepix.restore(small_rgb, mask=np.zeros_like(holes)), small_rgb)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({}, sparsepix.InputError),
        ({"mask": "HOLES", "task": "white-block"}, sparsepix.InputError),
        ({"mask": np.zeros((3, 3), bool)}, sparsepix.InputError),
        ({"mask": "ALL"}, sparsepix.InputError),
        ({"task": "sepia"}, sparsepix.InputError),
        ({"task": "color-noise", "model": "natural"}, sparsepix.ModelError),  # trained for another job
    ],
)
def test_misuse_is_a_typed_error(small_rgb, holes, kwargs, error):
    swap = {"HOLES": holes, "ALL": np.ones_like(holes)}
    kwargs = {k: swap.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    with pytest.raises(error):
        sparsepix.restore(small_rgb, **kwargs)


def test_hidden_corruptions_without_a_model_for_them_are_refused(small_rgb, monkeypatch):
    from sparsepix import catalog

    monkeypatch.setattr(catalog, "_learned", lambda: {})
    for task in ("color-noise", "color-block"):
        with pytest.raises(sparsepix.ModelError, match="no installed model restores"):
            sparsepix.restore(small_rgb, task=task)


def _blind_answer(image: np.ndarray, box: tuple[slice, slice]) -> np.ndarray:
    """What a blind block restorer returns: a little drift everywhere, the block repainted."""
    rng = np.random.default_rng(0)
    out = np.clip(image.astype(int) + rng.integers(-3, 4, image.shape), 0, 255).astype(np.uint8)
    out[box] = image[box] + 128  # uint8 wraps: a large change
    return out


def test_without_a_filler_a_found_colour_block_is_repainted_and_the_rest_given_back(small_rgb, monkeypatch):
    from sparsepix import catalog
    from sparsepix.restoration import block_restored

    monkeypatch.setattr(catalog, "_learned", lambda: {})
    restored = _blind_answer(small_rgb, np.s_[10:40, 20:50])
    restored[25, 35] = small_rgb[25, 35]  # unchanged inside the patch: still part of it
    out = block_restored(small_rgb, restored)
    patch = np.zeros(small_rgb.shape[:2], bool)
    patch[10:40, 20:50] = True
    assert np.array_equal(out[patch], restored[patch])
    # The blur grows the region by two pixels at most; beyond that the input comes back.
    grown = np.zeros_like(patch)
    grown[8:42, 18:52] = True
    assert np.array_equal(out[~grown], small_rgb[~grown])
    # Drift alone is no patch: the model's answer stands.
    drift = _blind_answer(small_rgb, np.s_[0:0, 0:0])
    assert np.array_equal(block_restored(small_rgb, drift), drift)


@pytest.mark.parametrize("box", [np.s_[10:40, 20:50], np.s_[0:24, 60:84], np.s_[50:64, 0:14]])
def test_a_found_patch_is_squared_up_to_the_pasted_block(box):
    from scipy import ndimage

    from sparsepix.restoration import squared_patch

    rng = np.random.default_rng(1)
    face = np.clip(120 + np.cumsum(rng.integers(-2, 3, (64, 96, 3)), axis=1), 0, 255).astype(np.uint8)
    corrupted = face.copy()
    corrupted[box] = rng.integers(0, 256, 3, dtype=np.uint8)  # a pasted square, inside or at a border
    truth = np.zeros(face.shape[:2], bool)
    truth[box] = True
    found = ndimage.binary_dilation(truth, iterations=2)  # the blurred change map overshoots
    found[box[0].start + 3, box[1].start + 3 : box[1].start + 6] = False  # and is not a box
    assert np.array_equal(squared_patch(corrupted, found), truth)


def test_a_found_colour_block_goes_to_the_installed_hole_filler(small_rgb, monkeypatch):
    from sparsepix import catalog
    from sparsepix.codec.reconstructors import Reconstructor
    from sparsepix.restoration import block_restored

    class Painter(Reconstructor):
        def run(self, canvases, masks, device, passes, batch):
            (mask,) = masks
            assert not mask[15:35, 25:45].any() and mask.mean() > 0.8  # the square, told as holes
            return [np.full_like(canvases[0], 7)]

    filler = Painter("filler", "paints 7", learned=True, task="block-holes")
    monkeypatch.setattr(catalog, "_learned", lambda: {"filler": filler})
    corrupted = small_rgb.copy()
    corrupted[15:35, 25:45] = (250, 0, 250)
    out = block_restored(corrupted, _blind_answer(corrupted, np.s_[15:35, 25:45]))
    square = np.zeros(small_rgb.shape[:2], bool)
    square[15:35, 25:45] = True
    assert (out[square] == 7).all() and np.array_equal(out[~square], corrupted[~square])


def test_white_block_is_the_centre_half():
    from sparsepix.tasks import white_block_holes

    holes = white_block_holes(256, 256)
    assert holes.sum() == 128 * 128 and holes[64:192, 64:192].all()


def test_auto_fills_the_white_block_and_masks_with_the_models_trained_for_them():
    from sparsepix.restoration import model_for

    assert model_for("white-block").name == "faces-white-block"
    assert model_for("inpaint").name == "inpaint"


def test_the_shipped_inpainter_beats_telea_on_free_form_holes():
    from skimage import data

    from sparsepix.train.corruptions import free_form_holes

    gains = []
    for i, photo in enumerate((data.astronaut()[:256, :256], data.coffee()[100:356, 200:456])):
        holes = free_form_holes(256, 256, np.random.default_rng(i), 0.25)
        damaged = np.where(holes[..., None], 0, photo).astype(np.uint8)
        learned = sparsepix.restore(damaged, mask=holes)  # auto: the inpainter
        classical = sparsepix.restore(damaged, mask=holes, model="telea")
        assert np.array_equal(learned[~holes], photo[~holes])  # kept pixels stay
        gains.append(psnr(photo, learned) - psnr(photo, classical))
    assert min(gains) > 0.5, gains


def test_encoders_refuse_a_restoration_model(small_rgb):
    with pytest.raises(sparsepix.ModelError, match="not a decoder of samples"):
        sparsepix.encode(small_rgb, model="faces-white-block")


@pytest.mark.data
def test_the_white_block_model_beats_the_classical_fills_on_held_out_faces(heldout_faces):
    from sparsepix.codec.imageio import load_image
    from sparsepix.tasks import white_block_holes

    faces = [load_image(p) for p in heldout_faces[::20]]
    holes = white_block_holes(128, 128)
    gain = []
    for face in faces:
        blocked = np.where(holes[..., None], 255, face).astype(np.uint8)
        learned = sparsepix.restore(blocked, task="white-block")
        classical = sparsepix.restore(blocked, task="white-block", model="linear")
        gain.append(psnr(face, learned) - psnr(face, classical))
    assert np.mean(gain) > 3.0


@pytest.mark.data
def test_the_colour_block_restorer_beats_linear_given_the_true_mask_on_held_out_faces(heldout_faces):
    from sparsepix.benchmarks.restore_table import corrupt
    from sparsepix.codec.imageio import load_image

    faces = [load_image(p) for p in heldout_faces[::20]]
    gain = []
    for i, face in enumerate(faces):
        blocked, holes = corrupt("color-block", face, faces[(i + 1) % len(faces)], seed=i)
        learned = sparsepix.restore(blocked, task="color-block")  # finds the patch itself
        classical = sparsepix.restore(blocked, mask=holes, model="linear")
        gain.append(psnr(face, learned) - psnr(face, classical))
    assert np.mean(gain) > 3.0, np.mean(gain)


@pytest.mark.data
def test_the_colour_noise_model_beats_linear_given_the_true_mask_on_held_out_faces(heldout_faces):
    from sparsepix.benchmarks.restore_table import corrupt
    from sparsepix.codec.imageio import load_image

    gain = []
    for i, path in enumerate(heldout_faces[::50]):
        face = load_image(path)
        noisy, holes = corrupt("color-noise", face, face, seed=i)
        learned = sparsepix.restore(noisy, task="color-noise")  # finds the true pixels itself
        classical = sparsepix.restore(noisy, mask=holes, model="linear")
        gain.append(psnr(face, learned) - psnr(face, classical))
    assert np.mean(gain) > 0.2, np.mean(gain)


def test_hidden_corruptions_run_a_model_trained_for_them_without_pasting(monkeypatch, small_rgb, tmp_path):
    """Colour noise hides which pixels are wrong: the model sees every pixel as kept, and its
    output replaces all of them (pasting the "kept" pixels back would return the noise)."""
    import torch

    from sparsepix import catalog
    from sparsepix.models.config import GeneratorConfig
    from sparsepix.models.generator import Generator
    from sparsepix.models.registry import as_reconstructor, read_card
    from sparsepix.train.export import export

    torch.manual_seed(0)
    g = Generator(GeneratorConfig(ngf=8, n_blocks=1, passthrough=True))
    ckpt = {"G": g.state_dict(), "G_ema": None, "gen_config": g.config.to_dict(), "step": 0, "config": {}}
    torch.save(ckpt, tmp_path / "ckpt.pt")
    export(tmp_path / "ckpt.pt", "denoise", tmp_path)
    model = dataclasses.replace(read_card(tmp_path / "denoise.json"), task="color-noise")
    rec = as_reconstructor(model)
    monkeypatch.setattr(catalog, "available", lambda: {**catalog.CLASSICAL, "denoise": rec})
    out = sparsepix.restore(small_rgb, task="color-noise")
    assert out.shape == small_rgb.shape and not np.array_equal(out, small_rgb)


def test_cli_restores_with_a_mask_file_or_a_task(tmp_path, small_rgb, holes):
    src, mask = tmp_path / "in.png", tmp_path / "holes.png"
    Image.fromarray(small_rgb).save(src)
    Image.fromarray(holes.astype(np.uint8) * 255).save(mask)

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "sparsepix", "restore", *args], capture_output=True, text=True
        )

    r = run(str(src), str(tmp_path / "out.png"), "--mask", str(mask), "-r", "telea")
    assert r.returncode == 0, r.stderr
    expected = sparsepix.restore(small_rgb, mask=holes, model="telea")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out.png")), expected)
    assert run(str(src), str(tmp_path / "wb.png"), "--task", "white-block").returncode == 0
    assert run(str(src), str(tmp_path / "x.png")).returncode == 2  # neither mask nor task
    r = run(str(src), str(tmp_path / "x.png"), "--task", "color-noise", "-r", "natural")  # not trained for it
    assert (
        r.returncode == 1 and r.stderr.startswith("sparsepix: error:") and not (tmp_path / "x.png").exists()
    )
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(mask)
    r = run(str(src), str(tmp_path / "x.png"), "--mask", str(mask))
    assert r.returncode == 1 and "does not match" in r.stderr
