"""ONNX export of a saved static model: ``paddle2onnx`` converts it, ``onnxruntime`` runs it on the
export's example inputs, and its outputs must equal Paddle Inference's (the deployed model's) within
``VERIFY_TOLERANCE`` of the output's magnitude. Both packages are optional (the ``onnx`` extra)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ppcls_repro.deploy.predictor import Predictor, PredictorOptions, find_model_files

ONNX_FILE = "inference.onnx"
OPSET = 11  # old enough for every runtime; the nets here use only convolutions, pooling and elementwise ops


class OnnxUnavailable(ImportError):
    """paddle2onnx or onnxruntime is not installed."""


def _modules():
    try:
        import onnxruntime
        import paddle2onnx
    except ImportError as err:
        raise OnnxUnavailable(f"--format onnx needs paddle2onnx and onnxruntime ({err.name} is not installed): "
                              "pip install -e '.[onnx]'") from None
    return paddle2onnx, onnxruntime


def require_onnx() -> None:
    """Raise ``OnnxUnavailable`` (one line: what is missing, how to install it) unless both packages import."""
    _modules()


def onnx_session(path: Path, threads: int):
    """An onnxruntime CPU session of ``path`` computing with ``threads`` threads: intra-op (inside each
    operator, like the other runtimes' thread count); one inter-op thread (the nets are chains of ops)."""
    _, onnxruntime = _modules()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def export_onnx(folder: Path, input_names: list[str], examples: list[np.ndarray]) -> tuple[Path, float, float]:
    """Convert the static model in ``folder`` to ``folder/inference.onnx``; return it, the max abs
    difference of onnxruntime's outputs to Paddle Inference's on ``examples``, and their magnitude."""
    paddle2onnx, onnxruntime = _modules()
    files = find_model_files(folder)
    out = folder / ONNX_FILE
    paddle2onnx.export(str(files.program), str(files.params), save_file=str(out), opset_version=OPSET,
                       enable_onnx_checker=True)
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    feeds = dict(zip(input_names, examples))
    onnx_outputs = session.run(None, {i.name: feeds[i.name] for i in session.get_inputs()})
    paddle_outputs = Predictor(folder, PredictorOptions(device="cpu"))(examples)
    if len(onnx_outputs) != len(paddle_outputs) or any(a.shape != b.shape for a, b in zip(onnx_outputs, paddle_outputs)):
        raise ValueError(f"{out}: outputs {[a.shape for a in onnx_outputs]} differ in shape from Paddle Inference's "
                         f"{[b.shape for b in paddle_outputs]}")
    diff = max(float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max()) for a, b in zip(onnx_outputs, paddle_outputs))
    scale = max(1.0, max(float(np.abs(b).max()) for b in paddle_outputs))
    return out, diff, scale
