"""GAN: Goodfellow, Pouget-Abadie, Mirza, Xu, Warde-Farley, Ozair, Courville, Bengio,
"Generative Adversarial Nets", NeurIPS 2014 (https://arxiv.org/abs/1406.2661).

Sections used:
- 3 and Algorithm 1: a generator G(z) and a discriminator D(x) trained as a minimax game
  (the training step is ``step.py``).
- 5 (Experiments, MNIST): G mixes rectifier and sigmoid units, D uses maxout with dropout; noise is
  the only input of G (no dropout or intermediate noise in G).

The exact layer settings are those of the authors' official pylearn2 config ``mnist.yaml``
(github.com/goodfeli/adversarial):
- G: 100-d noise -> RectifiedLinear 1200 -> RectifiedLinear 1200 -> Sigmoid 784, every weight
  uniform in [-0.05, 0.05] (``irange: .05``), hidden biases 0, the output bias set so that
  sigmoid(bias) equals the training pixels' mean (``init_bias: init_sigmoid_bias_from_marginals``;
  pylearn2 clips the means to [1e-7, 1 - 1e-7]): ``Generator.init_output_bias`` does it, the step
  calls it with the training images before training.
- Noise: pylearn2's ``Generator`` draws N(0, 1) by default and ``mnist.yaml`` keeps that default
  (``noise: gaussian``); ``uniform`` (in [-sqrt(3), sqrt(3)], unit variance) is the other option of
  that code.
- D: Maxout 240 units x 5 pieces -> Maxout 240 x 5 -> Sigmoid 1, weights uniform in
  [-0.005, 0.005] (``irange: .005``), biases 0. No ``max_col_norm`` is set in ``mnist.yaml`` (its
  TFD/CIFAR configs use it), so there is no norm constraint here.
- Dropout on D (``AdversaryCost2``): the input of the first layer is kept with probability 0.8 and
  scaled by 1.25, the inputs of the later layers kept with 0.5 and scaled by 2; that is inverted
  dropout, which is what ``paddle.nn.Dropout`` (``upscale_in_train``) does. Dropout is active only in
  training mode, and also in the generator's update (the official code reuses D's dropped-out
  output on the samples for G's objective).

``MaxoutDiscriminator.forward`` returns logits (the losses use stable log-sigmoid forms);
``probability`` applies the sigmoid.

Deviations: none in the networks. pylearn2 draws random numbers with Theano's MRG generator;
Paddle's generator gives other (equally distributed) draws.
"""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ppcls_repro.registry import MODELS, Positive
from ppcls_repro.utils.spec import ExportSpec

MARGINAL_CLIP = 1e-7  # pylearn2's init_sigmoid_bias_from_array clips the means to [1e-7, 1 - 1e-7]


def uniform_linear(in_features: int, out_features: int, irange: float) -> nn.Linear:
    """A linear layer with weights uniform in [-irange, irange] and zero bias (pylearn2's ``irange``)."""
    return nn.Linear(in_features, out_features,
                     weight_attr=nn.initializer.Uniform(-irange, irange),
                     bias_attr=nn.initializer.Constant(0.0))


@MODELS.register
class Generator(nn.Layer):
    """Noise [N, noise_dim] -> images [N, 1, H, W] in (0, 1): ReLU hidden layers, sigmoid output.

    Args:
        noise_dim: size of the noise vector z, >= 1 (``mnist.yaml``: 100). Default: 100.
        hidden: widths of the ReLU hidden layers, at least one, each >= 1 (``mnist.yaml``: 1200, 1200).
            Default: (1200, 1200).
        image_shape: (C, H, W) of the output images; the sigmoid layer has C x H x W units. Default: (1, 28, 28).
        irange: every weight uniform in [-irange, irange], > 0; biases start at 0 (``mnist.yaml``: 0.05).
            Default: 0.05.
        noise: "gaussian" (N(0, 1), ``mnist.yaml``'s) or "uniform" (in [-sqrt(3), sqrt(3)], unit variance).
            Default: "gaussian".
    """

    def __init__(self, noise_dim: Positive = 100, hidden: tuple[Positive, ...] = (1200, 1200),
                 image_shape: tuple[Positive, Positive, Positive] = (1, 28, 28), irange: float = 0.05,
                 noise: Literal["gaussian", "uniform"] = "gaussian") -> None:
        super().__init__()
        if noise_dim < 1 or not hidden or min(hidden) < 1 or irange <= 0:
            raise ValueError(f"Generator: bad settings noise_dim={noise_dim}, hidden={hidden}, irange={irange}")
        self.noise_dim = noise_dim
        self.image_shape = tuple(image_shape)
        self.noise = noise
        sizes = [noise_dim, *hidden]
        self.hidden = nn.LayerList([uniform_linear(a, b, irange) for a, b in zip(sizes[:-1], sizes[1:])])
        self.out = uniform_linear(sizes[-1], int(np.prod(image_shape)), irange)

    def forward(self, z: paddle.Tensor) -> paddle.Tensor:
        h = z
        for layer in self.hidden:
            h = F.relu(layer(h))
        x = F.sigmoid(self.out(h))
        return x.reshape([-1, *self.image_shape])

    def sample_noise(self, num: int, rng: np.random.Generator | None = None) -> paddle.Tensor:
        """Noise for ``num`` samples: from Paddle's global generator, or from ``rng`` (fixed evaluation noise)."""
        if rng is None:
            if self.noise == "gaussian":
                return paddle.randn([num, self.noise_dim])
            return paddle.uniform([num, self.noise_dim], min=-math.sqrt(3.0), max=math.sqrt(3.0))
        if self.noise == "gaussian":
            values = rng.standard_normal((num, self.noise_dim))
        else:
            values = rng.uniform(-math.sqrt(3.0), math.sqrt(3.0), (num, self.noise_dim))
        return paddle.to_tensor(values.astype(np.float32))

    @paddle.no_grad()
    def init_output_bias(self, pixel_means: np.ndarray) -> None:
        """Set the output bias so that sigmoid(bias) is each pixel's mean over the training images."""
        means = np.clip(np.asarray(pixel_means, np.float64).reshape(-1), MARGINAL_CLIP, 1.0 - MARGINAL_CLIP)
        if means.size != self.out.bias.shape[0]:
            raise ValueError(f"Generator.init_output_bias: {means.size} pixel means for {self.out.bias.shape[0]} outputs")
        self.out.bias.set_value(np.log(means / (1.0 - means)).astype(np.float32))

    def export_spec(self) -> ExportSpec:
        """Noise in, images [N, C, H, W] in [0, 1] out; the pipeline draws the noise from a seed."""
        return ExportSpec(
            inputs=[paddle.static.InputSpec([None, self.noise_dim], "float32", name="noise")],
            pipeline={"name": "GANSamples", "noise_dim": self.noise_dim, "noise": self.noise,
                      "image_shape": list(self.image_shape)})


class Maxout(nn.Layer):
    """Maxout (Goodfellow et al. 2013): a linear map to units x pieces, then the max over each unit's pieces."""

    def __init__(self, in_features: int, units: int, pieces: int, irange: float) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = uniform_linear(in_features, units * pieces, irange)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        z = self.linear(x).reshape([-1, self.units, self.pieces])
        # The same values and gradients as z.max(axis=2), whose backward is ~10x slower on Paddle's
        # CPU kernels (it was half of a GAN training step): gather the winning piece instead.
        winner = z.argmax(axis=2, keepdim=True)
        return paddle.take_along_axis(z, winner, axis=2).squeeze(2)


@MODELS.register
class MaxoutDiscriminator(nn.Layer):
    """Images [N, ...] -> logits [N, 1]: dropout + maxout layers, then dropout + a linear (sigmoid) unit.

    Args:
        in_features: size of a flattened input image (784 = 28 x 28). Default: 784.
        units: maxout units of each hidden layer, at least one layer, each >= 1 (``mnist.yaml``: 240, 240).
            Default: (240, 240).
        pieces: linear pieces per maxout unit, >= 1 (``mnist.yaml``: 5). Default: 5.
        irange: every weight uniform in [-irange, irange]; biases start at 0 (``mnist.yaml``: 0.005).
            Default: 0.005.
        input_keep: probability of keeping each input pixel (inverted dropout, training mode only), in (0, 1];
            1 is no dropout. Default: 0.8.
        hidden_keep: keep probability of the inputs of every later layer (maxout and the output unit), in
            (0, 1]. Default: 0.5.
    """

    def __init__(self, in_features: Positive = 784, units: tuple[Positive, ...] = (240, 240), pieces: Positive = 5,
                 irange: float = 0.005, input_keep: float = 0.8, hidden_keep: float = 0.5) -> None:
        super().__init__()
        if not units or min(units) < 1 or pieces < 1 or not (0 < input_keep <= 1 and 0 < hidden_keep <= 1):
            raise ValueError(f"MaxoutDiscriminator: bad settings units={units}, pieces={pieces}, "
                             f"input_keep={input_keep}, hidden_keep={hidden_keep}")
        self.in_features = in_features
        sizes = [in_features, *units]
        self.maxout = nn.LayerList([Maxout(a, b, pieces, irange) for a, b in zip(sizes[:-1], sizes[1:])])
        self.out = uniform_linear(sizes[-1], 1, irange)
        # dropout[i] acts on the input of layer i (pylearn2's input_include_probs)
        keeps = [input_keep] + [hidden_keep] * len(units)
        self.dropout = nn.LayerList([nn.Dropout(p=1.0 - keep) for keep in keeps])

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        h = x.reshape([-1, self.in_features])
        for drop, layer in zip(self.dropout, self.maxout):
            h = layer(drop(h))
        return self.out(self.dropout[-1](h))

    def probability(self, x: paddle.Tensor) -> paddle.Tensor:
        return F.sigmoid(self(x))


class GANPair(nn.Layer):
    """The two networks of a GAN; its weights are ``generator.*`` and ``discriminator.*``."""

    def __init__(self, generator: Generator, discriminator: MaxoutDiscriminator) -> None:
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator


def generator_weights(weights: dict) -> dict:
    """The generator's own entries (without the ``generator.`` prefix) of a GAN checkpoint: what is released."""
    prefix = "generator."
    return {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
