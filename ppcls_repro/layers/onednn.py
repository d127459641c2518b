"""oneDNN kernels for dygraph CPU training, through the ``libdnnl.so.3`` the Paddle wheel ships.

Why: Paddle's dygraph CPU ``conv2d`` and ``conv2d_grad`` are im2col + GEMM kernels, and dygraph never
selects Paddle's own oneDNN kernels (``FLAGS_use_mkldnn`` only changes static programs: the dygraph
kernel key stays ``[CPU, NCHW, float32]``, seen with ``GLOG_v=6``). PyTorch trains on CPU through
oneDNN's direct convolutions. On this project's machine (AVX-512, one thread, a [32, 64, 40, 40]
3x3 convolution) ``ONEDNN_VERBOSE=1`` shows the same kernels under PyTorch and here: forward 21 ms,
backward data 22 ms, backward weights 18 ms (``jit:avx512_core``), against Paddle's 36 ms forward
and ~90 ms backward. So the convolutions are run here by calling that library's C API (oneDNN v3,
``dnnl.h``) through ``ctypes``, inside a ``PyLayer`` whose backward calls the two backward
primitives; every buffer is a Paddle tensor, oneDNN only reads and writes into it.

Data flow of one convolution: the NCHW input is reordered into the primitive's blocked layout
(e.g. ``aBcd16b``), convolved, and the output reordered back to NCHW for the next Paddle op; the
blocked input is kept for the weight gradient. The bias is part of the primitive (forward) and its
gradient comes with the weight gradient. Values equal Paddle's convolution up to float summation
order (tested in ``tests/layers/test_conv.py``); a fixed thread count gives identical results run
after run.

The same binding runs the transposed convolution (oneDNN's deconvolution: FSRCNN's last layer),
PReLU (FSRCNN's activation; Paddle's PReLU gradient was a third of an FSRCNN step here) and ReLU.
Not batch normalisation: oneDNN's on the plain NCHW layout was 3.6x slower than Paddle's here
(forward + backward of [128, 16, 32, 32], 1 thread: 9.4 against 2.6 ms).

``available()`` says whether the library loaded; ``applies`` whether tensors take this path;
``layers/conv.py`` holds the layers the models build.
"""
from __future__ import annotations

import ctypes
import functools
import math
from dataclasses import dataclass
from pathlib import Path

import paddle
from paddle.autograd import PyLayer

from ppcls_repro.utils.cpu import fast_cpu_enabled

_P = ctypes.c_void_p
_PP = ctypes.POINTER(_P)
_Dims = ctypes.c_int64 * 12  # dnnl_dims_t: DNNL_MAX_NDIMS = 12

# Constants of oneDNN v3's C API (dnnl_types.h, dnnl_common_types.h).
_CPU_ENGINE = 1
_STREAM_IN_ORDER = 1
_F32 = 3
_TAG_ANY, _TAG_A, _TAG_ABCD, _TAG_BACD = 1, 2, 5, 25  # bacd: IOHW, Paddle's transposed-conv weight
_FORWARD_TRAINING = 64
_CONVOLUTION_DIRECT, _DECONVOLUTION_DIRECT = 0x1, 0xa
_QUERY_SRC, _QUERY_DIFF_SRC, _QUERY_WEIGHTS, _QUERY_DIFF_WEIGHTS, _QUERY_DST, _QUERY_DIFF_DST = range(129, 135)
_ARG_SRC, _ARG_DST, _ARG_WEIGHTS, _ARG_BIAS = 1, 17, 33, 41
_ARG_DIFF_SRC, _ARG_DIFF_DST, _ARG_DIFF_WEIGHTS, _ARG_DIFF_BIAS = 129, 145, 161, 169
_RELU_USE_DST_FOR_BACKWARD = 0x100

_SIGNATURES = {
    "dnnl_engine_create": [_PP, ctypes.c_int, ctypes.c_size_t],
    "dnnl_stream_create": [_PP, _P, ctypes.c_uint],
    "dnnl_stream_wait": [_P],
    "dnnl_memory_desc_create_with_tag": [_PP, ctypes.c_int, _Dims, ctypes.c_int, ctypes.c_int],
    "dnnl_memory_desc_equal": [_P, _P],
    "dnnl_memory_desc_get_size": [_P],
    "dnnl_memory_create": [_PP, _P, _P, _P],
    "dnnl_memory_set_data_handle": [_P, _P],
    "dnnl_primitive_desc_query_md": [_P, ctypes.c_int, ctypes.c_int],
    "dnnl_primitive_create": [_PP, _P],
    "dnnl_primitive_execute": [_P, _P, ctypes.c_int, _P],
    "dnnl_reorder_primitive_desc_create": [_PP, _P, _P, _P, _P, _P],
    "dnnl_prelu_forward_primitive_desc_create": [_PP, _P, ctypes.c_int, _P, _P, _P, _P],
    "dnnl_prelu_backward_primitive_desc_create": [_PP, _P, _P, _P, _P, _P, _P, _P, _P],
    "dnnl_eltwise_forward_primitive_desc_create":
        [_PP, _P, ctypes.c_int, ctypes.c_int, _P, _P, ctypes.c_float, ctypes.c_float, _P],
    "dnnl_eltwise_backward_primitive_desc_create":
        [_PP, _P, ctypes.c_int, _P, _P, _P, ctypes.c_float, ctypes.c_float, _P, _P],
}
for _kind in ("convolution", "deconvolution"):  # the same signatures
    _SIGNATURES.update({
        f"dnnl_{_kind}_forward_primitive_desc_create":
            [_PP, _P, ctypes.c_int, ctypes.c_int, _P, _P, _P, _P, _Dims, _Dims, _Dims, _Dims, _P],
        f"dnnl_{_kind}_backward_data_primitive_desc_create":
            [_PP, _P, ctypes.c_int, _P, _P, _P, _Dims, _Dims, _Dims, _Dims, _P, _P],
        f"dnnl_{_kind}_backward_weights_primitive_desc_create":
            [_PP, _P, ctypes.c_int, _P, _P, _P, _P, _Dims, _Dims, _Dims, _Dims, _P, _P],
    })
_RESTYPES = {"dnnl_primitive_desc_query_md": _P, "dnnl_memory_desc_get_size": ctypes.c_size_t}
# What frees what each creating function makes (the engine and stream live as long as the process).
_DESTROY = {"dnnl_memory_desc_create_with_tag": "dnnl_memory_desc_destroy", "dnnl_memory_create": "dnnl_memory_destroy",
            "dnnl_primitive_create": "dnnl_primitive_destroy"}
_SIGNATURES.update({name: [_P] for name in (*_DESTROY.values(), "dnnl_primitive_desc_destroy")})


class _ExecArg(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_int), ("memory", _P)]


class OneDNNError(RuntimeError):
    pass


class _Library:
    """The loaded library with its CPU engine and stream, and the OpenMP runtime it runs on."""

    def __init__(self, path: Path) -> None:
        self.lib = ctypes.CDLL(str(path))
        for name, argtypes in _SIGNATURES.items():
            function = getattr(self.lib, name)
            function.argtypes = argtypes
            function.restype = _RESTYPES.get(name, ctypes.c_int)
        self.engine = self.create("dnnl_engine_create", _CPU_ENGINE, 0)
        self.stream = self.create("dnnl_stream_create", self.engine, _STREAM_IN_ORDER)
        # Paddle loads its libiomp5 first, so the library's OpenMP calls are libiomp5's, whose thread
        # count paddle.base.core.set_num_threads sets (ONEDNN_VERBOSE shows the same nthr).
        self.openmp = ctypes.CDLL(str(path.parent / "libiomp5.so"))

    def threads(self) -> int:
        """The OpenMP threads a primitive created now runs on: primitives are built per thread count."""
        return int(self.openmp.omp_get_max_threads())

    def call(self, name: str, *args) -> None:
        status = getattr(self.lib, name)(*args)
        if status != 0:
            raise OneDNNError(f"{name} failed with oneDNN status {status}")

    def create(self, name: str, *args) -> _P:
        handle = _P()
        self.call(name, ctypes.byref(handle), *args)
        return handle

    def queried_desc(self, primitive_desc: _P, what: int) -> _P:
        """A memory description the primitive description owns (freed with it)."""
        return _P(self.lib.dnnl_primitive_desc_query_md(primitive_desc, what, 0))

    def execute(self, primitive: _P, args: list[tuple[int, _P, paddle.Tensor]]) -> None:
        for _, memory, tensor in args:
            self.call("dnnl_memory_set_data_handle", memory, _P(tensor.data_ptr()))
        packed = (_ExecArg * len(args))(*(_ExecArg(arg, memory) for arg, memory, _ in args))
        self.call("dnnl_primitive_execute", primitive, self.stream, len(args), packed)
        self.call("dnnl_stream_wait", self.stream)


@functools.lru_cache(maxsize=1)
def _library() -> _Library | None:
    path = Path(paddle.__file__).parent / "libs" / "libdnnl.so.3"
    try:
        return _Library(path)
    except (OSError, AttributeError, OneDNNError):
        return None


def _loaded() -> _Library:
    lib = _library()
    if lib is None:
        raise OneDNNError("the oneDNN library of the Paddle wheel did not load")
    return lib


def available() -> bool:
    """Whether the oneDNN library of the installed Paddle wheel loads (CPU builds ship it)."""
    return _library() is not None


_enabled = fast_cpu_enabled()


def set_enabled(enabled: bool) -> None:
    """Turn the oneDNN path on or off for the whole process (``PPCLS_REPRO_FAST_CPU=0``: off from the start)."""
    global _enabled
    _enabled = enabled


def applies(*tensors: paddle.Tensor) -> bool:
    """Whether these tensors take the oneDNN path: it is on, Paddle is in dygraph mode (static graphs,
    so exported programs, keep Paddle's ops), the tensors are float32 on the CPU (GPU: cuDNN) and
    the library loaded."""
    return (_enabled and paddle.in_dynamic_mode() and available()
            and all(t.place.is_cpu_place() and t.dtype == paddle.float32 for t in tensors))


class _Resources:
    """Library objects made for one purpose, freed when it is garbage (the caches below evict)."""

    def __init__(self, lib: _Library) -> None:
        self.lib = lib
        self.owned: list[tuple[str, _P]] = []

    def make(self, name: str, *args) -> _P:
        handle = self.lib.create(name, *args)
        destroy = "dnnl_primitive_desc_destroy" if name.endswith("_primitive_desc_create") else _DESTROY[name]
        self.owned.append((destroy, handle))
        return handle

    def memory_desc(self, shape: list[int], tag: int) -> _P:
        return self.make("dnnl_memory_desc_create_with_tag", len(shape), _Dims(*shape), _F32, tag)

    def new_memory(self, desc: _P) -> _P:
        """A memory object with no buffer yet: ``execute`` points it at a tensor each call."""
        return self.make("dnnl_memory_create", desc, self.lib.engine, None)

    def primitive(self, primitive_desc_function: str, *args) -> tuple[_P, _P]:
        """A primitive description and its primitive."""
        description = self.make(primitive_desc_function, *args)
        return description, self.make("dnnl_primitive_create", description)

    def __del__(self) -> None:
        for destroy, handle in reversed(self.owned):
            getattr(self.lib.lib, destroy)(handle)
        self.owned = []


class _Layout(_Resources):
    """One argument of a primitive: its NCHW (or flat) description, the primitive's own, and the
    reorders between them when they differ."""

    def __init__(self, lib: _Library, plain: _P, chosen: _P) -> None:
        super().__init__(lib)
        self.plain_memory = self.new_memory(plain)
        self.same = bool(lib.lib.dnnl_memory_desc_equal(plain, chosen))
        self.memory = self.plain_memory if self.same else self.new_memory(chosen)
        self.numel = lib.lib.dnnl_memory_desc_get_size(chosen) // 4
        if not self.same:
            _, self.to_chosen = self.primitive("dnnl_reorder_primitive_desc_create", plain, lib.engine,
                                               chosen, lib.engine, None)
            _, self.to_plain = self.primitive("dnnl_reorder_primitive_desc_create", chosen, lib.engine,
                                              plain, lib.engine, None)

    def into(self, tensor: paddle.Tensor) -> paddle.Tensor:
        """``tensor`` (plain) in the primitive's layout: itself, or a reordered copy."""
        if self.same:
            return tensor
        chosen = paddle.empty([self.numel], dtype="float32")
        self.lib.execute(self.to_chosen, [(_ARG_SRC, self.plain_memory, tensor), (_ARG_DST, self.memory, chosen)])
        return chosen

    def empty(self) -> paddle.Tensor:
        return paddle.empty([self.numel], dtype="float32")

    def out_of(self, chosen: paddle.Tensor, shape: list[int]) -> paddle.Tensor:
        """The primitive's output ``chosen`` as a plain tensor of ``shape``."""
        if self.same:
            return chosen.reshape(shape)
        plain = paddle.empty(shape, dtype="float32")
        self.lib.execute(self.to_plain, [(_ARG_SRC, self.memory, chosen), (_ARG_DST, self.plain_memory, plain)])
        return plain


@dataclass(frozen=True)
class Problem:
    """One (transposed) convolution's shapes: NCHW input; Paddle's weight layout (OIHW, transposed:
    IOHW); strides; zero padding before (top, left) and after (bottom, right)."""

    input_shape: tuple[int, int, int, int]
    weight_shape: tuple[int, int, int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    padding_after: tuple[int, int]
    bias: bool
    transposed: bool = False

    @property
    def output_shape(self) -> list[int]:
        n, _, *size = self.input_shape
        kernel = self.weight_shape[2:]
        if self.transposed:
            return [n, self.weight_shape[1], *((i - 1) * s - p - q + k for i, s, p, q, k in zip(
                size, self.stride, self.padding, self.padding_after, kernel))]
        return [n, self.weight_shape[0], *((i + p + q - k) // s + 1 for i, s, p, q, k in zip(
            size, self.stride, self.padding, self.padding_after, kernel))]

    @property
    def weight_dims(self) -> tuple[list[int], int]:
        """The weight as oneDNN names it (output channels first) and the tag of Paddle's layout."""
        if self.transposed:
            i, o, kh, kw = self.weight_shape
            return [o, i, kh, kw], _TAG_BACD
        return list(self.weight_shape), _TAG_ABCD


class _Convolution(_Resources):
    """The forward, backward-data and backward-weights primitives of one problem, built once."""

    def __init__(self, lib: _Library, problem: Problem) -> None:
        super().__init__(lib)
        self.problem = problem
        weight_dims, weight_tag = problem.weight_dims
        shapes = {"src": list(problem.input_shape), "weights": weight_dims, "dst": problem.output_shape}
        plain = {name: self.memory_desc(shape, weight_tag if name == "weights" else _TAG_ABCD)
                 for name, shape in shapes.items()}
        free = {name: self.memory_desc(shape, _TAG_ANY) for name, shape in shapes.items()}
        bias = self.memory_desc([weight_dims[0]], _TAG_A) if problem.bias else None
        geometry = (_Dims(*problem.stride), _Dims(0, 0), _Dims(*problem.padding), _Dims(*problem.padding_after))
        kind, algorithm = ("deconvolution", _DECONVOLUTION_DIRECT) if problem.transposed else \
            ("convolution", _CONVOLUTION_DIRECT)
        forward, self.forward = self.primitive(
            f"dnnl_{kind}_forward_primitive_desc_create", lib.engine, _FORWARD_TRAINING, algorithm,
            free["src"], free["weights"], bias, free["dst"], *geometry, None)
        data, self.backward_data = self.primitive(
            f"dnnl_{kind}_backward_data_primitive_desc_create", lib.engine, algorithm,
            free["src"], free["weights"], free["dst"], *geometry, forward, None)
        weights, self.backward_weights = self.primitive(
            f"dnnl_{kind}_backward_weights_primitive_desc_create", lib.engine, algorithm,
            free["src"], free["weights"], bias, free["dst"], *geometry, forward, None)

        def layout(primitive_desc: _P, name: str, what: int) -> _Layout:
            return _Layout(lib, plain[name], lib.queried_desc(primitive_desc, what))
        self.src = layout(forward, "src", _QUERY_SRC)
        self.weights = layout(forward, "weights", _QUERY_WEIGHTS)
        self.dst = layout(forward, "dst", _QUERY_DST)
        self.data_diff_dst = layout(data, "dst", _QUERY_DIFF_DST)
        self.data_weights = layout(data, "weights", _QUERY_WEIGHTS)
        self.data_diff_src = layout(data, "src", _QUERY_DIFF_SRC)
        self.weights_src = layout(weights, "src", _QUERY_SRC)
        self.weights_diff_dst = layout(weights, "dst", _QUERY_DIFF_DST)
        self.weights_diff_weights = layout(weights, "weights", _QUERY_DIFF_WEIGHTS)
        self.bias_memory = self.new_memory(bias) if problem.bias else None
        # The weight gradient reads the forward's reordered input when both chose one layout.
        self.reuse_src = bool(lib.lib.dnnl_memory_desc_equal(lib.queried_desc(forward, _QUERY_SRC),
                                                             lib.queried_desc(weights, _QUERY_SRC)))

    def run_forward(self, x: paddle.Tensor, weight: paddle.Tensor,
                    bias: paddle.Tensor | None) -> tuple[paddle.Tensor, paddle.Tensor]:
        src = self.src.into(x)
        dst = self.dst.empty()
        args = [(_ARG_SRC, self.src.memory, src), (_ARG_WEIGHTS, self.weights.memory, self.weights.into(weight)),
                (_ARG_DST, self.dst.memory, dst)]
        if bias is not None:
            args.append((_ARG_BIAS, self.bias_memory, bias))
        self.lib.execute(self.forward, args)
        return self.dst.out_of(dst, self.problem.output_shape), src

    def run_backward_data(self, grad: paddle.Tensor, weight: paddle.Tensor) -> paddle.Tensor:
        diff_src = self.data_diff_src.empty()
        self.lib.execute(self.backward_data, [
            (_ARG_DIFF_DST, self.data_diff_dst.memory, self.data_diff_dst.into(grad)),
            (_ARG_WEIGHTS, self.data_weights.memory, self.data_weights.into(weight)),
            (_ARG_DIFF_SRC, self.data_diff_src.memory, diff_src)])
        return self.data_diff_src.out_of(diff_src, list(self.problem.input_shape))

    def run_backward_weights(self, grad: paddle.Tensor, x: paddle.Tensor,
                             src: paddle.Tensor) -> tuple[paddle.Tensor, paddle.Tensor | None]:
        diff_weights = self.weights_diff_weights.empty()
        args = [(_ARG_SRC, self.weights_src.memory, src if self.reuse_src else self.weights_src.into(x)),
                (_ARG_DIFF_DST, self.weights_diff_dst.memory, self.weights_diff_dst.into(grad)),
                (_ARG_DIFF_WEIGHTS, self.weights_diff_weights.memory, diff_weights)]
        diff_bias = None
        if self.problem.bias:
            diff_bias = paddle.empty([self.problem.output_shape[1]], dtype="float32")
            args.append((_ARG_DIFF_BIAS, self.bias_memory, diff_bias))
        self.lib.execute(self.backward_weights, args)
        return self.weights_diff_weights.out_of(diff_weights, list(self.problem.weight_shape)), diff_bias


@functools.lru_cache(maxsize=256)
def _convolution(problem: Problem, threads: int) -> _Convolution:
    return _Convolution(_loaded(), problem)


class _PReLU(_Resources):
    """oneDNN's PReLU forward and backward for one NCHW shape with a slope per channel, all plain
    layouts (an elementwise op: no reorders)."""

    def __init__(self, lib: _Library, shape: tuple[int, int, int, int]) -> None:
        super().__init__(lib)
        self.shape = shape
        data = self.memory_desc(list(shape), _TAG_ABCD)
        slopes = self.memory_desc([1, shape[1], 1, 1], _TAG_ABCD)
        forward, self.forward = self.primitive("dnnl_prelu_forward_primitive_desc_create", lib.engine,
                                               _FORWARD_TRAINING, data, slopes, data, None)
        _, self.backward = self.primitive("dnnl_prelu_backward_primitive_desc_create", lib.engine, data, slopes,
                                          data, slopes, data, forward, None)
        self.src, self.weights, self.dst = (self.new_memory(d) for d in (data, slopes, data))
        self.diff_src, self.diff_weights, self.diff_dst = (self.new_memory(d) for d in (data, slopes, data))

    def run_forward(self, x: paddle.Tensor, slopes: paddle.Tensor) -> paddle.Tensor:
        y = paddle.empty(list(self.shape), dtype="float32")
        self.lib.execute(self.forward, [(_ARG_SRC, self.src, x), (_ARG_WEIGHTS, self.weights, slopes),
                                        (_ARG_DST, self.dst, y)])
        return y

    def run_backward(self, grad: paddle.Tensor, x: paddle.Tensor,
                     slopes: paddle.Tensor) -> tuple[paddle.Tensor, paddle.Tensor]:
        grad_x = paddle.empty(list(self.shape), dtype="float32")
        grad_slopes = paddle.empty([self.shape[1]], dtype="float32")
        self.lib.execute(self.backward, [
            (_ARG_SRC, self.src, x), (_ARG_WEIGHTS, self.weights, slopes), (_ARG_DIFF_DST, self.diff_dst, grad),
            (_ARG_DIFF_SRC, self.diff_src, grad_x), (_ARG_DIFF_WEIGHTS, self.diff_weights, grad_slopes)])
        return grad_x, grad_slopes


@functools.lru_cache(maxsize=256)
def _prelu(shape: tuple[int, int, int, int], threads: int) -> _PReLU:
    return _PReLU(_loaded(), shape)


class _OneDNNPReLU(PyLayer):
    @staticmethod
    def forward(ctx, x: paddle.Tensor, slopes: paddle.Tensor) -> paddle.Tensor:
        prelu = _prelu(tuple(x.shape), _library().threads())
        ctx.prelu = prelu
        ctx.save_for_backward(x, slopes)
        return prelu.run_forward(x, slopes)

    @staticmethod
    def backward(ctx, grad: paddle.Tensor) -> tuple[paddle.Tensor, paddle.Tensor]:
        x, slopes = ctx.saved_tensor()
        return ctx.prelu.run_backward(grad.contiguous(), x, slopes)


def prelu(x: paddle.Tensor, slopes: paddle.Tensor) -> paddle.Tensor:
    """``F.prelu(x, slopes)`` for a float32 NCHW ``x`` and one slope per channel, on oneDNN."""
    return _OneDNNPReLU.apply(x.contiguous(), slopes)


class _ReLU(_Resources):
    """oneDNN's ReLU of one shape, plain layout; the backward reads the output (as Paddle's does:
    the gradient passes where the output is positive)."""

    def __init__(self, lib: _Library, shape: tuple[int, ...]) -> None:
        super().__init__(lib)
        self.shape = shape
        data = self.memory_desc([int(math.prod(shape))], _TAG_A)
        forward, self.forward = self.primitive("dnnl_eltwise_forward_primitive_desc_create", lib.engine,
                                               _FORWARD_TRAINING, _RELU_USE_DST_FOR_BACKWARD, data, data, 0.0, 0.0, None)
        _, self.backward = self.primitive("dnnl_eltwise_backward_primitive_desc_create", lib.engine,
                                          _RELU_USE_DST_FOR_BACKWARD, data, data, data, 0.0, 0.0, forward, None)
        self.src, self.dst, self.diff_src, self.diff_dst = (self.new_memory(data) for _ in range(4))

    def run_forward(self, x: paddle.Tensor) -> paddle.Tensor:
        y = paddle.empty(list(self.shape), dtype="float32")
        self.lib.execute(self.forward, [(_ARG_SRC, self.src, x), (_ARG_DST, self.dst, y)])
        return y

    def run_backward(self, grad: paddle.Tensor, y: paddle.Tensor) -> paddle.Tensor:
        grad_x = paddle.empty(list(self.shape), dtype="float32")
        self.lib.execute(self.backward, [(_ARG_DST, self.dst, y), (_ARG_DIFF_DST, self.diff_dst, grad),
                                         (_ARG_DIFF_SRC, self.diff_src, grad_x)])
        return grad_x


@functools.lru_cache(maxsize=256)
def _relu(shape: tuple[int, ...], threads: int) -> _ReLU:
    return _ReLU(_loaded(), shape)


class _OneDNNReLU(PyLayer):
    @staticmethod
    def forward(ctx, x: paddle.Tensor) -> paddle.Tensor:
        op = _relu(tuple(x.shape), _library().threads())
        y = op.run_forward(x)
        ctx.op = op
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad: paddle.Tensor) -> paddle.Tensor:
        (y,) = ctx.saved_tensor()
        return ctx.op.run_backward(grad.contiguous(), y)


def relu(x: paddle.Tensor) -> paddle.Tensor:
    """``F.relu(x)`` of a float32 tensor on oneDNN."""
    return _OneDNNReLU.apply(x.contiguous())


class _OneDNNConv2D(PyLayer):
    @staticmethod
    def forward(ctx, x: paddle.Tensor, weight: paddle.Tensor, bias: paddle.Tensor | None,
                problem: Problem) -> paddle.Tensor:
        convolution = _convolution(problem, _library().threads())
        y, src = convolution.run_forward(x, weight, bias)
        ctx.convolution, ctx.has_bias = convolution, bias is not None
        ctx.input_grad, ctx.weight_grad = not x.stop_gradient, not weight.stop_gradient
        ctx.save_for_backward(x, weight, src)
        return y

    @staticmethod
    def backward(ctx, grad: paddle.Tensor):
        x, weight, src = ctx.saved_tensor()
        grad = grad.contiguous()
        # The first layer's input needs no gradient, frozen weights (a transfer) none either: skipped.
        grad_x = ctx.convolution.run_backward_data(grad, weight) if ctx.input_grad else None
        grad_weight = grad_bias = None
        if ctx.weight_grad:
            grad_weight, grad_bias = ctx.convolution.run_backward_weights(grad, x, src)
        return (grad_x, grad_weight, grad_bias) if ctx.has_bias else (grad_x, grad_weight)


def conv2d(x: paddle.Tensor, weight: paddle.Tensor, bias: paddle.Tensor | None,
           stride: tuple[int, int], padding: tuple[int, int]) -> paddle.Tensor:
    """A float32 NCHW convolution (groups 1, dilation 1, zero padding) on oneDNN, with gradients."""
    x = x.contiguous()
    problem = Problem(tuple(x.shape), tuple(weight.shape), tuple(stride), tuple(padding), tuple(padding),
                      bias is not None)
    return _OneDNNConv2D.apply(x, weight, bias, problem)


def conv2d_transpose(x: paddle.Tensor, weight: paddle.Tensor, bias: paddle.Tensor | None,
                     stride: tuple[int, int], padding: tuple[int, int],
                     output_padding: tuple[int, int]) -> paddle.Tensor:
    """``F.conv2d_transpose`` (float32 NCHW, IOHW weight, groups 1, dilation 1) on oneDNN's
    deconvolution: Paddle's ``output_padding`` rows and columns are oneDNN's smaller padding after."""
    x = x.contiguous()
    after = tuple(p - o for p, o in zip(padding, output_padding))
    problem = Problem(tuple(x.shape), tuple(weight.shape), tuple(stride), tuple(padding), after,
                      bias is not None, transposed=True)
    return _OneDNNConv2D.apply(x, weight, bias, problem)
