"""HybridSN against the fixture computed with the official Keras layer order (shared/reference): which
order this suite's reshape and flatten follow, and that it is the same model.

The official notebook is channels-last: the 3-D features [N, 19, 19, 18, 32] are reshaped depth-major
(2-D channel f = d*32 + c) and the 2-D output flattened channels-last ((h*17 + w)*64 + c). This suite
reshapes Paddle's [N, 32, 18, 19, 19] channel-major (f = c*18 + d) and flattens NCHW (c*289 + h*17 + w),
the order of the PyTorch port the official README links. The two are one model with relabelled
weights: permuting conv4's input channels and fc1's inputs maps one onto the other.
"""
import numpy as np
import paddle

from ppcls_repro.papers.hybridsn.model import HybridSN

RTOL, ATOL = 1e-5, 1e-6  # the fixture's float32 tolerances for forward outputs


def _suite_weights(w: dict, keras_order: bool) -> dict:
    conv4, fc1 = w["conv4.weight"], w["fc1.weight"]
    if keras_order:  # relabel the Keras-order weights into this suite's (channel-major) order
        conv4 = conv4.reshape(64, 18, 32, 3, 3).transpose(0, 2, 1, 3, 4).reshape(64, 576, 3, 3)
        fc1 = fc1.reshape(256, 17, 17, 64).transpose(0, 3, 1, 2).reshape(256, 18496)
    state = {f"conv3d.{i}.{kind}": w[f"conv{i + 1}.{kind}"] for i in range(3) for kind in ("weight", "bias")}
    state.update({"conv2d.weight": conv4, "conv2d.bias": w["conv4.bias"], "fc1.weight": fc1.T, "fc1.bias": w["fc1.bias"],
                  "fc2.weight": w["fc2.weight"].T, "fc2.bias": w["fc2.bias"],
                  "fc3.weight": w["fc3.weight"].T, "fc3.bias": w["fc3.bias"]})
    return state


def _logits(state: dict, x: np.ndarray) -> np.ndarray:
    net = HybridSN(num_classes=16, bands=30, window=25)
    net.set_state_dict({k: paddle.to_tensor(v) for k, v in state.items()})
    net.eval()
    with paddle.no_grad():
        return net(paddle.to_tensor(x)).numpy()


def test_with_its_weights_relabelled_the_suites_hybridsn_is_the_official_keras_model(hybridsn_reference):
    fixture, weights = hybridsn_reference
    logits = _logits(_suite_weights(weights, keras_order=True), fixture["input/x_torch"])
    np.testing.assert_allclose(logits, fixture["output/logits"], rtol=RTOL, atol=ATOL)


def test_the_suite_follows_the_channel_major_order_not_the_keras_one(hybridsn_reference):
    fixture, weights = hybridsn_reference
    logits = _logits(_suite_weights(weights, keras_order=False), fixture["input/x_torch"])
    # unpermuted, the weights give exactly the fixture's channels-first-port logits, not the Keras ones
    np.testing.assert_allclose(logits, fixture["negative_control/logits_channels_first_reshape_same_weights"],
                               rtol=RTOL, atol=ATOL)
    assert np.abs(logits - fixture["output/logits"]).max() > 100 * ATOL
