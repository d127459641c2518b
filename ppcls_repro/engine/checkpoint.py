"""Checkpoints: atomic writes, exact resume, strict weight loading.

A checkpoint ``<prefix>`` is two files, each written atomically (temp file, fsync, rename):
- ``<prefix>.pdparams``: the weights only (what ``Global.pretrained_model``, export and releases use);
- ``<prefix>.pdckpt``: everything needed to resume exactly (weights, optimizer and lr schedule,
  epoch, iteration, best metric, Python/NumPy/Paddle RNG states).
Killing the process mid-save leaves the previous files intact. Loading checks first that the file
holds only arrays and containers (``SAFE_GLOBALS``): a file that would run code is refused. A file
with a ``<file>.sha256`` beside it (every release has one) is checked against it first: a damaged
or replaced weight file is refused rather than scored (one flipped bit once cost 0.18 dB unseen).
"""
from __future__ import annotations

import hashlib
import io
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import paddle

from ppcls_repro.registry import ConfigError
from ppcls_repro.utils.files import checksum_path, recorded_checksum, write_bytes_atomic, write_checksum


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file."""


def atomic_save(obj: Any, path: Path) -> None:
    """Serialise ``obj`` with paddle.save into ``path`` without ever exposing a partial file."""
    buffer = io.BytesIO()
    paddle.save(obj, buffer)
    write_bytes_atomic(path, buffer.getvalue())
    if checksum_path(path).is_file():  # written on purpose over a checksummed file: keep the record true
        write_checksum(path)


# What paddle.save writes for weights and checkpoints: numpy arrays (any numpy version's names), plain
# containers, and Paddle's RNG state. Any other global in a file would be code to run: refused.
SAFE_GLOBALS = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
                ("numpy.core.multiarray", "scalar"), ("collections", "OrderedDict"), ("builtins", "tuple"),
                ("builtins", "list"), ("builtins", "set"), ("builtins", "frozenset"),
                ("paddle.base.libpaddle", "GeneratorState")}


class _CheckingUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in SAFE_GLOBALS:
            raise _UnsafeFile(f"{module}.{name}")
        return super().find_class(module, name)


class _UnsafeFile(Exception):
    pass


def load_file(path: Path) -> Any:
    """A paddle.save file, after checking that unpickling it runs nothing but array and container
    rebuilding (a crafted .pdparams could otherwise run any command when loaded)."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint file not found: {path}")
    data = path.read_bytes()
    _verify_checksum(path, data)
    try:
        _CheckingUnpickler(io.BytesIO(data)).load()
    except _UnsafeFile as err:
        raise CheckpointError(f"{path}: refused: it asks to run {err} while loading (weight and checkpoint files "
                              "hold only arrays); never load it") from None
    except Exception as err:  # a truncated or foreign file: say which, not a pickle traceback
        raise CheckpointError(f"cannot read checkpoint {path}: {type(err).__name__}: {err}") from None
    try:
        return paddle.load(io.BytesIO(data))
    except Exception as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {type(err).__name__}: {err}") from None


def _verify_checksum(path: Path, data: bytes) -> None:
    try:
        expected = recorded_checksum(path)
    except ValueError as err:
        raise CheckpointError(str(err)) from None
    if expected is None:
        return
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise CheckpointError(f"{path}: sha256 {actual} differs from {checksum_path(path)} ({expected}): "
                              "the file is damaged or was replaced; copy or download it again")


def strip_suffix(prefix: str | Path) -> Path:
    """Accept ``out/latest``, ``out/latest.pdparams`` or ``out/latest.pdckpt``."""
    path = Path(prefix)
    return path.with_suffix("") if path.suffix in (".pdparams", ".pdckpt") else path


def save_checkpoint(prefix: Path, weights: dict[str, Any], train_state: dict[str, Any]) -> None:
    """Write ``prefix.pdckpt`` (resume) then ``prefix.pdparams`` (weights)."""
    atomic_save({**train_state, "weights": weights, "rng": rng_state()}, prefix.with_suffix(".pdckpt"))
    atomic_save(weights, prefix.with_suffix(".pdparams"))


def load_resume_state(prefix: str | Path) -> dict[str, Any]:
    """Read a resume checkpoint and restore the global RNG states it holds."""
    state = load_file(strip_suffix(prefix).with_suffix(".pdckpt"))
    set_rng_state(state.pop("rng"))
    return state


def load_weights(prefix: str | Path) -> dict[str, Any]:
    """Weights from ``.pdparams``, or from the ``.pdckpt`` when only that exists or when it is the newer
    of the pair: ``save_checkpoint`` writes the ``.pdckpt`` first, so a run killed between the two
    writes leaves a ``.pdparams`` one save behind, and the pair is read as one unit."""
    base = strip_suffix(prefix)
    params, state = base.with_suffix(".pdparams"), base.with_suffix(".pdckpt")
    if params.is_file() and not (state.is_file() and state.stat().st_mtime_ns > params.stat().st_mtime_ns):
        return load_file(params)
    if state.is_file():
        return load_file(state)["weights"]
    raise CheckpointError(f"no weights at {base}.pdparams (nor {base}.pdckpt)")


def set_weights_strict(model: paddle.nn.Layer, weights: dict[str, Any], source: str) -> None:
    """Load a state dict, failing on any missing, unexpected or mis-shaped entry (never skip layers)."""
    own = model.state_dict()
    missing = sorted(set(own) - set(weights))
    extra = sorted(set(weights) - set(own))
    if missing or extra:
        raise CheckpointError(f"{source}: weights do not fit the model: missing {missing[:5]}, "
                              f"unexpected {extra[:5]}")
    for name, tensor in own.items():
        _check_entry(name, tensor, weights[name], source)
    model.set_state_dict(weights)


def set_weights_partial(model: paddle.nn.Layer, weights: dict[str, Any], prefixes: list[str], source: str,
                        key: str = "Global.pretrained_prefixes") -> list[str]:
    """Load only the model entries whose names start with one of ``prefixes``; return their names.

    Every such entry must be in the file with the same shape (and, for integer buffers, the same
    value); the other entries keep their values. FSRCNN's scale transfer takes every layer but the
    deconvolution (and the ``scale`` buffer) from the x3 weights.
    """
    own = model.state_dict()
    for prefix in prefixes:
        if not any(name.startswith(prefix) for name in own):
            raise ConfigError(f"{key}.{prefix}: no weight of the model starts with it; weights: {', '.join(own)}")
    taken = [name for name in own if any(name.startswith(prefix) for prefix in prefixes)]
    missing = [name for name in taken if name not in weights]
    if missing:
        raise CheckpointError(f"{source}: weights do not fit the model: missing {missing[:5]} (asked for by {key})")
    for name in taken:
        _check_entry(name, own[name], weights[name], source)
    for name in taken:
        own[name].set_value(np.asarray(weights[name]).astype(own[name].numpy().dtype))
    return taken


def _check_entry(name: str, tensor: paddle.Tensor, value: Any, source: str) -> None:
    shape = list(value.shape)
    if shape != list(tensor.shape):
        raise CheckpointError(f"{source}: '{name}' has shape {shape} in the file but "
                              f"{list(tensor.shape)} in the model (check the config, e.g. scale or channels)")
    if "int" in str(tensor.dtype) and not np.array_equal(np.asarray(value), tensor.numpy()):
        raise CheckpointError(f"{source}: '{name}' is {np.asarray(value).tolist()} in the file but "
                              f"{tensor.numpy().tolist()} in the config (e.g. weights trained for another scale)")


OPTIMIZER_KIND = "optimizer_kind"  # the class that wrote an optimizer state (Paddle keeps no such record)


def optimizer_state(optimizer: paddle.optimizer.Optimizer, model: paddle.nn.Layer) -> dict[str, Any]:
    """The optimizer state with Paddle's generated parameter names (``conv2d_3.w_0``) replaced by
    structural ones (``conv1.weight``), so a checkpoint loads into a model built in any process."""
    state = _rename(optimizer.state_dict(), {p.name: n for n, p in model.named_parameters()})
    return {**state, OPTIMIZER_KIND: type(optimizer).__name__}


def set_optimizer_state(optimizer: paddle.optimizer.Optimizer, model: paddle.nn.Layer,
                        state: dict[str, Any], source: str) -> None:
    """Load ``state`` (from ``source``, a checkpoint). A state written by another optimizer (Adam's
    moments where Momentum wants its velocity) is refused in one line: Paddle would only fail at the
    first step, with an assertion."""
    state = dict(state)
    kind = state.pop(OPTIMIZER_KIND, None)  # absent from checkpoints written before it was recorded
    if kind is not None and kind != type(optimizer).__name__:
        raise CheckpointError(f"{source}: its optimizer state is {kind}'s, the config builds "
                              f"{type(optimizer).__name__} (Optimizer.name); resume with the optimizer the run "
                              "was trained with, or start from its weights with -o Global.pretrained_model=...")
    optimizer.set_state_dict(_rename(state, {n: p.name for n, p in model.named_parameters()}))


def _rename(state: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    # Accumulator keys are '<param name>_<accumulator>'; match the longest parameter name.
    by_length = sorted(mapping, key=len, reverse=True)
    renamed: dict[str, Any] = {}
    for key, value in state.items():
        old = next((n for n in by_length if key == n or key.startswith(n + "_")), None)
        renamed[key if old is None else mapping[old] + key[len(old):]] = value
    if isinstance(state.get("master_weights"), dict):
        renamed["master_weights"] = _rename(state["master_weights"], mapping)
    return renamed


def rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "paddle": paddle.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    paddle.set_rng_state(state["paddle"])


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and Paddle (data order is seeded separately, per epoch)."""
    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)
