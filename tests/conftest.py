"""Shared pytest fixtures."""

from pathlib import Path

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
