import numpy as np
import paddle
import pytest

from ppcls_repro.papers.sr.srcnn import SRCNN


def weight_count(model: paddle.nn.Layer) -> int:
    return sum(int(np.prod(p.shape)) for name, p in model.named_parameters() if name.endswith("weight"))


def test_paper_weight_counts():
    # ECCV 2014 sec. 4.2: 9-1-5 has 8,032 weights; TPAMI: 9-5-5 has 57,184
    assert weight_count(SRCNN(scale=3, kernel_sizes=(9, 1, 5))) == 8032
    assert weight_count(SRCNN(scale=3, kernel_sizes=(9, 5, 5))) == 57184


@pytest.mark.parametrize("kernels, scale", [((9, 1, 5), 3), ((9, 5, 5), 2), ((9, 1, 5), 4)])
def test_multiply_adds_run_every_layer_at_hr_size(kernels, scale):
    # the FSRCNN paper's SRCNN cost: (f1^2 n1 + n1 f2^2 n2 + n2 f3^2) per HR pixel, n1 = 64, n2 = 32
    f1, f2, f3 = kernels
    per_hr_pixel = f1 * f1 * 64 + 64 * f2 * f2 * 32 + 32 * f3 * f3
    model = SRCNN(scale=scale, kernel_sizes=kernels)
    assert model.multiply_adds(20, 30) == per_hr_pixel * (20 * scale) * (30 * scale)


def test_valid_convs_in_training_same_size_at_test():
    model = SRCNN(scale=3)
    x = paddle.rand([2, 1, 33, 33])
    model.train()
    assert model(x).shape == [2, 1, 21, 21] and model.border == 6
    model.eval()
    assert model(paddle.rand([1, 1, 50, 37])).shape == [1, 1, 50, 37]


def test_padded_output_matches_valid_output_in_the_interior():
    # zero padding only changes pixels within `border` of the edge
    paddle.seed(0)
    model = SRCNN(scale=3, init="kaiming")
    x = paddle.rand([1, 1, 40, 40])
    model.train()
    valid = model(x).numpy()
    model.eval()
    same = model(x).numpy()
    np.testing.assert_allclose(same[:, :, 6:-6, 6:-6], valid, rtol=1e-5, atol=1e-6)


def test_paper_init_is_gaussian_std_0_001_with_zero_bias():
    paddle.seed(0)
    model = SRCNN(scale=3, init="paper")
    w = model.conv1.weight.numpy()
    assert abs(w.std() - 1e-3) < 1e-4 and abs(w.mean()) < 1e-4
    assert not model.conv1.bias.numpy().any()


def test_even_kernel_is_rejected():
    with pytest.raises(ValueError, match="must be odd"):
        SRCNN(scale=3, kernel_sizes=(9, 2, 5))
