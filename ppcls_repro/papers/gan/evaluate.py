"""GAN evaluation: the Gaussian Parzen-window log-likelihood of Goodfellow et al. 2014 (Table 1).

``ParzenEvaluator`` draws ``num_samples`` images from the generator with fixed noise (``seed``: the
same noise at every evaluation, so evaluations differ only by the weights), reads the Eval loader
(``MNISTValTest``: validation images with ``part`` 0, test images with ``part`` 1), chooses sigma
from ``logspace(sigma_lo, sigma_hi, num_sigmas)`` on the validation images and reports

- ``parzen_ll`` and ``parzen_se``: mean test log-likelihood and its standard error (the paper's number);
- ``parzen_ll_val``: mean validation log-likelihood at the chosen sigma (select ``best_model`` by it,
  never by the test number);
- ``parzen_sigma``: the chosen sigma;
- with reference images in the loader (``MNISTValTest.num_reference``, ``part`` 2): the same protocol
  with those real training digits in place of the generated samples, ``real_parzen_ll``,
  ``real_parzen_se`` and ``real_parzen_sigma``. It depends only on the data, so it is computed once
  per evaluator and reused.

The paper's protocol is 10,000 samples and the 10,000 validation images; the authors' script
(``parzen_ll.py``) selects sigma on the first 1,000 validation images by default (``--limit_size``).
A dataset ``num_val`` below 10,000 makes training evaluations cheaper; the final ``tools/eval.py`` run
uses the full protocol. A 10 x 10 grid of samples goes to VisualDL.
"""
from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import paddle

from ppcls_repro.engine.evaluate import EvalResult
from ppcls_repro.papers.gan.parzen import parzen_log_likelihood
from ppcls_repro.registry import EVALUATORS, ConfigError
from ppcls_repro.utils.modes import eval_mode


def sample_images(generator: paddle.nn.Layer, num: int, seed: int, batch_size: int = 1000) -> np.ndarray:
    """``num`` generated images [num, C, H, W] from noise fixed by ``seed`` (generator in eval mode)."""
    rng = np.random.default_rng(seed)
    parts = []
    with paddle.no_grad(), eval_mode(generator):
        for start in range(0, num, batch_size):
            z = generator.sample_noise(min(batch_size, num - start), rng)
            parts.append(generator(z).numpy())
    return np.concatenate(parts)


def image_grid(images: np.ndarray, columns: int = 10) -> np.ndarray:
    """Images [N, 1, H, W] in [0, 1] as one HxW uint8 grid, ``columns`` wide, 1-pixel gaps."""
    n, _, h, w = images.shape
    rows = -(-n // columns)
    grid = np.zeros((rows * (h + 1) - 1, columns * (w + 1) - 1), np.uint8)
    pixels = np.clip(np.rint(images[:, 0] * 255.0), 0, 255).astype(np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        grid[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = pixels[i]
    return grid


@EVALUATORS.register
class ParzenEvaluator:
    """Parzen-window log-likelihood of a generator; see the module docstring.

    Args:
        num_samples: generated images the Parzen window is fitted on, >= 1 (the paper's 10,000). Default: 10000.
        seed: seed of the noise of those samples, the same at every evaluation. Default: 1234.
        sigma_lo: base-10 exponent of the smallest window width sigma tried (pixels in [0, 1]). Default: -1.0.
        sigma_hi: base-10 exponent of the largest sigma tried. Default: 0.0.
        num_sigmas: number of sigmas tried, log-spaced from 10^sigma_lo to 10^sigma_hi, >= 1; the defaults
            give the grid ``logspace(-1, 0, 10)``. Default: 10.
        batch_size: validation or test images per block of the distance computation, >= 1; memory grows with
            batch_size x num_samples. Default: 500.
        grid_samples: generated images drawn in the VisualDL grid (10 per row), >= 0; 0 draws none. Default: 100.
    """

    gathers_across_ranks = False  # every process scores the whole eval set
    metric_names = ("parzen_ll", "parzen_se", "parzen_ll_val", "parzen_sigma")  # real_* too with num_reference
    def __init__(self, num_samples: int = 10000, seed: int = 1234, sigma_lo: float = -1.0, sigma_hi: float = 0.0,
                 num_sigmas: int = 10, batch_size: int = 500, grid_samples: int = 100) -> None:
        if num_samples < 1 or num_sigmas < 1 or batch_size < 1 or grid_samples < 0:
            raise ConfigError(f"Metric: num_samples, num_sigmas, batch_size must be >= 1; got "
                              f"{num_samples}, {num_sigmas}, {batch_size}")
        self.num_samples, self.seed = num_samples, seed
        self.sigmas = np.logspace(sigma_lo, sigma_hi, num_sigmas)
        self.batch_size, self.grid_samples = batch_size, grid_samples
        self._reference: tuple[str, dict[str, float]] | None = None  # (data fingerprint, metrics)

    def __call__(self, model: paddle.nn.Layer, loader: Any) -> EvalResult:
        images, parts = [], []
        for batch in loader:
            if "part" not in batch:
                raise ConfigError("DataLoader.Eval.dataset: ParzenEvaluator needs validation and test images "
                                  "with a 'part' key (dataset MNISTValTest)")
            images.append(np.asarray(batch["input"]).reshape(len(batch["part"]), -1))
            parts.append(np.asarray(batch["part"]).reshape(-1))
        x, part = np.concatenate(images), np.concatenate(parts)
        valid, test, reference = x[part == 0], x[part == 1], x[part == 2]
        if not len(valid) or not len(test):
            raise ConfigError(f"DataLoader.Eval.dataset: needs validation and test images, got {len(valid)} and {len(test)}")
        samples = sample_images(model, self.num_samples, self.seed)
        result = parzen_log_likelihood(samples.reshape(len(samples), -1), valid, test, self.sigmas, self.batch_size)
        metrics = {"parzen_ll": result.mean, "parzen_se": result.se,
                   "parzen_ll_val": result.sigma_scores[result.sigma], "parzen_sigma": result.sigma}
        if len(reference):
            metrics.update(self._reference_metrics(valid, test, reference))
        per_item = [{"name": f"sigma {s:.4f}", "val_ll": v} for s, v in result.sigma_scores.items()]
        grid = {"samples": image_grid(samples[:self.grid_samples])} if self.grid_samples else {}
        return EvalResult(metrics=metrics, per_item=per_item, images=grid)

    def _reference_metrics(self, valid: np.ndarray, test: np.ndarray, reference: np.ndarray) -> dict[str, float]:
        """The protocol with real images in place of the samples; cached, keyed by the data's bytes."""
        digest = hashlib.sha1()
        for array in (valid, test, reference):
            digest.update(np.ascontiguousarray(array).tobytes())
        if self._reference is None or self._reference[0] != digest.hexdigest():
            result = parzen_log_likelihood(reference, valid, test, self.sigmas, self.batch_size)
            self._reference = (digest.hexdigest(), {"real_parzen_ll": result.mean, "real_parzen_se": result.se,
                                                    "real_parzen_sigma": result.sigma})
        return dict(self._reference[1])
