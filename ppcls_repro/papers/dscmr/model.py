"""DSCMR: Zhen, Hu, Wang, Peng, "Deep Supervised Cross-Modal Retrieval".

CVPR 2019, https://openaccess.thecvf.com/content_CVPR_2019/html/Zhen_Deep_Supervised_Cross-Modal_Retrieval_CVPR_2019_paper.html
(official code: https://github.com/penghu-cs/DSCMR). Sections used:
- Section 3, the method: two modality-specific sub-networks followed by fully connected layers whose
  weights are SHARED between the modalities; their output is the common representation space (U for
  images, V for texts). A linear classifier P, shared too, maps the common space to the label space.
  (The sub-network configuration is section 3.2, as the official repository's data/README says.)
- Section 4, experiments / the official Pascal Sentence features: images are 4096-d VGG-19 fc7
  features, texts 300-d sentence-CNN features, so the trainable part is the fully connected head:
  image 4096 -> 2048 ReLU, text 300 -> 2048 ReLU, shared Linear 2048 -> 1024 (common space, no
  activation), shared Linear 1024 -> C (label space, no activation), as the official ``IDCM_NN``.
- The objective J1 + alpha J2 + beta J3 is in ``ppcls_repro/papers/dscmr/loss.py``; retrieval compares
  common-space features by cosine similarity (``ppcls_repro/papers/dscmr/metrics.py``).

``forward(image, text)`` returns ``(u, v, p_img, p_txt)``: both modalities' common-space features
and their label-space predictions. ``encode_image`` / ``encode_text`` map one modality alone into
the common space (what retrieval, export and inference use).

Deviations: none in the network. Initialisation as the official PyTorch code (PyTorch's default
for Linear: weights and biases uniform in +-1/sqrt(fan_in)), not Paddle's default (Xavier weights,
zero biases). Like the official code, the model takes pre-extracted features: the convolutional
extractors (VGG-19, sentence CNN) are not part of it. In the protocol (not the network), one
deliberate deviation from the official code: best_model is selected on a validation split carved
from the training pairs, not on the test mAP (``ppcls_repro/papers/dscmr/data.py``, the configs).
"""
from __future__ import annotations

import math

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ppcls_repro.registry import MODELS, Positive
from ppcls_repro.utils.spec import Applied, Branch, ExportSpec


def _linear(in_features: int, out_features: int) -> nn.Linear:
    """A Linear initialised like PyTorch's default (the official code's): U(-1/sqrt(fan_in), +1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(in_features)
    init = nn.initializer.Uniform(-bound, bound)
    return nn.Linear(in_features, out_features, weight_attr=paddle.ParamAttr(initializer=init),
                     bias_attr=paddle.ParamAttr(initializer=init))


@MODELS.register
class DSCMR(nn.Layer):
    """Two modality branches, then a common-space layer and a label-space classifier shared by both.

    Args:
        num_classes: number of classes C (size of the label space), >= 1. Default: 20.
        image_dim: size of the input image features (the official 4096-d VGG-19 fc7), >= 1. Default: 4096.
        text_dim: size of the input text features (the official 300-d sentence CNN), >= 1. Default: 300.
        hidden_dim: width of each modality branch (Linear + ReLU), >= 1. Default: 2048.
        common_dim: dimension of the common space (shared Linear, no activation), >= 1. Default: 1024.
    """

    def __init__(self, num_classes: Positive = 20, image_dim: Positive = 4096, text_dim: Positive = 300,
                 hidden_dim: Positive = 2048, common_dim: Positive = 1024) -> None:
        super().__init__()
        for name, value in (("num_classes", num_classes), ("image_dim", image_dim), ("text_dim", text_dim),
                            ("hidden_dim", hidden_dim), ("common_dim", common_dim)):
            if value < 1:
                raise ValueError(f"DSCMR {name} must be positive, got {value}")
        self.num_classes = num_classes
        self.image_dim = image_dim
        self.text_dim = text_dim
        self.common_dim = common_dim
        self.image_branch = _linear(image_dim, hidden_dim)
        self.text_branch = _linear(text_dim, hidden_dim)
        # One layer object per shared transform: both modalities go through the same parameters.
        self.common = _linear(hidden_dim, common_dim)
        self.classifier = _linear(common_dim, num_classes)

    def encode_image(self, image: paddle.Tensor) -> paddle.Tensor:
        """Image features [N, image_dim] -> common-space features U [N, common_dim]."""
        return self.common(F.relu(self.image_branch(image)))

    def encode_text(self, text: paddle.Tensor) -> paddle.Tensor:
        """Text features [N, text_dim] -> common-space features V [N, common_dim]."""
        return self.common(F.relu(self.text_branch(text)))

    def classify(self, common: paddle.Tensor) -> paddle.Tensor:
        """Common-space features -> label-space predictions (P^T U or P^T V), no activation."""
        return self.classifier(common)

    def forward(self, image: paddle.Tensor, text: paddle.Tensor
                ) -> tuple[paddle.Tensor, paddle.Tensor, paddle.Tensor, paddle.Tensor]:
        u = self.encode_image(image)
        v = self.encode_text(text)
        return u, v, self.classify(u), self.classify(v)

    def export_spec(self) -> ExportSpec:
        """Two static models, one per modality, features in, common-space embedding out (batch
        dynamic): ``image/`` ([N, image_dim] -> [N, common_dim]) and ``text/`` ([N, text_dim] ->
        [N, common_dim]), for the ``CrossModalRetrieval`` pipeline (cosine ranking, Section 4.3)."""
        return ExportSpec(
            inputs=[],
            branches={
                "image": Branch(Applied(self, self.encode_image),
                                [paddle.static.InputSpec([None, self.image_dim], "float32", "image_features")]),
                "text": Branch(Applied(self, self.encode_text),
                               [paddle.static.InputSpec([None, self.text_dim], "float32", "text_features")]),
            },
            pipeline={"name": "CrossModalRetrieval", "image_dim": self.image_dim, "text_dim": self.text_dim,
                      "common_dim": self.common_dim})
