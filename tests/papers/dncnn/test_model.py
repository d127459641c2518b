"""DnCNN (models/dncnn.py): layer structure, residual vs plain output, orthogonal init, BN settings."""
import numpy as np
import paddle
import paddle.nn as nn
import pytest

from ppcls_repro.papers.dncnn.model import DnCNN
from ppcls_repro.registry import MODELS


def layer_kinds(model: DnCNN) -> list[str]:
    return [type(layer).__name__ for layer in model.body]


@pytest.mark.parametrize("depth", [17, 20])
def test_structure_is_conv_relu_then_conv_bn_relu_then_conv(depth):
    model = DnCNN(depth=depth)
    kinds = layer_kinds(model)
    assert kinds[:2] == ["Conv2D", "ReLU"]
    assert kinds[2:-1] == ["Conv2D", "BatchNorm2D", "ReLU"] * (depth - 2)
    assert kinds[-1] == "Conv2D"
    convs = [layer for layer in model.body if isinstance(layer, nn.Conv2D)]
    assert len(convs) == depth
    assert all(tuple(c.weight.shape[2:]) == (3, 3) for c in convs)
    assert [c.weight.shape[0] for c in convs] == [64] * (depth - 1) + [1]
    # only the first conv has a bias (the official code: BN or the output follows the others)
    assert convs[0].bias is not None and all(c.bias is None for c in convs[1:])
    assert model.halo == depth


def test_parameter_count_of_dncnn_s():
    # 9*64+64 + 15*(576*64 + 2*64) + 576 = 558,016 (BN scale and shift counted; the paper: ~0.55M)
    assert sum(p.size for p in DnCNN(depth=17).parameters()) == 558016


def test_residual_output_is_input_minus_prediction_and_plain_is_the_prediction():
    paddle.seed(0)
    residual = DnCNN(depth=5, channels=8)
    plain = DnCNN(depth=5, channels=8, residual=False)
    plain.set_state_dict(residual.state_dict())
    residual.eval(), plain.eval()
    x = paddle.to_tensor(np.random.default_rng(0).random((2, 1, 12, 13)).astype("float32"))
    prediction = residual.body(x)
    assert float(prediction.abs().max()) > 1e-3
    np.testing.assert_allclose(residual(x).numpy(), (x - prediction).numpy(), atol=1e-6)
    np.testing.assert_allclose(plain(x).numpy(), prediction.numpy(), atol=1e-6)
    assert residual(x).shape == x.shape


def test_orthogonal_init_makes_flattened_kernels_orthonormal():
    model = DnCNN(depth=4)
    convs = [layer for layer in model.body if isinstance(layer, nn.Conv2D)]
    for conv in convs:
        w = conv.weight.numpy().reshape(conv.weight.shape[0], -1)
        gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w  # rows, or columns when tall (first layer)
        np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-4)
    assert float(np.abs(convs[0].bias.numpy()).max()) == 0.0


def test_kaiming_init_is_not_orthogonal():
    w = DnCNN(depth=3, init="kaiming").body[2].weight.numpy().reshape(64, -1)
    assert np.abs(w @ w.T - np.eye(64)).max() > 0.1


def test_bn_settings_follow_the_official_code_in_paddles_convention():
    model = DnCNN(depth=3)
    bn = [layer for layer in model.body if isinstance(layer, nn.BatchNorm2D)][0]
    assert bn._momentum == pytest.approx(0.05) and bn._epsilon == pytest.approx(1e-4)
    # Paddle: running = momentum * running + (1 - momentum) * batch; with 0.05 one training batch moves
    # the running mean 95% of the way to the batch mean (PyTorch's momentum 0.95).
    model.train()
    x = paddle.to_tensor(np.random.default_rng(1).random((4, 1, 8, 8)).astype("float32"))
    features = model.body[2](model.body[1](model.body[0](x)))  # what the BN sees
    batch_mean = features.numpy().mean(axis=(0, 2, 3))
    model(x)
    np.testing.assert_allclose(bn._mean.numpy(), 0.95 * batch_mean, rtol=1e-4, atol=1e-6)


def test_bad_settings_are_errors():
    with pytest.raises(ValueError, match="depth"):
        DnCNN(depth=2)
    with pytest.raises(ValueError, match="momentum"):
        DnCNN(bn_momentum=1.5)


def test_registered_with_typed_arguments():
    model = MODELS.build({"name": "DnCNN", "depth": 5, "residual": False}, "Arch")
    assert isinstance(model, DnCNN) and not model.residual
    spec = model.export_spec()
    assert spec.pipeline == {"name": "Denoise", "channels": 1, "halo": 5, "value_range": [0.0, 1.0]}
