"""PyTorch twins of the CIFAR and ImageNet ResNets (and their SE variants) for ``tools/align.py`` and
``tools/benchmark_train.py``.

This project's own re-writing of Section 4.2's networks in PyTorch (``independent: false``): a 3x3
convolution with 16 filters, three stages of n basic blocks (16/32/64 filters, the first block of
stages 2 and 3 with stride 2), global average pooling, a fully connected layer; option A shortcuts
(identity, subsampled, zero channels appended after the identity channels) or option B (1x1
convolution + BN where the shape changes); with ``se_reduction`` an SE block (Hu et al.: pool,
FC-ReLU-FC-sigmoid, rescale) on every residual branch before the addition. The tensor names are the
suite's, so the importer's PyTorch rename (``weights.suite_key``: BatchNorm statistics) maps them.
The ImageNet ResNets and SE-ResNets (Table 1; stride on the first 1x1 or on the 3x3; option B) have a
twin too: torchvision would be the independent reference, but its release for torch 2.13.0
(torchvision 0.28.0) fails at import here ("operator torchvision::nms does not exist") and later ones
require a later torch (README, "Alignment"). ``cifar_resnet_speed_case`` pairs the suite's training step
with the CIFAR twin for the training-speed table; ``resnet_inference_twin`` is the exported classifier
(softmax appended) for the latency table (``tools/benchmark_latency.py``). Imports torch: never imported by the package.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as tF

from ppcls_repro.engine.alignment import ALIGNMENT_REFERENCES, Batch, Implementation, Problem, imported_start
from ppcls_repro.engine.reference_torch import TorchSide, generic_loss, inference_module, supervised_speed_case
from ppcls_repro.engine.speed import SpeedCase, batch_size, sample_shape
from ppcls_repro.papers.resnet.weights import suite_key
from ppcls_repro.registry import MODELS


class TorchSE(tnn.Module):
    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1, self.fc2 = tnn.Linear(channels, hidden), tnn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.sigmoid(self.fc2(tF.relu(self.fc1(x.mean(dim=(2, 3))))))
        return x * weights[:, :, None, None]


class TorchProjection(tnn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv = tnn.Conv2d(cin, cout, 1, stride, bias=False)
        self.bn = tnn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class TorchBasicBlock(tnn.Module):
    def __init__(self, cin: int, cout: int, stride: int, shortcut: str = "A", se_reduction: int | None = None) -> None:
        super().__init__()
        self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(cout)
        self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(cout)
        self.se = TorchSE(cout, se_reduction) if se_reduction else None
        reshaped = stride > 1 or cin != cout
        self.shortcut = TorchProjection(cin, cout, stride) if reshaped and shortcut == "B" else None
        self.stride, self.extra, self.option_a = stride, cout - cin, reshaped and shortcut == "A"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(tF.relu(self.bn1(self.conv1(x)))))
        if self.se is not None:
            out = self.se(out)
        if self.shortcut is not None:
            identity = self.shortcut(x)
        elif self.option_a:  # option A: subsample, append zero channels
            identity = tF.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.extra))
        else:
            identity = x
        return tF.relu(out + identity)


class TorchWithSoftmax(tnn.Module):
    """A classifier's logits with the softmax over classes that the export appends (``WithSoftmax``)."""

    def __init__(self, classifier: tnn.Module) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.classifier(x), dim=-1)


class TorchCifarResNet(tnn.Module):
    """ResNet with 6n+2 layers for 32x32 inputs; logits out."""

    def __init__(self, depth: int = 20, num_classes: int = 10, in_channels: int = 3, shortcut: str = "A",
                 se_reduction: int | None = None) -> None:
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = tnn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(16)
        width, stages = 16, []
        for index, channels in enumerate((16, 32, 64)):
            blocks = []
            for i in range(n):
                blocks.append(TorchBasicBlock(width, channels, 2 if index and i == 0 else 1, shortcut, se_reduction))
                width = channels
            stages.append(tnn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = tnn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer3(self.layer2(self.layer1(tF.relu(self.bn1(self.conv1(x))))))
        return self.fc(x.mean(dim=(2, 3)))


class TorchBottleneck(tnn.Module):
    """1x1, 3x3, 1x1 (x4); the stride on the first 1x1 (the paper's) or on the 3x3 ("v1.5")."""

    def __init__(self, cin: int, channels: int, stride: int, stride_in_1x1: bool = True, groups: int = 1,
                 width_per_group: int = 64, se_reduction: int | None = None) -> None:
        super().__init__()
        width, cout = int(channels * width_per_group / 64) * groups, channels * 4
        self.conv1 = tnn.Conv2d(cin, width, 1, stride if stride_in_1x1 else 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(width)
        self.conv2 = tnn.Conv2d(width, width, 3, 1 if stride_in_1x1 else stride, 1, groups=groups, bias=False)
        self.bn2 = tnn.BatchNorm2d(width)
        self.conv3 = tnn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(cout)
        self.se = TorchSE(cout, se_reduction) if se_reduction else None
        self.shortcut = TorchProjection(cin, cout, stride) if stride > 1 or cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = tF.relu(self.bn1(self.conv1(x)))
        out = tF.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.se is not None:
            out = self.se(out)
        return tF.relu(out + (x if self.shortcut is None else self.shortcut(x)))


BLOCKS_PER_STAGE = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


class TorchResNet(tnn.Module):
    """ImageNet ResNet-18/34 (basic blocks) and 50/101/152 (bottlenecks), Table 1, option B shortcuts."""

    def __init__(self, depth: int = 50, num_classes: int = 1000, in_channels: int = 3, stride_in_1x1: bool = True,
                 groups: int = 1, width_per_group: int = 64, se_reduction: int | None = None) -> None:
        super().__init__()
        self.conv1 = tnn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        width, stages = 64, []
        for index, (count, channels) in enumerate(zip(BLOCKS_PER_STAGE[depth], (64, 128, 256, 512))):
            blocks = []
            for i in range(count):
                stride = 2 if index and i == 0 else 1
                if depth < 50:
                    blocks.append(TorchBasicBlock(width, channels, stride, "B", se_reduction))
                    width = channels
                else:
                    blocks.append(TorchBottleneck(width, channels, stride, stride_in_1x1, groups, width_per_group,
                                                  se_reduction))
                    width = channels * 4
            stages.append(tnn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = tnn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = tF.max_pool2d(tF.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(x.mean(dim=(2, 3)))


@ALIGNMENT_REFERENCES.register
class CifarResNetTwin:
    """CIFAR ResNets (option A or B) and SE-ResNets: this project's PyTorch twin."""

    models = ("CifarResNet", "SECifarResNet")
    independent = False

    def __init__(self, cfg: dict[str, Any], weights_file: Path | None) -> None:
        self.cfg, self.weights_file = cfg, weights_file
        self.arch = MODELS.with_defaults(cfg["Arch"], "Arch")
        self.description = (f"PyTorch twin of {cfg['Arch']['name']} (this project's, "
                            "ppcls_repro/papers/resnet/reference_torch.py)")

    def suite_config(self, cfg: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray] | None]:
        return imported_start(cfg, self.weights_file)

    def example_input(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        return rng.standard_normal((batch_size, self.arch["in_channels"], 32, 32)).astype(np.float32)

    def example_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        """Normalised-image-like inputs (32x32: CIFAR, MNIST padded by 2) and labels."""
        labels = rng.integers(0, self.arch["num_classes"], batch_size).astype(np.int64)
        return self.example_input(rng, batch_size), labels

    @staticmethod
    def module(arch: dict[str, Any]) -> tnn.Module:
        reduction = arch.get("reduction", arch.get("se_reduction"))
        return TorchCifarResNet(arch["depth"], arch["num_classes"], arch["in_channels"], arch["shortcut"], reduction)

    def implementation(self, problem: Problem) -> Implementation:
        arch = MODELS.with_defaults(problem.cfg["Arch"], "Arch")
        return TorchSide(lambda: self.module(arch), suite_key, generic_loss(problem.cfg["Loss"]),
                         problem).implementation()


@ALIGNMENT_REFERENCES.register
class ImageNetResNetTwin(CifarResNetTwin):
    """ImageNet ResNets and SE-ResNets: this project's PyTorch twin (torchvision does not import here)."""

    models = ("ResNet", "SEResNet")
    INPUT_SIZE = 64  # fully convolutional up to the global pooling: every layer runs, at 1/12 of 224x224's cost

    def example_input(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        size = self.INPUT_SIZE
        return rng.standard_normal((batch_size, self.arch["in_channels"], size, size)).astype(np.float32)

    @staticmethod
    def module(arch: dict[str, Any]) -> tnn.Module:
        reduction = arch.get("reduction", arch.get("se_reduction"))
        return TorchResNet(arch["depth"], arch["num_classes"], arch["in_channels"], arch["stride_in_1x1"],
                           arch["groups"], arch["width_per_group"], reduction)


def cifar_resnet_speed_case(cfg: dict[str, Any]) -> SpeedCase:
    """A CIFAR (SE-)ResNet's training iteration on 32x32 inputs of the config's batch size, Paddle and the twin."""
    twin = CifarResNetTwin(cfg, None)
    batch = twin.example_batch(np.random.default_rng(cfg["Global"]["seed"]), batch_size(cfg))
    name = "SE-ResNet" if cfg["Arch"]["name"] == "SECifarResNet" else "ResNet"
    label = f"{name}-{twin.arch['depth']}, {len(batch[0])} x {sample_shape(batch[0])}"
    return supervised_speed_case(cfg, "resnet", label, batch, lambda: twin.module(twin.arch), suite_key,
                                 generic_loss(cfg["Loss"]))


def resnet_inference_twin(cfg: dict[str, Any], weights: dict[str, np.ndarray]) -> tnn.Module:
    """The exported (SE-)ResNet in PyTorch, CIFAR or ImageNet: the twin in eval mode holding the suite's
    ``weights``, its logits through the softmax the export appends."""
    twin = ImageNetResNetTwin if cfg["Arch"]["name"] in ImageNetResNetTwin.models else CifarResNetTwin
    arch = MODELS.with_defaults(cfg["Arch"], "Arch")
    return TorchWithSoftmax(inference_module(twin.module(arch), weights, suite_key)).eval()
