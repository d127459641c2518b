"""The Parzen-window estimator of metrics/parzen.py against closed forms and a brute-force reference."""
import numpy as np
import pytest
from scipy.special import logsumexp

from ppcls_repro.papers.gan.parzen import PAPER_SIGMAS, log_likelihoods, parzen_log_likelihood, select_sigma


def brute_force(x, mu, sigma):
    sq = ((x[:, None, :] - mu[None, :, :]) ** 2).sum(axis=2)
    d = x.shape[1]
    return logsumexp(-sq / (2 * sigma ** 2), axis=1) - np.log(len(mu)) - d * np.log(sigma * np.sqrt(2 * np.pi))


def test_one_sample_is_the_gaussian_density():
    """A window on a single point is exactly N(mu, sigma^2 I): closed-form log-density."""
    rng = np.random.default_rng(0)
    mu, x, sigma = rng.random((1, 784)), rng.random((20, 784)), 0.3
    expected = -((x - mu) ** 2).sum(1) / (2 * sigma ** 2) - 784 * np.log(sigma * np.sqrt(2 * np.pi))
    assert np.allclose(log_likelihoods(x, mu, [sigma])[0], expected, rtol=1e-10, atol=1e-8)


def test_samples_from_a_gaussian_give_its_test_log_likelihood():
    """Many samples from N(0, s^2 I) with a narrow window estimate N(0, (s^2 + sigma^2) I) (the window convolves
    the sample density); its expected test log-likelihood on points from N(0, s^2) has a closed form."""
    rng = np.random.default_rng(1)
    d, s, sigma = 2, 1.0, 0.5
    samples, test = rng.normal(0, s, (20000, d)), rng.normal(0, s, (4000, d))
    v = s ** 2 + sigma ** 2
    expected = -0.5 * d * np.log(2 * np.pi * v) - 0.5 * d * s ** 2 / v
    result = parzen_log_likelihood(samples, test[:2000], test[2000:], [sigma])
    assert abs(result.mean - expected) < 3 * result.se + 0.02
    assert result.se == pytest.approx(np.std(log_likelihoods(test[2000:], samples, [sigma])[0]) / np.sqrt(2000))


def test_batching_equals_unbatched_and_brute_force():
    rng = np.random.default_rng(2)
    x, mu = rng.random((37, 50)), rng.random((23, 50))
    sigmas = PAPER_SIGMAS
    whole = log_likelihoods(x, mu, sigmas, batch_size=1000)
    assert np.allclose(log_likelihoods(x, mu, sigmas, batch_size=5), whole, rtol=0, atol=1e-9)
    for i, sigma in enumerate(sigmas):
        assert np.allclose(whole[i], brute_force(x, mu, sigma), rtol=1e-9, atol=1e-6)


def test_stable_where_a_naive_sum_underflows():
    """Far points at the smallest sigma: exp(-d^2 / 2 sigma^2) is 0 in float64, the log-sum-exp is not."""
    mu, x = np.zeros((3, 784)), np.ones((2, 784))
    ll = log_likelihoods(x, mu, [0.1])[0]
    assert np.isfinite(ll).all() and np.allclose(ll, brute_force(x, mu, 0.1))


def test_sigma_selection_picks_the_generating_width():
    """Validation points drawn as sample + N(0, 0.3^2) noise: the best window of the grid is the one nearest 0.3."""
    rng = np.random.default_rng(3)
    samples = rng.random((400, 10))
    valid = samples[rng.integers(0, 400, 3000)] + rng.normal(0, 0.3, (3000, 10))
    grid = [0.05, 0.1, 0.3, 0.9, 2.0]
    sigma, scores = select_sigma(samples, valid, grid)
    assert sigma == 0.3 and max(scores, key=scores.get) == 0.3


def test_bad_input_is_an_error():
    with pytest.raises(ValueError, match="dimension"):
        log_likelihoods(np.zeros((2, 3)), np.zeros((2, 4)), [0.1])
    with pytest.raises(ValueError, match="sigmas"):
        log_likelihoods(np.zeros((2, 3)), np.zeros((2, 3)), [0.0])
