"""ResNet (ImageNet and CIFAR families) and SE-ResNet: sizes, FLOPs, structure, SE placement."""
import numpy as np
import paddle
import pytest

from ppcls_repro.metrics.flops import count_macs
from ppcls_repro.papers.resnet.resnet import BasicBlock, CifarResNet, ResNet, ZeroPadShortcut
from ppcls_repro.papers.resnet.senet import SECifarResNet, SEResNet

# torchvision's 1000-class ResNets (the same nets: parameter counts do not depend on stride_in_1x1)
TORCHVISION_PARAMS = {18: 11_689_512, 34: 21_797_672, 50: 25_557_032, 101: 44_549_160, 152: 60_192_808}
# ResNet Table 1, multiply-adds at 224x224 (the paper rounds 3.66 and 3.86 down, 7.57 and 11.28 up)
TABLE1_GMACS = {18: 1.8, 34: 3.6, 50: 3.8, 101: 7.6, 152: 11.3}


def trainable(model: paddle.nn.Layer) -> int:
    return sum(int(p.size) for p in model.parameters() if not p.stop_gradient)


@pytest.fixture(scope="module")
def imagenet_nets() -> dict[int, ResNet]:
    """Built once: constructing ResNet-152 takes seconds on CPU."""
    return {depth: ResNet(depth=depth) for depth in TORCHVISION_PARAMS}


def test_imagenet_parameter_counts_equal_torchvision(imagenet_nets):
    assert {d: trainable(m) for d, m in imagenet_nets.items()} == TORCHVISION_PARAMS


def test_flops_reproduce_table1_and_tell_the_blocks_apart(imagenet_nets):
    for depth, paper in TABLE1_GMACS.items():
        assert abs(count_macs(imagenet_nets[depth]).gmacs - paper) < 0.1, depth
    # the stride in the 3x3 ("V1.5") costs 0.23 G more: 4.09 G, outside Table 1's 3.8
    assert count_macs(ResNet(depth=50, stride_in_1x1=False)).gmacs == pytest.approx(4.09, abs=0.01)


def cifar_params(n: int, in_channels: int = 3, classes: int = 10) -> int:
    """Closed form for the option-A CIFAR net: 3x3 convs without bias, BN (2 per channel), FC."""
    total = 9 * in_channels * 16 + 2 * 16
    width = 16
    for stage, out in enumerate((16, 32, 64)):
        for block in range(n):
            total += 9 * width * out + 9 * out * out + 4 * out
            width = out
    return total + 64 * classes + classes


@pytest.mark.parametrize("depth,paper_millions", [(20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85), (110, 1.7)])
def test_cifar_parameter_counts_match_the_paper(depth, paper_millions):
    count = trainable(CifarResNet(depth=depth))
    assert count == cifar_params((depth - 2) // 6)
    digits = 1 if paper_millions >= 1 else 2
    assert round(count / 1e6, digits) == paper_millions


def test_option_a_shortcuts_have_no_parameters_and_pad_with_zeros():
    net = CifarResNet(depth=20)
    shortcuts = [layer for layer in net.sublayers() if isinstance(layer, ZeroPadShortcut)]
    assert len(shortcuts) == 2 and all(not s.parameters() for s in shortcuts)
    projected = CifarResNet(depth=20, shortcut="B")
    # option B adds two 1x1 projections with BN: 16*32 + 2*32 and 32*64 + 2*64
    assert trainable(projected) - trainable(net) == (16 * 32 + 64) + (32 * 64 + 128)
    x = paddle.arange(2 * 16 * 4 * 4, dtype="float32").reshape([2, 16, 4, 4])
    out = ZeroPadShortcut(16, 32, 2)(x).numpy()
    assert out.shape == (2, 32, 2, 2)
    np.testing.assert_array_equal(out[:, :16], x.numpy()[:, :, ::2, ::2])
    assert not out[:, 16:].any()


def test_stride_placement_of_the_two_bottlenecks():
    paper, v15 = ResNet(depth=50, stride_in_1x1=True), ResNet(depth=50, stride_in_1x1=False)
    block_p, block_v = paper.layer2[0], v15.layer2[0]
    assert list(block_p.conv1._stride) == [2, 2] and list(block_p.conv2._stride) == [1, 1]
    assert list(block_v.conv1._stride) == [1, 1] and list(block_v.conv2._stride) == [2, 2]
    assert trainable(paper) == trainable(v15)


def test_grouped_bottlenecks_give_resnext50_32x4d():
    # torchvision's resnext50_32x4d has 25,028,904 parameters
    assert trainable(ResNet(depth=50, groups=32, width_per_group=4, stride_in_1x1=False)) == 25_028_904
    with pytest.raises(ValueError, match="bottleneck"):
        ResNet(depth=18, groups=2)


def test_bad_depths_are_refused():
    with pytest.raises(ValueError, match="6n\\+2"):
        CifarResNet(depth=21)
    with pytest.raises(ValueError, match="one of"):
        ResNet(depth=42)


def test_models_return_logits_for_any_input_channels():
    paddle.seed(0)
    net = CifarResNet(depth=20, in_channels=1)
    net.eval()
    logits = net(paddle.randn([3, 1, 32, 32]))
    assert logits.shape == [3, 10]
    assert not np.allclose(logits.numpy().sum(axis=1), 1.0)  # no softmax inside
    small = ResNet(depth=18, num_classes=7, in_channels=4)
    small.eval()
    assert small(paddle.randn([2, 4, 64, 64])).shape == [2, 7]


def test_se_resnet50_has_the_papers_28_1m_parameters():
    count = trainable(SEResNet(depth=50))
    assert round(count / 1e6, 1) == 28.1
    # every SE block adds FC(C, C/16) + FC(C/16, C) with biases on the bottleneck output C = 4 x width
    se_params = sum(n * (2 * (4 * c) * (4 * c // 16) + 4 * c // 16 + 4 * c)
                    for n, c in zip((3, 4, 6, 3), (64, 128, 256, 512)))
    assert count - TORCHVISION_PARAMS[50] == se_params


def test_se_cifar_keeps_at_least_one_hidden_unit():
    net = SECifarResNet(depth=20, reduction=16)
    assert net.layer1[0].se.fc1.weight.shape == [16, 1]  # 16 channels / 16
    assert net.layer3[0].se.fc1.weight.shape == [64, 4]
    assert SECifarResNet(depth=20, reduction=8).layer1[0].se.fc1.weight.shape == [16, 2]


def test_se_block_rescales_the_residual_branch_before_the_addition():
    paddle.seed(1)
    block = BasicBlock(8, 8, se_reduction=4)
    block.eval()
    x = paddle.rand([2, 8, 6, 6])
    # an SE gate shut to zero leaves only the identity: relu(0 + x) = x
    block.se.fc2.weight.set_value(paddle.zeros_like(block.se.fc2.weight))
    block.se.fc2.bias.set_value(paddle.full_like(block.se.fc2.bias, -1e4))
    np.testing.assert_allclose(block(x).numpy(), x.numpy(), atol=1e-6)
    # a gate of sigmoid(0) = 0.5 halves the branch
    block.se.fc2.bias.set_value(paddle.zeros_like(block.se.fc2.bias))
    plain = BasicBlock(8, 8)
    plain.set_state_dict({k: v for k, v in block.state_dict().items() if not k.startswith("se.")})
    plain.eval()
    branch = plain.bn2(plain.conv2(paddle.nn.functional.relu(plain.bn1(plain.conv1(x)))))
    np.testing.assert_allclose(block(x).numpy(), paddle.nn.functional.relu(0.5 * branch + x).numpy(),
                               rtol=1e-5, atol=1e-6)
