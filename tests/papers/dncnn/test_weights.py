"""The DnCNN authors' models imported: the network equals a numpy forward pass written from the
files' own layouts (MatConvNet: correlation, zero padding 1, merged BatchNorm; PyTorch: conv, BN with
running statistics), and the imported config is the authors' test protocol (residual output)."""
from pathlib import Path

import numpy as np
import paddle
import pytest

from ppcls_repro.config import load_config
from ppcls_repro.data.matlab import load_mat
from ppcls_repro.data.torch_files import load_torch_file, module_state_dict
from ppcls_repro.engine.checkpoint import load_weights
from ppcls_repro.engine.importing import detect_format, import_weights
from ppcls_repro.engine.setup import build_network
from ppcls_repro.papers.dncnn.weights import DnCNNMatConvNet, DnCNNPyTorch

REPO = Path(__file__).resolve().parents[3]
OFFICIAL = REPO.parent / "shared" / "official"


def correlate_same(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """x [c_in, H, W], w [c_out, c_in, 3, 3]: 'same' correlation with zero padding 1."""
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    h, w_ = x.shape[1:]
    patches = np.stack([padded[:, a:a + h, b:b + w_] for a in range(3) for b in range(3)], axis=1)  # c_in, 9, H, W
    out = np.einsum("oik,ikhw->ohw", w.reshape(w.shape[0], w.shape[1], 9), patches)
    return out if bias is None else out + bias[:, None, None]


def _official(name: str) -> Path:
    if not (OFFICIAL / name).is_file():
        pytest.skip(f"the authors' file is not at {OFFICIAL / name}")
    return OFFICIAL / name


def _imported_output(tmp_path: Path, source: Path, image: np.ndarray) -> np.ndarray:
    result = import_weights(source, load_config(REPO / "configs" / "dncnn_s25.yaml"), tmp_path / "imported")
    cfg = load_config(result.config)
    assert cfg["Arch"]["residual"] is True
    net = build_network(cfg, load_weights(tmp_path / "imported"), "imported")
    with paddle.no_grad():
        return net(paddle.to_tensor(image[None, None])).numpy()[0, 0]


def test_matconvnet_model_equals_its_layers_run_in_numpy(tmp_path):
    source = _official("DnCNN-S_sigma25.mat")
    assert detect_format(source) is DnCNNMatConvNet
    image = np.random.default_rng(0).random((14, 11)).astype(np.float32)
    x = image[None].astype(np.float64)
    for layer in load_mat(source)["net"]["layers"].reshape(-1):
        if layer["type"] == "conv":
            weight, bias = layer["weights"].reshape(-1)[:2]
            weight = weight.reshape(weight.shape + (1,) * (4 - weight.ndim))  # [h, w, c_in, c_out]
            x = correlate_same(x, weight.transpose(3, 2, 0, 1).astype(np.float64), bias.reshape(-1))
        else:
            x = np.maximum(x, 0)
    expected = image - x[0]  # Demo_test_DnCNN.m: input - net(input)
    np.testing.assert_allclose(_imported_output(tmp_path, source, image), expected, atol=1e-4)


def test_pytorch_model_equals_its_layers_run_in_numpy(tmp_path):
    source = _official("DnCNN-S_sigma25_pytorch.pth")
    assert detect_format(source) is DnCNNPyTorch
    state = module_state_dict(load_torch_file(source))
    image = np.random.default_rng(1).random((12, 13)).astype(np.float32)
    x = image[None].astype(np.float64)
    layers = sorted({int(k.split(".")[1]) for k in state})
    for index in layers:
        get = lambda name: state.get(f"dncnn.{index}.{name}")  # noqa: E731
        if get("running_mean") is not None:  # BatchNorm2d(eps=1e-4) in eval mode
            x = (x - get("running_mean")[:, None, None]) / np.sqrt(get("running_var")[:, None, None] + 1e-4)
            x = x * get("weight")[:, None, None] + get("bias")[:, None, None]
            x = np.maximum(x, 0)
        else:
            x = correlate_same(x, get("weight").astype(np.float64), get("bias"))
            if index == 0:
                x = np.maximum(x, 0)
    np.testing.assert_allclose(_imported_output(tmp_path, source, image), image - x[0], atol=1e-4)
