"""Gaussian Parzen-window log-likelihood, the evaluation of Goodfellow et al. 2014 (Section 5, Table 1).

A Parzen window with an isotropic Gaussian of width ``sigma`` is fitted on generated samples ``mu``
[m, d]; the log-likelihood of a point x is

    log p(x) = logmeanexp_j( -||x - mu_j||^2 / (2 sigma^2) ) - d log(sigma sqrt(2 pi)),

the estimator of the authors' ``parzen_ll.py`` (github.com/goodfeli/adversarial). The squared
distances are computed once per batch of points in float64 (||x||^2 + ||mu||^2 - 2 x.mu, clipped at
0) and reused for every sigma, and the log-mean-exp subtracts the row maximum, so memory is bounded
by ``batch_size`` x m and no exponential under- or overflows. ``select_sigma`` picks, from a grid
(the paper: ``logspace(-1, 0, 10)``), the sigma with the highest mean validation log-likelihood;
``parzen_log_likelihood`` reports the mean over test points and its standard error std / sqrt(n)
(numpy's population std, as ``parzen_ll.py``).
"""
from __future__ import annotations

import dataclasses

import numpy as np

PAPER_SIGMAS = np.logspace(-1.0, 0.0, 10)


def log_likelihoods(x: np.ndarray, mu: np.ndarray, sigmas: np.ndarray | list[float],
                    batch_size: int = 500) -> np.ndarray:
    """Log-likelihood of every row of ``x`` [n, d] under the Parzen window on ``mu`` [m, d], for each
    sigma: an array [len(sigmas), n] (float64)."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    mu = np.asarray(mu, np.float64).reshape(len(mu), -1)
    sigmas = np.asarray(sigmas, np.float64).reshape(-1)
    if x.shape[1] != mu.shape[1] or len(mu) == 0 or len(x) == 0:
        raise ValueError(f"parzen: points {x.shape} and samples {mu.shape} must be non-empty with the same dimension")
    if batch_size < 1 or not np.all(sigmas > 0):
        raise ValueError(f"parzen: batch_size must be >= 1 and sigmas > 0, got {batch_size}, {sigmas}")
    d, m = x.shape[1], len(mu)
    mu_sq = (mu * mu).sum(axis=1)
    out = np.empty((len(sigmas), len(x)))
    for start in range(0, len(x), batch_size):
        xb = x[start:start + batch_size]
        sq = np.maximum((xb * xb).sum(axis=1)[:, None] + mu_sq[None, :] - 2.0 * xb @ mu.T, 0.0)
        for i, sigma in enumerate(sigmas):
            a = sq * (-0.5 / sigma ** 2)
            peak = a.max(axis=1)
            lme = peak + np.log(np.exp(a - peak[:, None]).sum(axis=1)) - np.log(m)
            out[i, start:start + len(xb)] = lme - d * np.log(sigma * np.sqrt(2.0 * np.pi))
    return out


@dataclasses.dataclass
class ParzenResult:
    mean: float  # mean log-likelihood of the test points (nats)
    se: float  # its standard error, std / sqrt(n)
    sigma: float  # the window width used
    sigma_scores: dict[float, float]  # sigma -> mean validation log-likelihood (the selection)


def select_sigma(samples: np.ndarray, valid: np.ndarray, sigmas: np.ndarray | list[float] = PAPER_SIGMAS,
                 batch_size: int = 500) -> tuple[float, dict[float, float]]:
    """The sigma of the grid with the highest mean validation log-likelihood, and every sigma's score."""
    sigmas = np.asarray(sigmas, np.float64).reshape(-1)
    scores = log_likelihoods(valid, samples, sigmas, batch_size).mean(axis=1)
    return float(sigmas[int(np.argmax(scores))]), {float(s): float(v) for s, v in zip(sigmas, scores)}


def parzen_log_likelihood(samples: np.ndarray, valid: np.ndarray, test: np.ndarray,
                          sigmas: np.ndarray | list[float] = PAPER_SIGMAS, batch_size: int = 500) -> ParzenResult:
    """The paper's protocol: choose sigma on ``valid``, report mean +- standard error on ``test``."""
    sigma, scores = select_sigma(samples, valid, sigmas, batch_size)
    ll = log_likelihoods(test, samples, [sigma], batch_size)[0]
    return ParzenResult(mean=float(ll.mean()), se=float(ll.std() / np.sqrt(len(ll))), sigma=sigma,
                        sigma_scores=scores)
