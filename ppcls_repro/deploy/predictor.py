"""Paddle Inference predictors for an exported model, on CPU or GPU, from one set of options.

``build_config`` turns ``PredictorOptions`` into a ``paddle.inference.Config``: on CPU oneDNN and
the number of math threads; on GPU the device, fp16, and TensorRT. TensorRT on a PIR program
(``inference.json``, what ``paddle.jit.save`` writes in Paddle 3) goes through
``paddle.tensorrt.export.convert``, which writes a TensorRT program once and caches it beside the
model; on a legacy program (``inference.pdmodel``) it is the subgraph engine of the Config. The
config class and the converter are parameters so the GPU path can be checked on a CPU machine.

A GPU request on a Paddle without CUDA says so once and runs on CPU.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
import paddle

from ppcls_repro.engine.checkpoint import CheckpointError
from ppcls_repro.registry import ConfigError
from ppcls_repro.utils.cpu import available_cores
from ppcls_repro.utils.logger import get_logger

MODEL_PREFIX = "inference"
# input name -> (min, opt, max) shapes, what TensorRT needs for dynamic dimensions
ShapeRange = dict[str, tuple[list[int], list[int], list[int]]]

# CPU defaults, measured with tools/benchmark_latency.py --sweep (SRCNN 9-1-5, one 768x768 Y input,
# this project's 2-core machine while other jobs kept it loaded; numbers in the README): oneDNN on
# was 3.8x (and in a busier run 6.6-7x) faster than off at 1 and 2 threads, so it is the default.
# Threads: 1 and 2 were equal (651 vs 652 ms; 1.12x for 1 thread in the busier run, whose second
# core was taken by training). An idle machine was not available, so the default stays "every
# core this process may use" (None; see utils/cpu.available_cores), what an otherwise idle laptop wants.
DEFAULT_ONEDNN = True
DEFAULT_CPU_THREADS: int | None = None
GPU_MEMORY_POOL_MB = 256
TENSORRT_WORKSPACE = 1 << 30

_warned: set[str] = set()


class ModelDirError(CheckpointError):
    """An exported-model folder that cannot be used; the message names it."""


@dataclasses.dataclass(frozen=True)
class ModelFiles:
    program: Path  # inference.json (PIR) or inference.pdmodel (legacy program)
    params: Path

    @property
    def is_pir(self) -> bool:
        return self.program.suffix == ".json"


def find_model_files(model_dir: str | Path, prefix: str = MODEL_PREFIX) -> ModelFiles:
    """The program and weights files of an exported model; either program format is accepted."""
    folder = Path(model_dir)
    if not folder.is_dir():
        raise ModelDirError(f"model folder not found: {folder} (write one with tools/export_model.py)")
    params = folder / f"{prefix}.pdiparams"
    for suffix in (".json", ".pdmodel"):
        program = folder / f"{prefix}{suffix}"
        if program.is_file():
            if not params.is_file():
                raise ModelDirError(f"{folder}: {program.name} is there but its weights {params.name} are missing")
            return ModelFiles(program=program, params=params)
    raise ModelDirError(f"{folder}: no exported model ({prefix}.json or {prefix}.pdmodel with "
                        f"{prefix}.pdiparams); write one with tools/export_model.py")


@dataclasses.dataclass(frozen=True)
class PredictorOptions:
    device: Literal["cpu", "gpu"] = "cpu"
    gpu_id: int = 0
    use_tensorrt: bool = False
    precision: Literal["fp32", "fp16"] = "fp32"
    cpu_threads: int | None = None  # None: DEFAULT_CPU_THREADS
    enable_onednn: bool | None = None  # None: DEFAULT_ONEDNN


def warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        get_logger().warning(message)


def resolve_options(options: PredictorOptions, cuda: bool | None = None) -> PredictorOptions:
    """The options that will actually apply on this Paddle build, saying once what was changed."""
    if options.device not in ("cpu", "gpu") or options.precision not in ("fp32", "fp16"):
        raise ConfigError(f"device must be cpu|gpu and precision fp32|fp16, got {options.device}, {options.precision}")
    if options.cpu_threads is not None and options.cpu_threads < 1:
        raise ConfigError(f"cpu_threads must be >= 1, got {options.cpu_threads}")
    cuda = paddle.device.is_compiled_with_cuda() if cuda is None else cuda
    resolved = options
    if options.device == "gpu" and not cuda:
        warn_once("--device gpu: this Paddle has no CUDA support (CPU build); running on CPU")
        resolved = dataclasses.replace(resolved, device="cpu")
    if resolved.device == "cpu":
        if resolved.use_tensorrt:
            warn_once("--use_tensorrt needs a GPU; running without TensorRT on CPU")
        if resolved.precision == "fp16":
            warn_once("--precision fp16 needs a GPU; running fp32 on CPU")
        resolved = dataclasses.replace(resolved, use_tensorrt=False, precision="fp32")
    threads = resolved.cpu_threads or DEFAULT_CPU_THREADS or available_cores()
    onednn = DEFAULT_ONEDNN if resolved.enable_onednn is None else resolved.enable_onednn
    return dataclasses.replace(resolved, cpu_threads=threads, enable_onednn=onednn)


def _precision(name: str) -> Any:
    from paddle.inference import PrecisionType

    return PrecisionType.Half if name == "fp16" else PrecisionType.Float32


def build_config(files: ModelFiles, options: PredictorOptions, shape_range: ShapeRange | None = None,
                 config_cls: Callable[[str, str], Any] | None = None,
                 tensorrt_convert: Callable[[ModelFiles, str, ShapeRange], ModelFiles] | None = None) -> Any:
    """A ``paddle.inference.Config`` for resolved ``options`` (see ``resolve_options``)."""
    if config_cls is None:
        from paddle.inference import Config as config_cls
    tensorrt_convert = tensorrt_convert or convert_for_tensorrt
    if options.device == "gpu" and options.use_tensorrt:
        if not shape_range:
            raise ValueError("TensorRT needs the range of input shapes (min/opt/max) of every dynamic input")
        if files.is_pir:  # PIR programs get their TensorRT engines from paddle.tensorrt, ahead of time
            files = tensorrt_convert(files, options.precision, shape_range)
    config = config_cls(str(files.program), str(files.params))
    if options.device == "gpu":
        native_fp16 = options.precision == "fp16" and not options.use_tensorrt
        config.enable_use_gpu(GPU_MEMORY_POOL_MB, options.gpu_id, _precision("fp16" if native_fp16 else "fp32"))
        if options.use_tensorrt and not files.is_pir:
            max_batch = max(shapes[2][0] for shapes in shape_range.values())
            config.enable_tensorrt_engine(workspace_size=TENSORRT_WORKSPACE, max_batch_size=max_batch,
                                          min_subgraph_size=3, precision_mode=_precision(options.precision),
                                          use_static=False, use_calib_mode=False)
            config.set_trt_dynamic_shape_info({k: v[0] for k, v in shape_range.items()},
                                              {k: v[2] for k, v in shape_range.items()},
                                              {k: v[1] for k, v in shape_range.items()})
    else:
        config.disable_gpu()
        if options.enable_onednn:
            config.enable_onednn()
        else:
            config.disable_onednn()
        config.set_cpu_math_library_num_threads(options.cpu_threads)
    # No enable_memory_optim(): with a PIR program Paddle 3.3 fails to create the predictor with it
    # ("Not find predictor_id 0 and pass_name memory_optimize_pass"); PIR runs its own inplace pass.
    config.disable_glog_info()
    return config


def convert_for_tensorrt(files: ModelFiles, precision: str, shape_range: ShapeRange) -> ModelFiles:
    """A TensorRT program for a PIR model, converted once per (precision, shapes) and cached beside it."""
    try:
        from paddle.tensorrt.export import Input, PrecisionMode, TensorRTConfig, convert
    except ImportError:
        raise ModelDirError("--use_tensorrt: this Paddle has no TensorRT support (paddle.tensorrt is missing); "
                            "install a Paddle GPU build with TensorRT or run without --use_tensorrt") from None
    key = hashlib.sha256(json.dumps([precision, sorted(shape_range.items())]).encode()).hexdigest()[:12]
    prefix = files.program.parent / "tensorrt" / f"{precision}_{key}" / MODEL_PREFIX
    converted = ModelFiles(program=prefix.with_suffix(".json"), params=prefix.with_suffix(".pdiparams"))
    if converted.program.is_file() and converted.params.is_file():
        return converted
    get_logger().info(f"building TensorRT engines ({precision}) into {prefix.parent} (once)")
    inputs = [Input(min_input_shape=tuple(low), optim_input_shape=tuple(opt), max_input_shape=tuple(high), name=name)
              for name, (low, opt, high) in shape_range.items()]
    trt_config = TensorRTConfig(inputs=inputs)
    trt_config.precision_mode = PrecisionMode.FP16 if precision == "fp16" else PrecisionMode.FP32
    trt_config.save_model_dir = str(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    convert(str(files.program.with_suffix("")), trt_config)
    return converted


class Predictor:
    """An exported model behind ``paddle.inference``: ``predictor([arrays]) -> [arrays]``."""

    def __init__(self, model_dir: str | Path, options: PredictorOptions = PredictorOptions(),
                 shape_range: ShapeRange | None = None) -> None:
        from paddle import inference

        self.files = find_model_files(model_dir)
        self.options = resolve_options(options)
        config = build_config(self.files, self.options, shape_range)
        try:
            self._predictor = inference.create_predictor(config)
        except (RuntimeError, ValueError, OSError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ModelDirError(f"{model_dir}: Paddle Inference cannot load the model: {first}") from None
        self.input_names: list[str] = list(self._predictor.get_input_names())
        self.output_names: list[str] = list(self._predictor.get_output_names())

    def __call__(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        if len(inputs) != len(self.input_names):
            raise ValueError(f"the model takes {len(self.input_names)} input(s) {self.input_names}, got {len(inputs)}")
        for name, array in zip(self.input_names, inputs):
            handle = self._predictor.get_input_handle(name)
            handle.reshape(list(array.shape))
            handle.copy_from_cpu(np.ascontiguousarray(array))
        self._predictor.run()
        return [self._predictor.get_output_handle(name).copy_to_cpu() for name in self.output_names]

    def describe(self) -> str:
        o = self.options
        if o.device == "gpu":
            return f"gpu:{o.gpu_id} {o.precision}" + (" TensorRT" if o.use_tensorrt else "")
        return f"cpu {o.cpu_threads} thread(s), oneDNN {'on' if o.enable_onednn else 'off'}"
