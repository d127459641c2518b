"""Shared pytest fixtures."""

from pathlib import Path

import h5py
import numpy
import pytest

import ppcls_repro.plugins  # noqa: F401  (registers every part, as the tools do)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real datasets folder (shared/data beside the repository clone), or skip the test."""
    path = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"real datasets not found at {path}")
    return path


REPO = Path(__file__).resolve().parents[1]


def _reference(name: str) -> tuple[dict, dict]:
    """A golden fixture computed with the authors' code (shared/reference beside the clone), and its
    weights regenerated from the fixture's NumPy recipe (torch layout, state-dict order, one
    generator; the fingerprints stored beside them are checked bit for bit)."""
    import json

    path = REPO.parent / "shared" / "reference" / f"{name}_reference.npz"
    if not path.is_file():
        pytest.skip(f"reference fixture not found at {path}")
    fixture = dict(numpy.load(path))
    recipe = json.loads(str(fixture["recipe"]))
    rng = numpy.random.default_rng(recipe["weights"]["seed"])
    weights = {}
    for p in recipe["weights"]["params"]:
        bound = 1.0 / numpy.sqrt(p["fan_in"])
        weights[p["name"]] = rng.uniform(-bound, bound, size=tuple(p["shape"])).astype(numpy.float32)
        assert numpy.array_equal(weights[p["name"]].reshape(-1)[:8], fixture[f"param_check/{p['name']}/first8"])
    return fixture, weights


@pytest.fixture(scope="session")
def dscmr_reference() -> tuple[dict, dict]:
    return _reference("dscmr")


@pytest.fixture(scope="session")
def hybridsn_reference() -> tuple[dict, dict]:
    return _reference("hybridsn")


@pytest.fixture(scope="session")
def tiny_images(tmp_path_factory) -> Path:
    """Four small real photographs (crops of scikit-image's bundled images) as PNG files."""
    import numpy as np
    import skimage.data
    from PIL import Image

    folder = tmp_path_factory.mktemp("tiny_images")
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        image = np.asarray(getattr(skimage.data, name)())[100:166, 120:180]
        Image.fromarray(image).save(folder / f"{name}.png")
    return folder


@pytest.fixture
def srcnn_overrides(tiny_images, tmp_path) -> list[str]:
    """Overrides that turn configs/srcnn.yaml into a seconds-long run on ``tiny_images``."""
    return [
        f"Global.output_dir={tmp_path / 'run'}",
        "Global.epochs=2", "Global.eval_interval=1", "Global.save_interval=1",
        "Global.print_batch_step=1", "Global.max_iters_per_epoch=3",
        f"DataLoader.Train.dataset.root={tiny_images}", "DataLoader.Train.dataset.manifest=null",
        f"DataLoader.Train.dataset.cache_dir={tmp_path / 'cache'}",
        "DataLoader.Train.sampler.batch_size=8",
        f"DataLoader.Eval.dataset.root={tiny_images}", "DataLoader.Eval.dataset.manifest=null",
    ]


@pytest.fixture
def small_scene():
    """A tiny (rows, cols, bands) cube and its label map, every axis a different length."""
    rng = numpy.random.default_rng(0)
    cube = rng.normal(size=(7, 5, 6)) + numpy.arange(6)
    gt = rng.integers(0, 4, size=(7, 5)).astype(numpy.uint8)
    return cube, gt


@pytest.fixture(scope="session")
def write_v73():
    """A function writing a MATLAB v7.3 MAT-file as MATLAB does (see ``_write_v73``)."""
    return _write_v73


def _write_v73(path, variables: dict) -> None:
    """A MATLAB v7.3 MAT-file as MATLAB writes it: HDF5 behind a 512-byte header, every array stored
    column-major (so HDF5 sees the axes reversed) with a MATLAB_class attribute."""
    with h5py.File(path, "w", userblock_size=512) as handle:
        for name, value in variables.items():
            data = handle.create_dataset(name, data=numpy.asarray(value).T)
            data.attrs["MATLAB_class"] = numpy.bytes_("double" if numpy.asarray(value).dtype.kind == "f" else "uint8")
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    with open(path, "r+b") as handle:
        handle.write(header.ljust(116) + b"\x00" * 8 + b"\x00\x02" + b"IM")


