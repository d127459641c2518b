"""Alignment with a reference implementation, as the PaddlePaddle reproduction guide asks
(``ArticleReproduction_CV.md``: forward, loss, backward and a few training steps, logged with
``reprod_log`` and compared within thresholds). Used by ``tools/align.py``.

Two implementations of one network are compared through callables on numpy arrays
(``Implementation``); neither side's framework is imported here except Paddle's, for the suite's side
(``SuiteSide``, built through the normal builders: ``MODELS``, ``SupervisedStep.from_config`` and so the
config's loss, optimiser, schedule and ``param_lr``). References live in each paper's
``reference_torch.py`` (torch only there and in ``engine/reference_torch.py``; the normal package never
imports them) and register in ``ALIGNMENT_REFERENCES``.

The checks (thresholds of the issue; ``Thresholds``):
- forward: eval-mode float32 outputs on the same input, max absolute difference 1e-5 (or, where the
  network amplifies rounding more, the sum of the two sides' own float32 rounding: ``_forward``);
- backward: train-mode loss and the gradient of every trained parameter after one backward,
  relative difference (1e-4), judged in float64 (``align`` says why; float32 recorded);
- train: the loss of each of N optimiser steps on the same batches, the final parameters and BatchNorm
  running means, and what the steps changed in them (final - start, on its own scale), relative
  difference (1e-4). BatchNorm running variances are compared after
  undoing the one legitimate kernel difference: Paddle keeps the biased batch variance, PyTorch the
  unbiased one (the reference side converts its buffer exactly: ``engine/reference_torch.py``).

A relative difference of two tensors is ``max|a - b| / max|b|`` (b the reference), so a tensor's own
scale does not matter; the logs of ``reprod_log``'s ``ReprodDiffHelper`` (which reports absolute
differences) are written for values divided by that scale, so their numbers are the relative ones.

Both sides start from the same weights: an authors' file through the suite's importer
(``imported_start``), or the config's initialisation with constant tensors made random
(``perturb_constants``) and BatchNorm statistics taken from a batch (``calibrate_batchnorm``), so that
no mapping error hides behind equal values. Inputs are seeded random arrays of the config's training
shapes (``Reference.example_batch``): the checks compare implementations, not data.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import logging
from pathlib import Path
from typing import Any, Callable, ClassVar, Protocol

import numpy as np
import paddle
import yaml

from ppcls_repro.engine.importing import detect_format
from ppcls_repro.registry import MODELS, STEPS, ConfigError, Registry

ALIGNMENT_REFERENCES = Registry("alignment reference")  # reference implementations (papers/*/reference_torch.py)

Batch = tuple[np.ndarray, ...]  # (input, target) for supervised configs; a reference's own tuple otherwise


class AlignmentError(ValueError):
    """The two sides cannot be compared (names or shapes differ); one line naming the tensor."""


@dataclasses.dataclass
class Implementation:
    """One side of the comparison. Tensor names and layouts are the suite's (Paddle's ``state_dict``)."""

    forward: Callable[[np.ndarray], np.ndarray]  # eval mode, from the starting weights
    # train mode, from the starting weights: the loss and every trained parameter's gradient, no update
    gradients: Callable[[Batch], tuple[float, dict[str, np.ndarray]]]
    # from the starting weights: one optimiser step per batch; the losses and the final state
    train: Callable[[list[Batch]], tuple[list[float], dict[str, np.ndarray]]]


@dataclasses.dataclass(frozen=True)
class Thresholds:
    forward: float = 1e-5  # absolute, float32 outputs
    backward: float = 1e-4  # relative
    train: float = 1e-4  # relative


@dataclasses.dataclass
class Problem:
    """What both sides run on: the config the suite builds, its starting weights, the inputs."""

    cfg: dict[str, Any]
    weights: dict[str, np.ndarray]  # the suite's names; float tensors and integer buffers
    forward_input: np.ndarray
    batches: list[Batch]  # batches[0] is also the backward check's batch
    steps_per_epoch: int
    dtype: str = "float32"  # what both sides compute in (weights and float inputs cast to it)

    def cast(self, array: np.ndarray) -> np.ndarray:
        """A float array in the problem's dtype (integer labels and buffers unchanged)."""
        return array.astype(self.dtype) if array.dtype.kind == "f" else array


class Reference(Protocol):
    """A reference implementation of the models in ``models`` (registered in ``ALIGNMENT_REFERENCES``)."""

    models: ClassVar[tuple[str, ...]]  # the Arch names it mirrors

    def __init__(self, cfg: dict[str, Any], weights_file: Path | None) -> None:
        """For ``cfg``'s network; ``weights_file`` is an authors' release to take weights (and, where the
        reference is the authors' code, structure) from, or None."""

    description: str  # what the reference is (it goes into summary.json)
    independent: bool  # True when it is not this project's own twin of the suite's code

    def suite_config(self, cfg: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray] | None]:
        """The config the suite's side builds (e.g. the Arch an authors' file implies) and its starting
        weights, or None for the suite's own initialisation."""

    def example_input(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        """An eval-mode input."""

    def example_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        """A training batch (input, target) of the config's training shapes."""

    def implementation(self, problem: Problem) -> Implementation:
        """The reference side, starting from ``problem.weights``."""

    # Optional: ``suite_implementation(problem) -> Implementation``, the suite's side for configs whose
    # step is not ``SupervisedStep`` (built from the suite's own step class); ``SuiteSide`` otherwise.
    # Optional: ``authors_check(problem, suite) -> dict | None``, a fourth check against the authors' own
    # procedure (e.g. their MATLAB test code re-done in NumPy), in the checks' shape.
    # Optional: ``initial_weights(cfg) -> weights``, the config's initialisation where ``MODELS`` does not
    # build its Arch (e.g. a GAN's two networks; no BatchNorm calibration then).


def find_reference(arch_name: str) -> type[Reference] | None:
    for name in ALIGNMENT_REFERENCES.names():
        reference = ALIGNMENT_REFERENCES.get(name)
        if arch_name in reference.models:
            return reference
    return None


def covered_models() -> list[str]:
    return sorted({m for name in ALIGNMENT_REFERENCES.names() for m in ALIGNMENT_REFERENCES.get(name).models})


# --- the suite's side ----------------------------------------------------------------------------------

def perturb_constants(weights: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """Float tensors that start constant (biases, BatchNorm scale, shift and statistics, PReLU slopes)
    get small random values: a mapping error in them cannot hide behind equal values. Variances stay
    positive."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, value in weights.items():
        if value.dtype.kind == "f" and value.size > 1 and np.all(value == value.flat[0]):
            c = float(value.flat[0])
            noise = rng.standard_normal(value.shape).astype(value.dtype) * 0.1 * max(abs(c), 1.0)
            value = np.abs(c + noise) if name.endswith("_variance") else c + noise
        out[name] = np.asarray(value)
    return out


def imported_start(cfg: dict[str, Any], weights_file: Path | None) -> tuple[dict[str, Any], dict[str, np.ndarray] | None]:
    """The config and starting weights for an authors' file, converted by the importer
    (``tools/import_weights.py``'s formats; the Arch keys it implies are applied); unchanged without one."""
    if weights_file is None:
        return cfg, None
    fmt = detect_format(Path(weights_file))
    if fmt.model != cfg["Arch"]["name"]:
        raise ConfigError(f"Arch.name: {weights_file} holds {fmt.model} weights, the config builds {cfg['Arch']['name']}")
    imported = fmt.convert(Path(weights_file), cfg["Arch"])
    cfg["Arch"] = {**cfg["Arch"], **imported.arch}
    return cfg, {k: np.asarray(v) for k, v in imported.weights.items()}


def initial_weights(cfg: dict[str, Any]) -> dict[str, np.ndarray]:
    """The suite's network as the config initialises it (seeded with ``Global.seed``)."""
    paddle.seed(cfg["Global"]["seed"])
    net = MODELS.build(cfg["Arch"], "Arch")
    return {name: value.numpy() for name, value in net.state_dict().items()}


def build_step(problem: Problem, name: str) -> Any:
    """The config's step ``name`` (``STEPS``: its networks, losses, optimisers, schedules) built in the
    problem's dtype (the parameters, and so the optimisers' state) and holding ``problem.weights``."""
    default = paddle.get_default_dtype()
    paddle.set_default_dtype(problem.dtype)
    try:
        step = STEPS.get(name).from_config(problem.cfg, steps_per_epoch=problem.steps_per_epoch)
    finally:
        paddle.set_default_dtype(default)
    step.load_weights({k: paddle.to_tensor(problem.cast(v)) for k, v in problem.weights.items()}, "alignment weights")
    return step


class SuiteSide:
    """The suite's side: every call builds the config's network (and, for training, its step: loss,
    optimiser, schedule, per-layer learning rates) afresh and loads ``problem.weights``."""

    def __init__(self, problem: Problem) -> None:
        if problem.cfg["Step"]["name"] != "SupervisedStep":
            raise ConfigError(f"Step.name: alignment covers SupervisedStep configs, not {problem.cfg['Step']['name']}")
        self.problem = problem

    def implementation(self) -> Implementation:
        return Implementation(forward=self.forward, gradients=self.gradients, train=self.train)

    def _step(self) -> Any:
        return build_step(self.problem, "SupervisedStep")

    def _tensor(self, array: np.ndarray) -> paddle.Tensor:
        return paddle.to_tensor(self.problem.cast(array))

    def forward(self, x: np.ndarray) -> np.ndarray:
        net = self._step().model
        net.eval()
        with paddle.no_grad():
            return net(self._tensor(x)).numpy()

    def gradients(self, batch: Batch) -> tuple[float, dict[str, np.ndarray]]:
        step = self._step()
        step.train()
        loss = step.loss(step.model(self._tensor(batch[0])), self._tensor(batch[1]))
        loss.backward()
        grads = {name: p.grad.numpy() for name, p in step.model.named_parameters() if not p.stop_gradient}
        return float(loss), grads

    def train(self, batches: list[Batch]) -> tuple[list[float], dict[str, np.ndarray]]:
        step = self._step()
        step.train()
        losses = [step.train_step({"input": self._tensor(x), "target": self._tensor(t)})["loss"]
                  for x, t in batches]
        return losses, {name: v.numpy() for name, v in step.model.state_dict().items()}


# --- comparing -----------------------------------------------------------------------------------------

def relative_diff(a: np.ndarray, b: np.ndarray) -> float:
    """``max|a - b| / max|b|`` (0 when both are 0)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise AlignmentError(f"shapes differ: {a.shape} (suite) vs {b.shape} (reference)")
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    return diff / scale if scale > 0 else diff


def _common(suite: dict[str, np.ndarray], ref: dict[str, np.ndarray], what: str) -> list[str]:
    floats = sorted(k for k, v in suite.items() if np.asarray(v).dtype.kind == "f")
    missing = sorted(set(floats) - set(ref))
    extra = sorted(set(ref) - set(floats))
    if missing or extra:
        raise AlignmentError(f"{what}: the reference lacks {missing[:4]} and has extra {extra[:4]}")
    return floats


def _scaled(values: dict[str, np.ndarray], ref: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each value divided by the reference's max |value| of the same key (for relative reprod_log diffs)."""
    out = {}
    for key, value in values.items():
        scale = float(np.max(np.abs(ref[key]))) if np.size(ref[key]) else 0.0
        out[key] = np.asarray(value, np.float64) / (scale if scale > 0 else 1.0)
    return out


def write_reprod_log(out: Path, kind: str, suite: dict[str, np.ndarray], ref: dict[str, np.ndarray],
                     threshold: float, relative: bool) -> None:
    """``<kind>_paddle.npy`` and ``<kind>_ref.npy`` (``ReprodLogger``) and ``<kind>_diff.log``
    (``ReprodDiffHelper``, max differences; of scaled values when ``relative``)."""
    try:
        from reprod_log import ReprodDiffHelper, ReprodLogger
    except ImportError:
        raise ConfigError("reprod_log is not installed: pip install reprod_log==1.0.1 (the test extra)") from None
    for side, values in (("paddle", suite), ("ref", ref)):
        logger = ReprodLogger()
        for key, value in values.items():
            logger.add(key, np.asarray(value))
        logger.save(str(out / f"{kind}_{side}.npy"))
    helper = ReprodDiffHelper()
    if relative:
        suite, ref = _scaled(suite, ref), _scaled(ref, ref)
    helper.compare_info({k: np.asarray(v) for k, v in suite.items()}, {k: np.asarray(v) for k, v in ref.items()})
    log_file = out / f"{kind}_diff.log"
    # reprod_log's report adds a stdout and a file handler to the root logger and never removes them
    # (every later log line would land in this file): it gets the root logger to itself, then it is restored.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    for handler in handlers:
        root.removeHandler(handler)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            helper.report(diff_method="max", diff_threshold=threshold, path=str(log_file))
    finally:
        for handler in root.handlers[:]:
            handler.close()
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
    note = "values divided by the reference's max |value| per key: the diffs are relative\n" if relative else ""
    log_file.write_text(note + log_file.read_text())


def _worst(diffs: dict[str, float]) -> tuple[str, float]:
    name = max(diffs, key=diffs.get)
    return name, diffs[name]


Side = Callable[[Problem], Implementation]  # one side, for a problem (its dtype included)


def _forward(problem: Problem, out: Path, threshold: float, suite32: Implementation, reference32: Implementation,
             suite64: Implementation, reference64: Implementation) -> dict[str, Any]:
    """The float32 outputs, within ``threshold`` or, where the network amplifies rounding more, within the
    sum of each side's own float32 rounding (its float32 output against its float64 one): two correct
    implementations differ by at most that (triangle inequality), a mapping error by far more. The
    float64 outputs must agree within ``threshold`` too."""
    x = problem.forward_input
    ours, theirs = suite32.forward(x), reference32.forward(x)
    if ours.shape != theirs.shape:
        raise AlignmentError(f"forward: output shapes differ, {ours.shape} (suite) vs {theirs.shape} (reference)")
    ours64, theirs64 = suite64.forward(x), reference64.forward(x)
    rounding = float(np.max(np.abs(ours - ours64)) + np.max(np.abs(theirs - theirs64)))
    diff = float(np.max(np.abs(ours.astype(np.float64) - theirs)))
    diff64 = float(np.max(np.abs(ours64 - theirs64)))
    allowed = max(threshold, rounding)
    write_reprod_log(out, "forward", {"output": ours}, {"output": theirs}, allowed, relative=False)
    return {"max_abs_diff": diff, "threshold": allowed, "passed": diff <= allowed and diff64 <= threshold,
            "dtype": "float32", "base_threshold": threshold, "float32_rounding": rounding,
            "float64_max_abs_diff": diff64, "output_shape": list(ours.shape),
            "output_max_abs": float(np.max(np.abs(theirs)))}


def _backward(problem: Problem, suite: Implementation, reference: Implementation
              ) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, np.ndarray]]:
    (loss_s, grads_s), (loss_r, grads_r) = suite.gradients(problem.batches[0]), reference.gradients(problem.batches[0])
    names = _common(grads_s, grads_r, "backward")
    suite_values = {"loss": np.asarray([loss_s]), **{f"grad.{k}": grads_s[k] for k in names}}
    ref_values = {"loss": np.asarray([loss_r]), **{f"grad.{k}": grads_r[k] for k in names}}
    diffs = {key: relative_diff(suite_values[key], ref_values[key]) for key in suite_values}
    worst, value = _worst(diffs)
    return ({"max_rel_diff": value, "loss_rel_diff": diffs["loss"], "worst": worst, "parameters": len(names),
             "loss": loss_r}, suite_values, ref_values)


def _train(problem: Problem, suite: Implementation, reference: Implementation
           ) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, np.ndarray]]:
    (curve_s, state_s), (curve_r, state_r) = suite.train(problem.batches), reference.train(problem.batches)
    names = _common(state_s, state_r, "train")
    suite_values = {"loss_curve": np.asarray(curve_s), **{k: state_s[k] for k in names}}
    ref_values = {"loss_curve": np.asarray(curve_r), **{k: state_r[k] for k in names}}
    curve = max(relative_diff(a, b) for a, b in zip(curve_s, curve_r))
    diffs = {key: relative_diff(suite_values[key], ref_values[key]) for key in names}
    worst, value = _worst(diffs) if diffs else ("", 0.0)
    # What the steps changed, compared on its own scale: a missing weight decay of 1e-4 moves the weights
    # by ~lr x 1e-4 x steps of their size (below the threshold), but the updates by ~1e-2 of theirs.
    start = {key: np.asarray(problem.weights[key], np.float64) for key in names}
    updates = {key: relative_diff(state_s[key] - start[key], state_r[key] - start[key]) for key in names}
    moved, update = _worst(updates) if updates else ("", 0.0)
    return ({"max_rel_diff": max(curve, value, update), "loss_curve_rel_diff": curve, "final_state_rel_diff": value,
             "worst": worst, "update_rel_diff": update, "worst_update": moved, "steps": len(problem.batches),
             "loss_curve": [float(v) for v in curve_r]},
            suite_values, ref_values)


def align(problem: Problem, suite: Side, reference: Side, out: Path, description: str, independent: bool,
          config: str = "", thresholds: Thresholds = Thresholds()) -> dict[str, Any]:
    """Run the three checks, write the reprod_log files and ``summary.json`` into ``out``; the summary.

    The forward check is judged in float32 (the suite's precision; ``_forward`` for the threshold). The backward and train checks are judged
    in float64 (the same float32 starting weights and inputs, both sides computing in double) and also
    measured in float32, recorded as ``float32_*``: through a deep BatchNorm net at initialisation
    (gradients grow exponentially with depth, Yang et al., ICLR 2019) and through Adam (whose first steps
    are about lr x sign(g), so a gradient entry near 0 whose float32 rounding flips its sign moves a
    weight by up to 2 lr), float32 rounding differences between two correct kernels reach 1e-2 (DnCNN-S
    at initialisation) and 5e-4 (DnCNN-S from the authors' weights, 5 Adam steps); in float64 the same
    comparisons are ~1e-10, so a threshold of 1e-4 separates an implementation difference from rounding.
    """
    out.mkdir(parents=True, exist_ok=True)
    suite32, reference32 = suite(problem), reference(problem)
    double = dataclasses.replace(problem, dtype="float64")
    suite64, reference64 = suite(double), reference(double)
    checks: dict[str, Any] = {"forward": _forward(problem, out, thresholds.forward, suite32, reference32,
                                                  suite64, reference64)}
    for kind, run, threshold in (("backward", _backward, thresholds.backward), ("train", _train, thresholds.train)):
        result, suite_values, ref_values = run(double, suite64, reference64)
        write_reprod_log(out, kind, suite_values, ref_values, threshold, relative=True)
        single = run(problem, suite32, reference32)[0]
        checks[kind] = {"max_rel_diff": result.pop("max_rel_diff"), "threshold": threshold,
                        "passed": None, "dtype": "float64", **result,
                        **{f"float32_{k}": v for k, v in single.items() if k.endswith("rel_diff")}}
        checks[kind]["passed"] = checks[kind]["max_rel_diff"] <= threshold

    summary = {"config": config, "reference": description, "independent": independent,
               "passed": all(c["passed"] for c in checks.values()), "checks": checks}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def build_problem(cfg: dict[str, Any], reference: Reference, steps: int, batch_size: int,
                  steps_per_epoch: int) -> Problem:
    """The config the suite builds, its starting weights (the reference's, or the config's initialisation
    with ``perturb_constants``) and seeded inputs."""
    suite_cfg, weights = reference.suite_config(copy.deepcopy(cfg))
    rng = np.random.default_rng(cfg["Global"]["seed"])
    forward_input = reference.example_input(rng, batch_size)
    own_start = getattr(reference, "initial_weights", None)  # optional: for an Arch MODELS does not build
    if weights is None and own_start is not None:
        weights = perturb_constants(own_start(suite_cfg), cfg["Global"]["seed"])
    elif weights is None:
        weights = perturb_constants(initial_weights(suite_cfg), cfg["Global"]["seed"])
        weights = calibrate_batchnorm(suite_cfg, weights, reference.example_input(rng, batch_size))
    return Problem(cfg=suite_cfg, weights=weights, forward_input=forward_input,
                   batches=[reference.example_batch(rng, batch_size) for _ in range(steps)],
                   steps_per_epoch=steps_per_epoch)


def calibrate_batchnorm(cfg: dict[str, Any], weights: dict[str, np.ndarray], x: np.ndarray) -> dict[str, np.ndarray]:
    """BatchNorm running statistics set to the batch statistics of ``x`` (another batch than the forward
    check's): with random statistics an untrained deep net's eval-mode outputs grow with depth (measured:
    |logits| ~2e4 for SE-ResNet-110), where an absolute threshold means little."""
    net = MODELS.build(cfg["Arch"], "Arch")
    net.set_state_dict({k: paddle.to_tensor(v) for k, v in weights.items()})
    norms = [layer for layer in net.sublayers() if isinstance(layer, paddle.nn.layer.norm._BatchNormBase)]
    if not norms:
        return weights
    for layer in norms:
        layer._momentum = 0.0  # Paddle: running = momentum * running + (1 - momentum) * batch
    net.train()
    with paddle.no_grad():
        net(paddle.to_tensor(x))
    return {**weights, **{k: v.numpy() for k, v in net.state_dict().items() if k.endswith(("_mean", "_variance"))}}


def configs_covered(folder: Path) -> list[str]:
    """The configs in ``folder`` whose Arch has a registered reference."""
    covered = set(covered_models())
    names = []
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            arch = (yaml.safe_load(path.read_text()) or {}).get("Arch", {}).get("name")
        except (OSError, yaml.YAMLError, AttributeError):
            continue
        if arch in covered:
            names.append(path.name)
    return names


def run_alignment(cfg: dict[str, Any], config: str | Path, out: Path, steps: int = 5, batch_size: int = 4,
                  steps_per_epoch: int = 1, weights_file: Path | None = None) -> dict[str, Any]:
    """``tools/align.py``: the reference of ``cfg``'s model, the three checks, the files in ``out``."""
    if steps < 1 or batch_size < 1 or steps_per_epoch < 1:
        raise ConfigError(f"--steps, --batch-size and --steps-per-epoch must be >= 1, got {steps}, {batch_size}, "
                          f"{steps_per_epoch}")
    reference_cls = find_reference(cfg["Arch"]["name"])
    if reference_cls is None:
        covered = configs_covered(Path(config).parent)
        raise ConfigError(f"Arch.name: {cfg['Arch']['name']} ({config}) has no alignment reference yet; configs "
                          f"with one: {', '.join(covered) or 'none'} (models {', '.join(covered_models())})")
    reference = reference_cls(copy.deepcopy(cfg), weights_file)
    problem = build_problem(cfg, reference, steps, batch_size, steps_per_epoch)
    suite = getattr(reference, "suite_implementation", None) or (lambda p: SuiteSide(p).implementation())
    summary = align(problem, suite, reference.implementation, Path(out),
                    reference.description, reference.independent, str(config))
    authors_check = getattr(reference, "authors_check", None)  # optional: the authors' own procedure
    check = authors_check(problem, suite(problem)) if authors_check else None
    if check is not None:
        summary["checks"]["authors_procedure"] = check
        summary["passed"] = summary["passed"] and check["passed"]
        (Path(out) / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
