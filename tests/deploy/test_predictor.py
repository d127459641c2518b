"""Predictor options -> paddle.inference Config, CPU for real, GPU/TensorRT through a recording Config."""
import importlib.util
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle
import pytest
from paddle.inference import PrecisionType

from ppcls_repro.deploy import predictor as pred
from ppcls_repro.deploy.benchmark import time_interleaved
from ppcls_repro.deploy.predictor import (ModelDirError, ModelFiles, Predictor, PredictorOptions, build_config,
                                          find_model_files, resolve_options)
from ppcls_repro.papers.sr.srcnn import SRCNN

REPO = Path(__file__).resolve().parents[2]
RANGE = {"image": ([1, 1, 1, 1], [1, 1, 524, 524], [4, 1, 524, 524])}


class RecordingConfig:
    """Stands in for paddle.inference.Config where the real one needs a CUDA build: records calls."""

    def __init__(self, program: str, params: str) -> None:
        self.files = (program, params)
        self.calls: list[tuple] = []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs))

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(pred, "_warned", set())


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("srcnn") / "inference"
    net = SRCNN(scale=3, init="kaiming")
    net.eval()
    spec = net.export_spec()
    paddle.jit.save(paddle.jit.to_static(net, input_spec=spec.inputs, full_graph=True), str(folder / "inference"))
    return folder


def test_gpu_request_on_cpu_build_runs_on_cpu_and_says_so_once(caplog, monkeypatch):
    # independent of earlier tests: a fresh "said once" set, and records reach caplog after a run
    monkeypatch.setattr(pred, "_warned", set())
    monkeypatch.setattr(logging.getLogger("ppcls_repro"), "propagate", True)
    with caplog.at_level(logging.WARNING, logger="ppcls_repro"):
        first = resolve_options(PredictorOptions(device="gpu", use_tensorrt=True, precision="fp16"), cuda=False)
        resolve_options(PredictorOptions(device="gpu"), cuda=False)
    assert (first.device, first.use_tensorrt, first.precision) == ("cpu", False, "fp32")
    texts = [r.getMessage() for r in caplog.records]
    assert sum("no CUDA support" in t for t in texts) == 1
    assert any("--use_tensorrt needs a GPU" in t for t in texts) and any("fp16 needs a GPU" in t for t in texts)


def test_gpu_options_are_kept_on_a_cuda_build_and_cpu_defaults_filled():
    gpu = resolve_options(PredictorOptions(device="gpu", gpu_id=1, use_tensorrt=True, precision="fp16"), cuda=True)
    assert (gpu.device, gpu.gpu_id, gpu.use_tensorrt, gpu.precision) == ("gpu", 1, True, "fp16")
    cpu = resolve_options(PredictorOptions())
    assert cpu.enable_onednn is pred.DEFAULT_ONEDNN and cpu.cpu_threads >= 1
    assert resolve_options(PredictorOptions(cpu_threads=1, enable_onednn=False)).enable_onednn is False
    with pytest.raises(ValueError, match="cpu_threads must be >= 1"):
        resolve_options(PredictorOptions(cpu_threads=0))


def test_gpu_fp16_config():
    files = ModelFiles(Path("m/inference.json"), Path("m/inference.pdiparams"))
    options = resolve_options(PredictorOptions(device="gpu", gpu_id=1, precision="fp16"), cuda=True)
    config = build_config(files, options, config_cls=RecordingConfig)
    assert config.files == ("m/inference.json", "m/inference.pdiparams")
    assert ("enable_use_gpu", (pred.GPU_MEMORY_POOL_MB, 1, PrecisionType.Half), {}) in config.calls
    assert "disable_gpu" not in config.names() and "enable_tensorrt_engine" not in config.names()


def test_gpu_tensorrt_on_a_pir_program_converts_then_loads_the_converted_model():
    files = ModelFiles(Path("m/inference.json"), Path("m/inference.pdiparams"))
    converted = ModelFiles(Path("m/tensorrt/x/inference.json"), Path("m/tensorrt/x/inference.pdiparams"))
    seen = []

    def convert(f, precision, shape_range):
        seen.append((f, precision, shape_range))
        return converted

    options = resolve_options(PredictorOptions(device="gpu", use_tensorrt=True, precision="fp16"), cuda=True)
    config = build_config(files, options, RANGE, config_cls=RecordingConfig, tensorrt_convert=convert)
    assert seen == [(files, "fp16", RANGE)]
    assert config.files == (str(converted.program), str(converted.params))
    assert ("enable_use_gpu", (pred.GPU_MEMORY_POOL_MB, 0, PrecisionType.Float32), {}) in config.calls


def test_gpu_tensorrt_on_a_legacy_program_uses_the_subgraph_engine_with_dynamic_shapes():
    files = ModelFiles(Path("m/inference.pdmodel"), Path("m/inference.pdiparams"))
    options = resolve_options(PredictorOptions(device="gpu", use_tensorrt=True, precision="fp16"), cuda=True)
    config = build_config(files, options, RANGE, config_cls=RecordingConfig,
                          tensorrt_convert=lambda *a: pytest.fail("legacy programs are not converted"))
    calls = {name: (args, kwargs) for name, args, kwargs in config.calls}
    assert calls["enable_tensorrt_engine"][1]["precision_mode"] == PrecisionType.Half
    assert calls["enable_tensorrt_engine"][1]["max_batch_size"] == 4
    low, high, opt = calls["set_trt_dynamic_shape_info"][0]
    assert low == {"image": [1, 1, 1, 1]} and high == {"image": [4, 1, 524, 524]} and opt == {"image": [1, 1, 524, 524]}
    with pytest.raises(ValueError, match="range of input shapes"):
        build_config(files, options, None, config_cls=RecordingConfig)


def test_tensorrt_without_paddle_tensorrt_is_a_clear_error():
    if importlib.util.find_spec("paddle.tensorrt") is not None:
        pytest.skip("this Paddle has paddle.tensorrt; conversion needs a GPU")
    files = ModelFiles(Path("m/inference.json"), Path("m/inference.pdiparams"))
    with pytest.raises(ModelDirError, match="no TensorRT support"):
        pred.convert_for_tensorrt(files, "fp32", RANGE)


@pytest.mark.parametrize("onednn,threads", [(True, 1), (False, 2)])
def test_cpu_config_is_what_was_asked(model_dir, onednn, threads):
    options = resolve_options(PredictorOptions(cpu_threads=threads, enable_onednn=onednn))
    config = build_config(find_model_files(model_dir), options)  # the real paddle.inference.Config
    assert config.use_gpu() is False
    assert config.onednn_enabled() is onednn
    assert config.cpu_math_library_num_threads() == threads


def test_predictor_runs_and_describes_itself(model_dir):
    predictor = Predictor(model_dir, PredictorOptions(cpu_threads=1, enable_onednn=True))
    assert predictor.input_names == ["image"] and predictor.describe() == "cpu 1 thread(s), oneDNN on"
    (out,) = predictor([np.random.default_rng(0).random((2, 1, 20, 30), dtype=np.float32)])
    assert out.shape == (2, 1, 20, 30)
    with pytest.raises(ValueError, match=r"takes 1 input\(s\)"):
        predictor([])


def test_model_folder_errors_name_the_folder(tmp_path, model_dir):
    with pytest.raises(ModelDirError, match="model folder not found"):
        find_model_files(tmp_path / "nowhere")
    with pytest.raises(ModelDirError, match="no exported model"):
        find_model_files(tmp_path)
    (tmp_path / "inference.json").write_text("{}")
    with pytest.raises(ModelDirError, match="weights inference.pdiparams are missing"):
        find_model_files(tmp_path)
    (tmp_path / "inference.pdiparams").write_bytes(b"junk")
    with pytest.raises(ModelDirError, match="cannot load the model"):
        Predictor(tmp_path)


def test_time_interleaved_warms_up_then_alternates():
    order = []
    timings = time_interleaved({"a": lambda: order.append("a"), "b": lambda: order.append("b")}, warmup=1, repeats=3)
    assert order == ["a", "b"] + ["a", "b"] * 3
    assert len(timings["a"].seconds) == 3 and timings["a"].median_ms >= 0 and "median" in timings["b"].line()


def test_benchmark_tool_checks_every_runtime_and_prints_one_row_per_net():
    """All four nets at tiny sizes, one run each: every runtime's output checked, then the table."""
    proc = subprocess.run([sys.executable, "tools/benchmark_latency.py", "--all", "--lr_size", "24", "--repeats", "1",
                           "--warmup", "0", "--threads", "1"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    has_torch = importlib.util.find_spec("torch") is not None
    has_onnx = all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "paddle2onnx"))
    assert ("PyTorch columns skipped" in proc.stdout) != has_torch
    assert ("onnxruntime column skipped" in proc.stdout) != has_onnx
    checks = [line for line in proc.stdout.splitlines() if line.startswith("output check")]
    assert len(checks) == 4 * (1 + 2 * has_torch + has_onnx)  # each runtime against Paddle Inference, per net
    lines = proc.stdout.splitlines()
    header = lines.index("| net, input | Paddle Inference (oneDNN), ms | Paddle dygraph, ms | PyTorch eager, ms "
                         "| torch.jit, ms | onnxruntime, ms |")
    rows = lines[header + 2:]
    assert [row.split(" | ")[0] for row in rows] == [
        "| SRCNN (srcnn.yaml), 1x1x72x72", "| FSRCNN (fsrcnn_x3.yaml), 1x1x24x24", "| DnCNN (dncnn_s25.yaml), 1x1x24x24",
        "| CifarResNet (resnet20_cifar10.yaml), 1x3x32x32"]
    for row in rows:
        cells = row.strip("| ").split(" | ")[1:]
        timed = [c for c in cells if c != "-"]
        assert len(timed) == 2 + 2 * has_torch + has_onnx
        assert all(c.endswith("x)") for c in timed)


def test_benchmark_tool_needs_a_config():
    proc = subprocess.run([sys.executable, "tools/benchmark_latency.py"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "give -c CONFIG (repeatable) or --all" in proc.stderr
