"""GAN sampling with an exported generator: noise from a seed in, one PNG grid of samples out.

The model's ``export_spec`` (``model.py``) states ``noise_dim``, the noise distribution and the
image shape; ``GANSamples.generate`` draws ``num_samples`` noise vectors from ``seed`` exactly as the
Parzen evaluation does (numpy ``default_rng(seed)``), runs the net and writes
``samples_seed<seed>_n<num>.png`` (10 columns, 1-pixel gaps).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ppcls_repro.deploy.pipeline import Net, Pipeline
from ppcls_repro.deploy.predictor import ModelDirError
from ppcls_repro.papers.gan.evaluate import image_grid
from ppcls_repro.registry import PIPELINES
from ppcls_repro.utils.errors import DataError
from ppcls_repro.utils.images import save_image


@PIPELINES.register
class GANSamples(Pipeline):
    """Keys of ``pipeline.json``: ``noise_dim``, ``noise`` (gaussian | uniform), ``image_shape`` [C, H, W]."""

    input_suffixes = ()  # no input files: the input is a seed

    def __init__(self, noise_dim: int, image_shape: list[int], noise: Literal["gaussian", "uniform"] = "gaussian",
                 columns: int = 10) -> None:
        if noise_dim < 1 or len(image_shape) != 3 or columns < 1:
            raise ValueError(f"GANSamples: bad settings noise_dim={noise_dim}, image_shape={image_shape}")
        self.noise_dim, self.image_shape, self.noise, self.columns = noise_dim, list(image_shape), noise, columns

    def check_model(self, inputs: list[dict[str, Any]]) -> None:
        if len(inputs) != 1 or inputs[0].get("shape", [None, None])[-1] != self.noise_dim:
            raise ModelDirError(f"GANSamples needs one noise input [N, {self.noise_dim}], the model has {inputs}")

    def noise_batch(self, num: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        if self.noise == "gaussian":
            return rng.standard_normal((num, self.noise_dim)).astype(np.float32)
        return rng.uniform(-math.sqrt(3.0), math.sqrt(3.0), (num, self.noise_dim)).astype(np.float32)

    def generate(self, net: Net, num_samples: int, seed: int, out_dir: Path, batch_size: int = 500) -> Path:
        """Write a grid of ``num_samples`` samples drawn from ``seed``; returns the PNG's path."""
        if num_samples < 1:
            raise ValueError(f"--num_samples must be >= 1, got {num_samples}")
        z = self.noise_batch(num_samples, seed)
        images = np.concatenate([np.asarray(net([z[i:i + batch_size]])[0])
                                 for i in range(0, num_samples, batch_size)])
        images = images.reshape(num_samples, *self.image_shape)
        if self.image_shape[0] != 1:  # colour: grid each channel side by side is not meaningful; use RGB
            raise ValueError(f"GANSamples: grids of {self.image_shape[0]}-channel images are not supported yet")
        return save_image(image_grid(images, self.columns), Path(out_dir) / f"samples_seed{seed}_n{num_samples}.png")

    def predict(self, noise: np.ndarray, net: Net, batch_size: int = 500) -> np.ndarray:
        """Noise ``[N, noise_dim]`` (e.g. ``noise_batch(N, seed)``) -> samples ``[N, C, H, W]`` float32 in [0, 1]
        (``ppcls_repro.load``; ``generate`` grids the same samples)."""
        noise = np.asarray(noise)
        if noise.ndim != 2 or noise.shape[1] != self.noise_dim or not np.issubdtype(noise.dtype, np.floating):
            raise DataError(f"expected float noise of shape [N, {self.noise_dim}] (pipeline.noise_batch(N, seed)), got "
                            f"{noise.dtype} {list(noise.shape)}")
        noise, chunk = noise.astype(np.float32), batch_size if batch_size > 1 else 500
        images = [np.asarray(net([noise[i:i + chunk]])[0]) for i in range(0, len(noise), chunk)]
        return np.concatenate(images).reshape(len(noise), *self.image_shape)

    def network_inputs(self, path: Path) -> list[np.ndarray]:
        return [self.noise_batch(1, 0)]
