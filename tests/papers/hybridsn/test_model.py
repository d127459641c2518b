"""HybridSN: the paper's parameter count and layer shapes, input checks, dropout, learning."""
import numpy as np
import paddle
import pytest

from ppcls_repro.papers.hybridsn.model import HybridSN
from ppcls_repro.registry import ConfigError


def count(model: paddle.nn.Layer) -> int:
    return sum(int(np.prod(p.shape)) for p in model.parameters() if not p.stop_gradient)


def test_indian_pines_model_has_the_papers_5122176_parameters():
    model = HybridSN(num_classes=16, bands=30, window=25)
    assert count(model) == 5_122_176
    # the official code's layer-by-layer summary
    per_layer = {name: int(np.prod(p.shape)) for name, p in model.named_parameters()}
    assert per_layer["conv3d.0.weight"] + per_layer["conv3d.0.bias"] == 512
    assert per_layer["conv3d.1.weight"] + per_layer["conv3d.1.bias"] == 5776
    assert per_layer["conv3d.2.weight"] + per_layer["conv3d.2.bias"] == 13856
    assert per_layer["conv2d.weight"] + per_layer["conv2d.bias"] == 331840
    assert per_layer["fc1.weight"] + per_layer["fc1.bias"] == 4735232
    assert model.conv3d[0].weight.shape == [8, 1, 7, 3, 3]  # spectral depth first
    assert model.conv2d.weight.shape == [64, 576, 3, 3]


def test_output_is_one_logit_per_class():
    model = HybridSN(num_classes=16, bands=30, window=25)
    model.eval()
    assert model(paddle.rand([2, 1, 30, 25, 25])).shape == [2, 16]
    pavia = HybridSN(num_classes=9, bands=15, window=25)  # PU/SA use 15 PCA components
    pavia.eval()
    assert pavia(paddle.rand([3, 1, 15, 25, 25])).shape == [3, 9]


def test_input_that_disagrees_with_the_config_is_a_config_error():
    model = HybridSN(num_classes=16, bands=30, window=25)
    with pytest.raises(ConfigError, match="pca_components"):
        model(paddle.rand([1, 1, 15, 25, 25]))
    with pytest.raises(ConfigError, match="bands >= 13"):
        HybridSN(bands=12)


def test_dropout_only_in_training():
    paddle.seed(0)
    model = HybridSN(num_classes=4, bands=13, window=9)
    x = paddle.rand([4, 1, 13, 9, 9])
    model.eval()
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    model.train()
    assert not np.array_equal(model(x).numpy(), model(x).numpy())


def test_glorot_uniform_weights_and_zero_biases():
    paddle.seed(0)
    model = HybridSN(num_classes=16, bands=30, window=25)
    w = model.fc1.weight.numpy()
    limit = np.sqrt(6.0 / (18496 + 256))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit
    assert not model.conv2d.bias.numpy().any()


def test_a_few_adam_steps_fit_a_small_batch():
    paddle.seed(0)
    model = HybridSN(num_classes=3, bands=13, window=9, dropout=0.0)
    x = paddle.rand([6, 1, 13, 9, 9])
    y = paddle.to_tensor([0, 1, 2, 0, 1, 2])
    opt = paddle.optimizer.Adam(1e-3, parameters=model.parameters())
    losses = []
    for _ in range(30):
        loss = paddle.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.clear_grad()
        losses.append(float(loss))
    assert losses[-1] < 0.2 * losses[0]
