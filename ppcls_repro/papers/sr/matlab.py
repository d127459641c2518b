"""The SR authors' MATLAB test procedure re-done in NumPy: ``SRCNN.m`` (and ``FSRCNN.m`` with
``deconv.m``) on the arrays of their released ``.mat`` files, read as they lay them out. Independent
of the suite's importer and networks: ``tools/align.py --weights`` compares the suite's eval-mode
network with it (``reference_torch.py``), and ``tests/papers/sr/test_weights.py`` the importer.

- ``SRCNN.m``: each layer is ``imfilter(input, filter, 'same', 'replicate')`` per channel pair (a
  correlation with edge replication), plus the bias, ReLU after the first two layers; a filter column
  is reshaped in MATLAB's (column-major) order.
- ``FSRCNN.m``: the same for the convolutions, PReLU after each, then ``deconv.m``: the LR maps padded
  by one pixel of edge replication, each pixel's 9x9 kernel scattered ``scale`` apart, and the HR image
  cropped from ``(9 + 1) / 2 + scale - 1``. The suite's transposed convolution does not pad, so the HR
  border within the kernel's reach (``2 * scale`` pixels) differs; inside it the two are the same.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import correlate


def matlab_filter(column: np.ndarray, size: int) -> np.ndarray:
    """A filter stored as a column, in MATLAB's reshape order."""
    return column.reshape(size, size, order="F")


def srcnn_m(image: np.ndarray, mat: dict[str, Any]) -> np.ndarray:
    """``SRCNN.m`` on a 2-D float image with the ``weights_conv*`` / ``biases_conv*`` arrays of ``mat``."""
    w1, w2, w3 = mat["weights_conv1"], mat["weights_conv2"], mat["weights_conv3"]
    k1, k2, k3 = (int(round(np.sqrt(n))) for n in (w1.shape[0], w2.shape[1], w3.shape[1]))
    x1 = [np.maximum(correlate(image, matlab_filter(w1[:, i], k1), mode="nearest") + mat["biases_conv1"][i, 0], 0)
          for i in range(w1.shape[1])]
    x2 = [np.maximum(sum(correlate(x1[j], matlab_filter(w2[j, :, i], k2), mode="nearest") for j in range(len(x1)))
                     + mat["biases_conv2"][i, 0], 0) for i in range(w2.shape[2])]
    return sum(correlate(x2[i], matlab_filter(w3[i, :], k3), mode="nearest")
               for i in range(len(x2))) + mat["biases_conv3"][0, 0]


def deconv_m(image: np.ndarray, kernel: np.ndarray, stride: int) -> np.ndarray:
    """``deconv.m``: replicate-pad by 1, scatter each pixel's kernel ``stride`` apart, crop."""
    padded = np.pad(image, 1, mode="edge")
    size = kernel.shape[0]
    out = np.zeros((padded.shape[0] * stride + size - 1, padded.shape[1] * stride + size - 1))
    for i in range(padded.shape[0]):
        for j in range(padded.shape[1]):
            out[i * stride:i * stride + size, j * stride:j * stride + size] += padded[i, j] * kernel
    start = (size + 1) // 2 + stride - 1
    return out[start:start + image.shape[0] * stride, start:start + image.shape[1] * stride]


def fsrcnn_m(image: np.ndarray, mat: dict[str, Any], scale: int) -> np.ndarray:
    """``FSRCNN.m`` on a 2-D float LR image with the ``weights_conv`` / ``biases_conv`` / ``prelu_conv``
    cells of ``mat`` (as ``scipy.io.loadmat`` reads them)."""
    weights, biases, slopes = (list(mat[k].reshape(-1)) for k in ("weights_conv", "biases_conv", "prelu_conv"))
    maps = [image]
    for w, b, a in zip(weights[:-1], biases[:-1], slopes[:-1]):
        w = w.reshape(w.shape + (1,) * (3 - w.ndim))
        k = int(round(np.sqrt(w.shape[1])))
        out = []
        for i in range(w.shape[2]):
            x = sum(correlate(maps[j], matlab_filter(w[j, :, i], k), mode="nearest") for j in range(w.shape[0])) + b[i, 0]
            out.append(np.maximum(x, 0) + float(a[0, 0]) * np.minimum(x, 0))
        maps = out
    deconv = weights[-1].reshape(1, -1, len(maps))
    return sum(deconv_m(maps[j], matlab_filter(deconv[0, :, j], 9), scale)
               for j in range(len(maps))) + biases[-1][0, 0]
