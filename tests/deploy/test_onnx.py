"""--format onnx: the released SRCNN as ONNX, equal to Paddle Inference; without the packages, one line."""
import builtins
from pathlib import Path

import numpy as np
import pytest

from ppcls_repro.commands.export import main as export_main
from ppcls_repro.config import load_config
from ppcls_repro.deploy.export import ExportError, export_model
from ppcls_repro.deploy.predictor import Predictor, PredictorOptions

ROOT = Path(__file__).resolve().parents[2]
RELEASE = ROOT / "releases" / "srcnn_x3" / "srcnn_x3"


def test_the_released_srcnn_exports_to_onnx_equal_to_paddle_inference(tmp_path):
    pytest.importorskip("paddle2onnx", reason="the onnx extra is not installed")
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    export_main(["-c", str(ROOT / "configs" / "srcnn.yaml"), "-o", f"Global.pretrained_model={RELEASE}",
                 "--save_dir", str(tmp_path), "--format", "onnx"])
    session = ort.InferenceSession(str(tmp_path / "inference.onnx"), providers=["CPUExecutionProvider"])
    (name,) = [i.name for i in session.get_inputs()]
    y = np.linspace(0, 1, 40 * 30, dtype=np.float32).reshape(1, 1, 40, 30)  # a dynamic size, not the example's
    (expected,) = Predictor(tmp_path, PredictorOptions(device="cpu"))([y])
    np.testing.assert_allclose(session.run(None, {name: y})[0], expected, atol=1e-5)


def test_without_the_onnx_packages_the_export_is_one_line(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_onnxruntime(name, *args, **kwargs):
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'", name="onnxruntime")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    cfg = load_config(ROOT / "configs" / "srcnn.yaml", [f"Global.pretrained_model={RELEASE}"])
    with pytest.raises(ExportError, match=r"^--format onnx needs paddle2onnx and onnxruntime \(onnxruntime is not "
                                          r"installed\): pip install -e '\.\[onnx\]'$"):
        export_model(cfg, tmp_path, onnx=True)
