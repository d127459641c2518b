"""The noise estimate: pure Gaussian noise gives its sigma; a real photograph plus noise, close to it;
the clean photograph, a small value."""
import numpy as np
import pytest
from PIL import Image

from ppcls_repro.metrics.noise import noise_sigma

SET5 = "dataset/Set5/butterfly_GT.bmp"


@pytest.mark.parametrize("sigma", [5.0, 15.0, 25.0, 50.0])
def test_gaussian_noise_on_a_flat_image_gives_its_sigma(sigma):
    noisy = 128 + sigma * np.random.default_rng(0).standard_normal((512, 512))
    assert noise_sigma(noisy) == pytest.approx(sigma, rel=0.03)


def test_colour_channels_are_averaged_and_odd_sizes_are_cropped():
    rng = np.random.default_rng(1)
    image = np.stack([100 + s * rng.standard_normal((301, 257)) for s in (10.0, 20.0, 30.0)], axis=2)
    assert noise_sigma(image) == pytest.approx(20.0, rel=0.05)


def test_a_real_photograph_clean_and_noisy():
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    if not (root / SET5).is_file():
        pytest.skip(f"{SET5} is not here (link the Set5 folder into dataset/)")
    gray = np.asarray(Image.open(root / SET5).convert("L"), dtype=np.float64)
    assert noise_sigma(gray) < 3.0
    noisy = gray + 25.0 * np.random.default_rng(2).standard_normal(gray.shape)
    assert noise_sigma(noisy) == pytest.approx(25.0, abs=2.0)


def test_an_image_smaller_than_2x2_is_refused():
    with pytest.raises(ValueError, match="at least 2x2"):
        noise_sigma(np.zeros((1, 5)))
