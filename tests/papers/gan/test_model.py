"""The GAN networks of models/gan.py: shapes, maxout, dropout only in training, the official init ranges."""
import numpy as np
import paddle

from ppcls_repro.papers.gan.model import Generator, Maxout, MaxoutDiscriminator


def test_generator_shapes_range_and_init():
    paddle.seed(0)
    g = Generator()
    x = g(g.sample_noise(7))
    assert x.shape == [7, 1, 28, 28]
    assert float(x.min()) > 0.0 and float(x.max()) < 1.0
    for layer in [*g.hidden, g.out]:
        w = layer.weight.numpy()
        assert np.abs(w).max() <= 0.05 and np.abs(w).max() > 0.045  # uniform in [-0.05, 0.05]
        assert np.all(layer.bias.numpy() == 0)
    assert [layer.weight.shape for layer in g.hidden] == [[100, 1200], [1200, 1200]]


def test_generator_output_bias_matches_marginals():
    g = Generator(hidden=(8,))
    means = np.linspace(0.0, 1.0, 784)
    g.init_output_bias(means)
    got = 1.0 / (1.0 + np.exp(-g.out.bias.numpy().astype(np.float64)))
    inner = (means > 1e-3) & (means < 1 - 1e-3)
    assert np.allclose(got[inner], means[inner], atol=1e-5)
    assert np.isfinite(g.out.bias.numpy()).all()  # 0 and 1 are clipped, as pylearn2 does


def test_noise_is_seeded_and_distributed_as_configured():
    g = Generator(noise="uniform")
    a = g.sample_noise(2000, np.random.default_rng(3)).numpy()
    b = g.sample_noise(2000, np.random.default_rng(3)).numpy()
    assert np.array_equal(a, b)
    assert np.abs(a).max() <= np.sqrt(3.0) + 1e-6 and abs(a.var() - 1.0) < 0.05
    n = Generator().sample_noise(2000, np.random.default_rng(3)).numpy()
    assert np.abs(n).max() > np.sqrt(3.0) and abs(n.var() - 1.0) < 0.05


def test_maxout_takes_the_max_over_each_units_pieces():
    layer = Maxout(3, units=2, pieces=4, irange=0.1)
    x = paddle.to_tensor(np.random.default_rng(0).random((5, 3)).astype(np.float32))
    z = layer.linear(x).numpy().reshape(5, 2, 4)
    assert np.allclose(layer(x).numpy(), z.max(axis=2), atol=1e-6)


def test_maxout_gradient_reaches_only_each_units_winning_piece():
    layer = Maxout(3, units=2, pieces=4, irange=0.1)
    x = paddle.to_tensor(np.random.default_rng(1).random((5, 3)).astype(np.float32))
    upstream = np.random.default_rng(2).standard_normal((5, 2)).astype(np.float32)
    (layer(x) * paddle.to_tensor(upstream)).sum().backward()
    zn = layer.linear(x).numpy().reshape(5, 2, 4)
    dz = np.zeros_like(zn)
    rows, units = np.meshgrid(np.arange(5), np.arange(2), indexing="ij")
    dz[rows, units, zn.argmax(axis=2)] = upstream  # d max / d z: 1 at the winner, 0 elsewhere
    expected = x.numpy().T @ dz.reshape(5, 8)  # dL/dW of the linear map
    assert np.allclose(layer.linear.weight.grad.numpy(), expected, atol=1e-6)


def test_discriminator_shapes_init_and_dropout_only_in_training():
    paddle.seed(0)
    d = MaxoutDiscriminator()
    assert [m.linear.weight.shape for m in d.maxout] == [[784, 1200], [240, 1200]]
    assert d.out.weight.shape == [240, 1]
    for w in [m.linear.weight for m in d.maxout] + [d.out.weight]:
        assert np.abs(w.numpy()).max() <= 0.005
    assert [round(1 - drop.p, 6) for drop in d.dropout] == [0.8, 0.5, 0.5]
    x = paddle.rand([4, 1, 28, 28])
    d.eval()
    assert d(x).shape == [4, 1]
    assert np.array_equal(d(x).numpy(), d(x).numpy())  # no dropout at evaluation
    d.train()
    assert not np.array_equal(d(x).numpy(), d(x).numpy())  # dropout in training
    p = d.probability(x).numpy()
    assert ((p > 0) & (p < 1)).all()
