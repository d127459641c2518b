import numpy as np
import paddle
import paddle.nn.functional as F
import pytest

from ppcls_repro.deploy.tiling import run_tiled
from ppcls_repro.papers.sr.fsrcnn import FSRCNN, deconv_geometry
from ppcls_repro.papers.sr.fsrcnn_data import cut_pair
from ppcls_repro.papers.sr.protocol import bicubic_downscale


def weight_count(model: paddle.nn.Layer) -> int:
    """Convolution and deconvolution weights only, as the paper counts (no biases, no PReLU slopes)."""
    return sum(int(np.prod(p.shape)) for name, p in model.named_parameters()
               if name.endswith("conv.weight") or name == "deconv.weight")


def test_paper_weight_counts():
    # the paper: FSRCNN (56,12,4) 12,464 parameters, FSRCNN-s (32,5,1) 3,937
    assert weight_count(FSRCNN(3, d=56, s=12, m=4)) == 12464
    assert weight_count(FSRCNN(3, d=32, s=5, m=1)) == 3937
    # the deconvolution's weights do not depend on the stride
    assert weight_count(FSRCNN(2)) == weight_count(FSRCNN(4)) == 12464


@pytest.mark.parametrize("d, s, m", [(56, 12, 4), (32, 5, 1), (48, 8, 2)])
def test_multiply_adds_follow_the_paper_complexity(d, s, m):
    # the paper's cost: (25d + sd + 9ms^2 + ds + 81d) per LR pixel, whatever the scale
    per_lr_pixel = 25 * d + s * d + 9 * m * s * s + d * s + 81 * d
    for scale in (2, 3, 4):
        assert FSRCNN(scale, d=d, s=s, m=m).multiply_adds(20, 30) == per_lr_pixel * 20 * 30


def test_layer_shapes_follow_the_paper():
    model = FSRCNN(3)
    shapes = {name: list(p.shape) for name, p in model.named_parameters() if name.endswith("weight")}
    assert shapes["extract.conv.weight"] == [56, 1, 5, 5]
    assert shapes["shrink.conv.weight"] == [12, 56, 1, 1]
    assert all(shapes[f"mapping.{i}.conv.weight"] == [12, 12, 3, 3] for i in range(4))
    assert "mapping.4.conv.weight" not in shapes
    assert shapes["expand.conv.weight"] == [56, 12, 1, 1]
    assert shapes["deconv.weight"] == [56, 1, 9, 9]


@pytest.mark.parametrize("h_in", [1, 5, 7, 10])
@pytest.mark.parametrize("stride,padding,output_padding", [(2, 4, 1), (3, 3, 0), (3, 4, 2), (4, 3, 1), (4, 2, 0)])
def test_paddle_transposed_conv_output_size_formula(h_in, stride, padding, output_padding):
    x = paddle.zeros([1, 1, h_in, h_in + 3])
    y = F.conv2d_transpose(x, paddle.zeros([1, 1, 9, 9]), stride=stride, padding=padding,
                           output_padding=output_padding)
    expected = [(h - 1) * stride - 2 * padding + (9 - 1) + output_padding + 1 for h in (h_in, h_in + 3)]
    assert list(y.shape[2:]) == expected


def test_deconv_geometry_per_scale():
    assert [deconv_geometry(n) for n in (2, 3, 4)] == [(4, 1), (3, 0), (3, 1)]
    assert [deconv_geometry(n, alignment="corner") for n in (2, 3, 4)] == [(4, 1), (4, 2), (4, 3)]


@pytest.mark.parametrize("alignment, offset", [("centred", {2: 0, 3: 1, 4: 1}), ("corner", {2: 0, 3: 0, 4: 0})])
def test_the_kernel_centre_of_lr_pixel_i_lands_at_scale_i_plus_the_offset(alignment, offset):
    for scale in (2, 3, 4):
        net = FSRCNN(scale, d=1, s=1, m=0, deconv_alignment=alignment)
        kernel = np.zeros((1, 1, 9, 9), np.float32)
        kernel[0, 0, 4, 4] = 1.0  # only the centre tap
        features = np.zeros((1, 1, 5, 5), np.float32)
        features[0, 0, 2, 3] = 1.0
        with paddle.no_grad():
            net.deconv.weight.set_value(kernel)
            out = net.upsample(paddle.to_tensor(features)).numpy()[0, 0]
        assert out.shape == (5 * scale, 5 * scale)
        assert np.argwhere(out == 1.0).tolist() == [[2 * scale + offset[scale], 3 * scale + offset[scale]]]
    with pytest.raises(ValueError, match="scale"):
        deconv_geometry(11)


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("size", [(7, 7), (10, 10), (6, 6), (5, 9), (13, 1), (1, 1)])
def test_output_is_exactly_scale_times_the_input(scale, size):
    model = FSRCNN(scale, d=32, s=5, m=1)
    out = model(paddle.rand([2, 1, *size]))
    assert list(out.shape) == [2, 1, scale * size[0], scale * size[1]]


def test_centre_tap_lands_on_the_lr_pixel_centre():
    # A one-hot LR pixel i through a centre-tap kernel marks HR row s*i + (s-1)//2: the MATLAB centre
    # s*i + (s-1)/2 for odd s, half an HR pixel up-left of it for even s.
    for scale in (2, 3, 4):
        model = FSRCNN(scale, d=1, s=1, m=0)
        kernel = np.zeros([1, 1, 9, 9], np.float32)
        kernel[0, 0, 4, 4] = 1.0
        model.deconv.weight.set_value(kernel)
        x = np.zeros([1, 1, 6, 6], np.float32)
        x[0, 0, 2, 3] = 1.0
        out = model.upsample(paddle.to_tensor(x)).numpy()[0, 0]
        assert np.argwhere(out == 1.0).tolist() == [[scale * 2 + (scale - 1) // 2, scale * 3 + (scale - 1) // 2]]


def bilinear_deconv(model: FSRCNN, scale: int, padding: int) -> np.ndarray:
    """A separable triangle kernel peaking at HR position s*i + (s-1)/2 of LR pixel i for this padding."""
    centre = padding + (scale - 1) / 2
    taps = np.maximum(0.0, 1.0 - np.abs(np.arange(9) - centre) / scale)
    kernel = np.zeros(model.deconv.weight.shape, np.float32)
    kernel[0, 0] = np.outer(taps, taps)
    return kernel


@pytest.mark.parametrize("scale,lr_size", [(2, 10), (3, 7), (4, 6)])
def test_ramp_through_the_deconvolution_lines_up_with_its_label(scale, lr_size):
    # HR ramp -> MATLAB bicubic LR (the data protocol) -> sub-image pair as the dataset cuts it ->
    # the model's deconvolution with a bilinear kernel: away from the sub-image border the output
    # must equal the HR label, which holds only if the HR grid of the output is the label's.
    size = 24 * scale
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    hr = 40.0 + 2.0 * xx + 3.0 * yy
    lr = bicubic_downscale(hr, scale)
    lr_patch, label = cut_pair(lr, hr, 5, 6, lr_size, scale)  # well inside: no imresize border effects
    model = FSRCNN(scale, d=2, s=1, m=0)
    model.deconv.weight.set_value(bilinear_deconv(model, scale, model.padding))
    features = np.zeros([1, 2, lr_size, lr_size], np.float32)
    features[0, 0] = lr_patch
    out = model.upsample(paddle.to_tensor(features)).numpy()[0, 0]
    inner = slice(scale, scale * (lr_size - 1))  # the outer LR pixel ring sees the zero padding
    assert out.shape == label.shape == (scale * lr_size, scale * lr_size)
    np.testing.assert_allclose(out[inner, inner], label[inner, inner], atol=1e-3)

    # The often-used padding 4 / output_padding s-1 (same size) is off by (s-1)//2 HR pixels at x3/x4.
    if (scale - 1) // 2:
        wrong = F.conv2d_transpose(paddle.to_tensor(features), paddle.to_tensor(bilinear_deconv(model, scale, 3)),
                                   stride=scale, padding=4, output_padding=scale - 1).numpy()[0, 0]
        assert wrong.shape == label.shape
        assert np.abs(wrong[inner, inner] - label[inner, inner]).max() > 4.0  # one pixel of a 2+3 ramp


def test_prelu_has_one_slope_per_channel():
    model = FSRCNN(3)
    slopes = {name: list(p.shape) for name, p in model.named_parameters() if "prelu" in name}
    assert slopes["extract.prelu._weight"] == [56] and slopes["expand.prelu._weight"] == [56]
    assert slopes["shrink.prelu._weight"] == [12] and all(slopes[f"mapping.{i}.prelu._weight"] == [12] for i in range(4))
    assert np.all(model.extract.prelu._weight.numpy() == 0.25)
    # channels are scaled independently: negative inputs times each channel's own slope
    layer = FSRCNN(3, d=2, s=1, m=0).extract
    layer.conv.weight.set_value(np.stack([np.full([1, 5, 5], 1 / 25), np.full([1, 5, 5], 2 / 25)]).astype(np.float32))
    layer.prelu._weight.set_value(np.array([0.1, 0.5], np.float32))
    out = layer(paddle.full([1, 1, 9, 9], -1.0)).numpy()[0, :, 4, 4]
    np.testing.assert_allclose(out, [-0.1, -1.0], rtol=1e-5)


def test_paper_init():
    paddle.seed(0)
    model = FSRCNN(3)
    deconv = model.deconv.weight.numpy()
    assert abs(deconv.std() - 1e-3) < 5e-5 and abs(deconv.mean()) < 5e-5
    assert not model.deconv.bias.numpy().any() and not model.extract.conv.bias.numpy().any()
    # He et al. for PReLU (slope 0.25): std = sqrt(2 / (1.0625 * fan_in)); mapping fan_in = 3*3*12
    mapping = np.concatenate([layer.conv.weight.numpy().ravel() for layer in model.mapping])
    assert abs(mapping.std() / np.sqrt(2 / (1.0625 * 108)) - 1) < 0.03
    extract = model.extract.conv.weight.numpy()  # fan_in 25, 1,400 draws
    assert abs(extract.std() / np.sqrt(2 / (1.0625 * 25)) - 1) < 0.06


def test_scale_is_kept_in_the_weights():
    assert FSRCNN(2).state_dict()["scale"].numpy().tolist() == [2]


def test_halo_is_the_receptive_radius():
    # Perturbing an LR pixel `halo` away from a block changes the block's HR output; one further does not.
    paddle.seed(0)
    for scale in (2, 3, 4):
        model = FSRCNN(scale, d=8, s=4, m=2)
        model.eval()
        x = paddle.rand([1, 1, 30, 30])
        block = slice(scale * 12, scale * 18)
        base = model(x).numpy()[0, 0, block, block]
        for distance, changes in ((model.halo, True), (model.halo + 1, False)):
            for row in (12 - distance, 17 + distance):
                poked = x.numpy()
                poked[0, 0, row, 15] += 1.0
                out = model(paddle.to_tensor(poked)).numpy()[0, 0, block, block]
                assert (np.abs(out - base).max() > 0) == changes, (scale, distance, row)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_tiles_overlapping_by_the_halo_reproduce_the_whole_image(scale):
    paddle.seed(0)
    model = FSRCNN(scale, d=8, s=4, m=2)
    model.eval()
    image = np.random.default_rng(0).random((1, 23, 30)).astype(np.float32)
    with paddle.no_grad():
        whole = model(paddle.to_tensor(image[None])).numpy()[0]
        tiled = run_tiled(lambda batch: model(paddle.to_tensor(batch)).numpy(), image, tile=8,
                          halo=model.halo, out_scale=scale)
        short = run_tiled(lambda batch: model(paddle.to_tensor(batch)).numpy(), image, tile=8,
                          halo=model.halo - 1, out_scale=scale)
    np.testing.assert_allclose(tiled, whole, atol=1e-6)
    assert np.abs(short - whole).max() > 1e-4  # one pixel less of overlap is not enough
    spec = model.export_spec()
    assert spec.pipeline["halo"] == model.halo and spec.pipeline["upsample_input"] is False


def test_replicate_padding_changes_only_the_border():
    paddle.seed(0)
    zeros = FSRCNN(3, d=8, s=4, m=2)
    replicate = FSRCNN(3, d=8, s=4, m=2, padding_mode="replicate")
    replicate.set_state_dict(zeros.state_dict())
    x = paddle.rand([1, 1, 24, 24]) + 0.5  # far from zero, so zero padding is visible at the border
    a, b = zeros(x).numpy(), replicate(x).numpy()
    inner = 3 * zeros.halo  # HR pixels whose receptive field stays inside the LR image
    np.testing.assert_allclose(a[..., inner:-inner, inner:-inner], b[..., inner:-inner, inner:-inner], atol=1e-6)
    assert np.abs(a[..., :3, :] - b[..., :3, :]).max() > 1e-4
