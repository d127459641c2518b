"""User-downloaded ImageNet ResNets (torchvision) and SE-ResNet-50 (timm's legacy port of the authors'
Caffe model) imported from real ``torch.save`` files: the imported network equals a forward pass written
here in torch's functional ops from the files' layer names (torchvision's bottleneck strides its 3x3,
the SENet port its first 1x1; SE blocks as 1x1 convolutions). Needs torch (the test extra), else skips.
"""
from pathlib import Path

import numpy as np
import paddle
import pytest

from ppcls_repro.config import load_config
from ppcls_repro.engine.checkpoint import load_weights
from ppcls_repro.engine.importing import detect_format, import_weights
from ppcls_repro.engine.setup import build_network
from ppcls_repro.papers.resnet.weights import TimmLegacySEResNet, TorchvisionResNet

torch = pytest.importorskip("torch", reason="torch is only in the test extra (pip install torch==2.13.0)")
F = torch.nn.functional
REPO = Path(__file__).resolve().parents[3]
LAYOUTS = {18: ("basic", [2, 2, 2, 2]), 50: ("bottleneck", [3, 4, 6, 3])}


def random_state(depth: int, se: bool, classes: int = 7) -> dict:
    """A state dict with torchvision's (or, with ``se``, timm legacy SENet's) names and random values."""
    gen = torch.Generator().manual_seed(depth)
    state = {}

    def conv(name, out, inp, k):
        state[f"{name}.weight"] = torch.randn(out, inp, k, k, generator=gen) * (2.0 / (inp * k * k)) ** 0.5

    def bn(name, n):
        state.update({f"{name}.weight": 1 + 0.1 * torch.randn(n, generator=gen), f"{name}.bias": 0.1 * torch.randn(n, generator=gen),
                      f"{name}.running_mean": 0.1 * torch.randn(n, generator=gen),
                      f"{name}.running_var": 0.5 + torch.rand(n, generator=gen),
                      f"{name}.num_batches_tracked": torch.tensor(7)})

    stem = "layer0." if se else ""
    conv(f"{stem}conv1", 64, 3, 7)
    bn(f"{stem}bn1", 64)
    kind, counts = LAYOUTS[depth]
    channels = 64
    for stage, count in enumerate(counts, start=1):
        width = 64 * 2 ** (stage - 1)
        out = width * (4 if kind == "bottleneck" else 1)
        for block in range(count):
            name = f"layer{stage}.{block}"
            if kind == "basic":
                conv(f"{name}.conv1", width, channels, 3), bn(f"{name}.bn1", width)
                conv(f"{name}.conv2", width, width, 3), bn(f"{name}.bn2", width)
            else:
                conv(f"{name}.conv1", width, channels, 1), bn(f"{name}.bn1", width)
                conv(f"{name}.conv2", width, width, 3), bn(f"{name}.bn2", width)
                conv(f"{name}.conv3", out, width, 1), bn(f"{name}.bn3", out)
            if se:
                conv(f"{name}.se_module.fc1", out // 16, out, 1)
                state[f"{name}.se_module.fc1.bias"] = 0.1 * torch.randn(out // 16, generator=gen)
                conv(f"{name}.se_module.fc2", out, out // 16, 1)
                state[f"{name}.se_module.fc2.bias"] = 0.1 * torch.randn(out, generator=gen)
            if block == 0 and (stage > 1 or channels != out):
                conv(f"{name}.downsample.0", out, channels, 1), bn(f"{name}.downsample.1", out)
            channels = out
    head = "last_linear" if se else "fc"
    state[f"{head}.weight"] = 0.05 * torch.randn(classes, channels, generator=gen)
    state[f"{head}.bias"] = 0.1 * torch.randn(classes, generator=gen)
    return state


def reference_forward(state: dict, x: "torch.Tensor", depth: int, se: bool) -> "torch.Tensor":
    def bn(name, t):
        return F.batch_norm(t, state[f"{name}.running_mean"], state[f"{name}.running_var"], state[f"{name}.weight"],
                            state[f"{name}.bias"], training=False, eps=1e-5)

    stem = "layer0." if se else ""
    x = F.max_pool2d(F.relu(bn(f"{stem}bn1", F.conv2d(x, state[f"{stem}conv1.weight"], stride=2, padding=3))), 3, 2, 1)
    kind, counts = LAYOUTS[depth]
    for stage, count in enumerate(counts, start=1):
        for block in range(count):
            name = f"layer{stage}.{block}"
            stride = 2 if stage > 1 and block == 0 else 1
            if kind == "basic":
                y = F.relu(bn(f"{name}.bn1", F.conv2d(x, state[f"{name}.conv1.weight"], stride=stride, padding=1)))
                y = bn(f"{name}.bn2", F.conv2d(y, state[f"{name}.conv2.weight"], padding=1))
            else:  # torchvision strides the 3x3; the SENet port strides the first 1x1
                s1, s3 = (stride, 1) if se else (1, stride)
                y = F.relu(bn(f"{name}.bn1", F.conv2d(x, state[f"{name}.conv1.weight"], stride=s1)))
                y = F.relu(bn(f"{name}.bn2", F.conv2d(y, state[f"{name}.conv2.weight"], stride=s3, padding=1)))
                y = bn(f"{name}.bn3", F.conv2d(y, state[f"{name}.conv3.weight"]))
            if se:
                w = F.adaptive_avg_pool2d(y, 1)
                w = F.relu(F.conv2d(w, state[f"{name}.se_module.fc1.weight"], state[f"{name}.se_module.fc1.bias"]))
                y = y * torch.sigmoid(F.conv2d(w, state[f"{name}.se_module.fc2.weight"], state[f"{name}.se_module.fc2.bias"]))
            shortcut = x
            if f"{name}.downsample.0.weight" in state:
                shortcut = bn(f"{name}.downsample.1", F.conv2d(x, state[f"{name}.downsample.0.weight"], stride=stride))
            x = F.relu(y + shortcut)
    head = "last_linear" if se else "fc"
    return F.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1), state[f"{head}.weight"], state[f"{head}.bias"])


@pytest.mark.parametrize("depth, se, config, fmt", [(18, False, "resnet18_imagenet.yaml", TorchvisionResNet),
                                                    (50, False, "resnet50_imagenet.yaml", TorchvisionResNet),
                                                    (50, True, "se_resnet50_imagenet.yaml", TimmLegacySEResNet)])
def test_imported_network_equals_the_files_own_forward(tmp_path, depth, se, config, fmt):
    state = random_state(depth, se)
    torch.save(state, tmp_path / "model.pth")  # the zip format of torch >= 1.6, as downloads are
    assert detect_format(tmp_path / "model.pth") is fmt
    result = import_weights(tmp_path / "model.pth", load_config(REPO / "configs" / config), tmp_path / "imported")
    cfg = load_config(result.config)
    assert cfg["Arch"]["depth"] == depth and cfg["Arch"]["num_classes"] == 7
    net = build_network(cfg, load_weights(tmp_path / "imported"), "imported")
    image = np.random.default_rng(0).random((2, 3, 64, 64)).astype(np.float32)
    with paddle.no_grad():
        ours = net(paddle.to_tensor(image)).numpy()
    with torch.no_grad():
        expected = reference_forward(state, torch.from_numpy(image), depth, se).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-4)


def test_a_resnet_with_an_unknown_block_layout_is_one_clear_error(tmp_path):
    state = random_state(18, False)
    state = {k: v for k, v in state.items() if not k.startswith("layer4.1.")}
    torch.save(state, tmp_path / "odd.pth")
    from ppcls_repro.utils.errors import DataError
    with pytest.raises(DataError, match=r"odd.pth: \[2, 2, 2, 1\] basic blocks per stage is no ResNet"):
        import_weights(tmp_path / "odd.pth", load_config(REPO / "configs" / "resnet18_imagenet.yaml"), tmp_path / "o")
