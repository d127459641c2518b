"""HybridSN: Roy, Krishna, Dubey, Chaudhuri, "HybridSN: Exploring 3-D-2-D CNN Feature Hierarchy for
Hyperspectral Image Classification", IEEE GRSL 17(2), 2020, online 2019 (https://arxiv.org/abs/1902.06701).

Sections used:
- II (the proposed HybridSN) and its layer-wise summary table: three 3-D convolutions, 8@3x3x7,
  16@3x3x5, 32@3x3x3 (spatial x spatial x spectral, no padding), the spectral-spatial feature maps
  reshaped into channels, one 2-D convolution 64@3x3, then FC 256, dropout 0.4, FC 128, dropout
  0.4, FC classes; ReLU everywhere, no batch normalisation. 5,122,176 trainable parameters for
  Indian Pines (30 PCA bands, 25x25 windows, 16 classes): the test suite checks that number.
- III (experiments): the input is a ``window x window`` patch of the PCA-reduced cube around the
  pixel to classify (``ppcls_repro/papers/hybridsn/data.py`` builds it); training settings are in
  ``configs/hybridsn_ip.yaml``.

Layout: Paddle's NCDHW. The input is ``[N, 1, bands, window, window]`` float32 (bands = the PCA
components, spectral depth first, as the paper's Section 2 states the kernels: 8@(7,3,3) -> 16@(5,3,3) ->
32@(3,3,3)); the output is ``[N, num_classes]`` logits. For IP the 3-D stack gives
``[N, 32, 18, 19, 19]``, reshaped to ``[N, 576, 19, 19]``; the 2-D conv gives ``[N, 64, 17, 17]``
and the flattened 18,496 features feed FC 256. A plain ``nn.Layer`` with a fixed input size
(batch dynamic), ready for ``paddle.jit``.

Deviations:
- The network ends in logits; the paper's softmax is applied by the cross-entropy loss (and may be
  appended at export). Same function, numerically safer.
- The reshape folds (channel, depth) into channels as channel-major (Paddle's NCDHW) where the
  official Keras code (channels-last) is depth-major: a fixed permutation of the 2-D conv's input
  channels, the same model class (only the order of that layer's weights differs).
- Initialisation: Glorot-uniform weights and zero biases, the Keras defaults the official code used
  (the paper does not state one).
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ppcls_repro.layers.conv import Conv2D
from ppcls_repro.registry import MODELS, ConfigError, Positive
from ppcls_repro.utils.spec import ExportSpec, WithSoftmax

CONV3D = ((8, 7), (16, 5), (32, 3))  # (filters, spectral depth); every 3-D kernel is 3x3 in space


@MODELS.register
class HybridSN(nn.Layer):
    """HybridSN for ``[N, 1, bands, window, window]`` inputs.

    Args:
        num_classes: number of classes (the logits' size). Default: 16.
        bands: spectral depth of the input, the dataset's ``pca_components``; at least 13. Default: 30.
        window: side of the input window in pixels, the dataset's ``window``; at least 9. Default: 25.
        dropout: drop probability after FC 256 and after FC 128 (the paper's 0.4). Default: 0.4.
    """

    def __init__(self, num_classes: Positive = 16, bands: Positive = 30, window: Positive = 25,
                 dropout: float = 0.4) -> None:
        super().__init__()
        depth = bands - sum(k - 1 for _, k in CONV3D)
        side = window - 2 * len(CONV3D) - 2  # three 3-D convs and one 2-D conv, 3x3, unpadded
        if depth < 1 or side < 1:
            raise ConfigError(f"Arch: HybridSN needs bands >= 13 and window >= 9, "
                              f"got bands={bands}, window={window}")
        self.num_classes, self.bands, self.window = num_classes, bands, window
        channels = 1
        convs = []
        for filters, spectral in CONV3D:
            convs.append(nn.Conv3D(channels, filters, (spectral, 3, 3), weight_attr=_glorot(),
                                   bias_attr=_zero()))
            channels = filters
        self.conv3d = nn.LayerList(convs)
        self.conv2d = Conv2D(channels * depth, 64, 3, weight_attr=_glorot(), bias_attr=_zero())
        self.fc1 = nn.Linear(64 * side * side, 256, weight_attr=_glorot(), bias_attr=_zero())
        self.fc2 = nn.Linear(256, 128, weight_attr=_glorot(), bias_attr=_zero())
        self.fc3 = nn.Linear(128, num_classes, weight_attr=_glorot(), bias_attr=_zero())
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        self._check_input(x)
        for conv in self.conv3d:
            x = F.relu(conv(x))
        n, c, d, h, w = x.shape
        x = x.reshape([-1, c * d, h, w])  # spectral-spatial maps -> channels of a 2-D feature map
        x = F.relu(self.conv2d(x)).flatten(1)
        x = self.dropout(F.relu(self.fc1(x)))
        x = self.dropout(F.relu(self.fc2(x)))
        return self.fc3(x)

    def export_spec(self) -> ExportSpec:
        """Class probabilities (softmax appended) of [N, 1, bands, window, window] windows, batch
        dynamic, for the ``HyperspectralMap`` pipeline (cube -> PCA -> windows -> map)."""
        return ExportSpec(
            inputs=[paddle.static.InputSpec([None, 1, self.bands, self.window, self.window], "float32", "window")],
            pipeline={"name": "HyperspectralMap", "num_classes": self.num_classes, "bands": self.bands,
                      "window": self.window},
            network=WithSoftmax(self))

    def _check_input(self, x: paddle.Tensor) -> None:
        # A PCA/window setting that disagrees with Arch would otherwise fail deep inside a conv.
        expected = [1, self.bands, self.window, self.window]
        got = list(x.shape[1:])
        if len(x.shape) != 5 or any(g > 0 and g != e for g, e in zip(got, expected)):
            raise ConfigError(f"Arch: HybridSN(bands={self.bands}, window={self.window}) expects input "
                              f"[N, 1, {self.bands}, {self.window}, {self.window}], got {list(x.shape)}; "
                              "make Arch.bands/window match the dataset's pca_components/window")


def _glorot() -> paddle.ParamAttr:
    return paddle.ParamAttr(initializer=nn.initializer.XavierUniform())


def _zero() -> paddle.ParamAttr:
    return paddle.ParamAttr(initializer=nn.initializer.Constant(0.0))
