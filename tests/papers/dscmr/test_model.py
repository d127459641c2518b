"""DSCMR network: the paper's shapes, shared layers, separate branches."""
import math

import numpy as np
import paddle
import pytest

from ppcls_repro.papers.dscmr.model import DSCMR


@pytest.fixture(scope="module")
def model():
    paddle.seed(0)
    return DSCMR()


def test_paper_shapes(model):
    shapes = {name: p.shape for name, p in model.named_parameters()}
    assert shapes == {"image_branch.weight": [4096, 2048], "image_branch.bias": [2048],
                      "text_branch.weight": [300, 2048], "text_branch.bias": [2048],
                      "common.weight": [2048, 1024], "common.bias": [1024],
                      "classifier.weight": [1024, 20], "classifier.bias": [20]}
    u, v, p_img, p_txt = model(paddle.rand([3, 4096]), paddle.rand([3, 300]))
    assert u.shape == v.shape == [3, 1024] and p_img.shape == p_txt.shape == [3, 20]


def test_forward_is_the_two_branches_and_the_shared_classifier(model):
    model.eval()
    image, text = paddle.rand([4, 4096]), paddle.rand([4, 300])
    u, v, p_img, p_txt = model(image, text)
    np.testing.assert_allclose(u.numpy(), model.encode_image(image).numpy(), rtol=1e-6)
    np.testing.assert_allclose(v.numpy(), model.encode_text(text).numpy(), rtol=1e-6)
    np.testing.assert_allclose(p_img.numpy(), model.classify(u).numpy(), rtol=1e-6)
    # by hand: ReLU after the branch, none after the shared layers
    hidden = np.maximum(image.numpy() @ model.image_branch.weight.numpy() + model.image_branch.bias.numpy(), 0)
    expected = hidden @ model.common.weight.numpy() + model.common.bias.numpy()
    np.testing.assert_allclose(u.numpy(), expected, rtol=1e-4, atol=1e-5)
    assert (u.numpy() < 0).any()  # the common space is linear: no ReLU after the shared layer


def test_shared_layers_are_the_same_parameters_for_both_modalities(model):
    model.clear_gradients()
    image, text = paddle.rand([2, 4096]), paddle.rand([2, 300])
    # a loss on the text path alone reaches the shared layers and the text branch, not the image branch
    _, v, _, p_txt = model(image, text)
    (v.sum() + p_txt.sum()).backward()
    assert model.common.weight.grad is not None and model.classifier.weight.grad is not None
    assert model.text_branch.weight.grad is not None and model.image_branch.weight.grad is None
    model.clear_gradients()
    # the common layer's weight feeds both encoders: changing it changes both outputs
    before = model.encode_image(image).numpy(), model.encode_text(text).numpy()
    with paddle.no_grad():
        model.common.weight.set_value(model.common.weight * 2)
    after = model.encode_image(image).numpy(), model.encode_text(text).numpy()
    with paddle.no_grad():
        model.common.weight.set_value(model.common.weight / 2)
    assert not np.allclose(before[0], after[0]) and not np.allclose(before[1], after[1])
    assert len(model.parameters()) == 8  # one set of shared parameters, not one per modality


def test_official_initialisation_bounds(model):
    for layer in (model.image_branch, model.text_branch, model.common, model.classifier):
        bound = 1 / math.sqrt(layer.weight.shape[0])
        for param in (layer.weight, layer.bias):
            values = param.numpy()
            assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound


def test_other_sizes_and_bad_sizes():
    small = DSCMR(num_classes=5, image_dim=16, text_dim=8, hidden_dim=12, common_dim=6)
    u, v, p, q = small(paddle.rand([2, 16]), paddle.rand([2, 8]))
    assert u.shape == [2, 6] and q.shape == [2, 5]
    with pytest.raises(ValueError, match="num_classes must be positive"):
        DSCMR(num_classes=0)
