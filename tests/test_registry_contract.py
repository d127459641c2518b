"""Registry-wide contract: every registered part is built with tiny arguments and checked.

A part added to a registry without an entry here fails ``test_every_part_has_a_contract_entry``,
and a part that no config, model or default uses fails ``test_every_part_is_used``: so nothing
registered goes untested or unused.
"""
from __future__ import annotations

import inspect
import typing
from pathlib import Path

import numpy as np
import paddle
import pytest
import yaml

from ppcls_repro.deploy.export import example_inputs, save_and_verify
from ppcls_repro.deploy.pipeline import Pipeline, datasets_serving
from ppcls_repro.engine.checkpoint import set_weights_strict
from ppcls_repro.engine.evaluate import Evaluator
from ppcls_repro.engine.steps import Step
from ppcls_repro.registry import (DATASETS, EVALUATORS, LOSSES, LR_SCHEDULERS, MODELS, OPTIMIZERS, PIPELINES,
                                  STEPS, WEIGHT_FORMATS)
from ppcls_repro.utils.spec import ExportSpec

REPO = Path(__file__).resolve().parents[1]

# Tiny arguments for every registered model (small widths and depths: the contract, not the paper).
TINY_MODELS = {
    "SRCNN": {"scale": 3, "channels": [8, 4]},
    "FSRCNN": {"scale": 3, "d": 8, "s": 4, "m": 1},
    "DnCNN": {"depth": 3, "channels": 8},
    "CifarResNet": {"depth": 8, "num_classes": 10},
    "SECifarResNet": {"depth": 8, "num_classes": 10, "reduction": 4},
    "ResNet": {"depth": 50, "num_classes": 10, "width_per_group": 4},
    "SEResNet": {"depth": 50, "num_classes": 10, "width_per_group": 4, "reduction": 4},
    "Generator": {"noise_dim": 8, "hidden": [16], "image_shape": [1, 6, 6]},
    "MaxoutDiscriminator": {"in_features": 36, "units": [8], "pieces": 2},
    "HybridSN": {"num_classes": 4, "bands": 15, "window": 9},
    "DSCMR": {"num_classes": 3, "image_dim": 12, "text_dim": 10, "hidden_dim": 8, "common_dim": 6},
}
# Models that are never exported, with the reason and the input their forward takes.
NOT_EXPORTED = {"MaxoutDiscriminator": ("trained beside the GAN's generator, never deployed", [2, 36])}

TINY_PIPELINES = {
    "SuperResolution": {"scale": 3, "net_input": "y_bt601", "upsample_input": True, "halo": 6},
    "Denoise": {"channels": 1, "halo": 4},
    "Classification": {"num_classes": 10, "channels": 1, "input_size": [32, 32], "color": "gray",
                       "mean": [0.5], "std": [0.5]},
    "GANSamples": {"noise_dim": 8, "image_shape": [1, 6, 6]},
    "HyperspectralMap": {"num_classes": 4, "bands": 15, "window": 9, "input_bands": 20, "whiten": True,
                         "cube_key": "cube"},
    "CrossModalRetrieval": {"image_dim": 12, "text_dim": 10, "common_dim": 6},
}

TINY_EVALUATORS = {
    "SuperResolutionEvaluator": {"scale": 3},
    "DenoiseEvaluator": {},
    "ClassificationEvaluator": {"topk": [1, 5]},
    "ParzenEvaluator": {"num_samples": 10},
    "HSIClassificationEvaluator": {"num_classes": 4},
    "RetrievalEvaluator": {},
}

# Registered parts that no config names, and why they stay.
UNUSED_BY_CONFIGS = {
    "SupervisedStep": "the default Step of every config without a Step section",
    "CIFAR100": "the CIFAR-100 reader beside CIFAR-10 (tested in tests/papers/resnet); no config trains on it yet",
}


def _build_model(name: str, seed: int) -> paddle.nn.Layer:
    paddle.seed(seed)
    net = MODELS.build({"name": name, **TINY_MODELS[name]}, f"TINY_MODELS.{name}")
    net.eval()
    return net


def _forward_inputs(name: str, net: paddle.nn.Layer) -> dict[str, tuple[paddle.nn.Layer, list[np.ndarray]]]:
    """Per static model (branch): what is traced and example inputs of the declared shapes."""
    if name in NOT_EXPORTED:
        shape = NOT_EXPORTED[name][1]
        return {"": (net, [np.random.default_rng(0).random(shape).astype("float32")])}
    spec = net.export_spec()
    assert isinstance(spec, ExportSpec)
    return {sub: (branch.network, example_inputs(branch.inputs)) for sub, branch in spec.static_models(net).items()}


def _outputs(layer: paddle.nn.Layer, inputs: list[np.ndarray]) -> list[np.ndarray]:
    with paddle.no_grad():
        out = layer(*[paddle.to_tensor(x) for x in inputs])
    return [o.numpy() for o in (out if isinstance(out, (list, tuple)) else [out])]


def test_every_part_has_a_contract_entry():
    assert set(TINY_MODELS) == set(MODELS.names())
    assert set(TINY_PIPELINES) == set(PIPELINES.names())
    assert set(TINY_EVALUATORS) == set(EVALUATORS.names())


def _names_in(node: typing.Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["name"]} if isinstance(node.get("name"), str) else set()
        return own.union(*(_names_in(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_names_in(v) for v in node))
    return set()


def test_every_part_is_used():
    """By a config, or (pipelines) by a model's export_spec; exceptions are listed with a reason."""
    used = set().union(*(_names_in(yaml.safe_load(p.read_text())) for p in (REPO / "configs").glob("*.yaml")))
    used |= {_build_model(n, 0).export_spec().pipeline["name"] for n in MODELS.names() if n not in NOT_EXPORTED}
    registered = set()
    for registry in (MODELS, DATASETS, LOSSES, OPTIMIZERS, LR_SCHEDULERS, EVALUATORS, STEPS, PIPELINES):
        registered |= set(registry.names())
    assert sorted(registered - used - set(UNUSED_BY_CONFIGS)) == []
    assert sorted(set(UNUSED_BY_CONFIGS) - registered) == []  # no stale exemption
    assert sorted(set(UNUSED_BY_CONFIGS) & used) == []


@pytest.mark.parametrize("name", sorted(TINY_MODELS))
def test_model_forward_on_its_declared_inputs_is_finite_and_deterministic(name):
    net = _build_model(name, 0)
    for layer, inputs in _forward_inputs(name, net).values():
        first, second = _outputs(layer, inputs), _outputs(layer, inputs)
        assert all(np.isfinite(o).all() for o in first)
        assert all(np.array_equal(a, b) for a, b in zip(first, second))  # eval mode: no dropout


@pytest.mark.parametrize("name", sorted(TINY_MODELS))
def test_model_state_dict_round_trips_strictly(name):
    source, target = _build_model(name, 0), _build_model(name, 1)
    set_weights_strict(target, source.state_dict(), "contract")
    for (layer_a, inputs), (layer_b, _) in zip(_forward_inputs(name, source).values(),
                                               _forward_inputs(name, target).values()):
        for a, b in zip(_outputs(layer_a, inputs), _outputs(layer_b, inputs)):
            np.testing.assert_array_equal(a, b)
    broken = dict(source.state_dict())
    broken.pop(sorted(broken)[0])
    with pytest.raises(Exception, match="contract"):
        set_weights_strict(target, broken, "contract")


@pytest.mark.parametrize("name", sorted(set(TINY_MODELS) - set(NOT_EXPORTED)))
def test_model_exports_and_the_static_model_matches(name, tmp_path):
    net = _build_model(name, 0)
    spec = net.export_spec()
    assert spec.pipeline["name"] in PIPELINES
    for sub, branch in spec.static_models(net).items():
        _, diff, examples, scale = save_and_verify(branch, tmp_path / (sub or "model"))
        assert examples and diff <= 1e-4 * scale


@pytest.mark.parametrize("name", sorted(set(TINY_MODELS) - set(NOT_EXPORTED)))
def test_model_exports_to_onnx_equal_to_paddle_inference(name, tmp_path):
    pytest.importorskip("paddle2onnx", reason="the onnx extra (paddle2onnx, onnxruntime) is not installed")
    pytest.importorskip("onnxruntime", reason="the onnx extra (paddle2onnx, onnxruntime) is not installed")
    from ppcls_repro.deploy.onnx import export_onnx

    net = _build_model(name, 0)
    for sub, branch in net.export_spec().static_models(net).items():
        folder = tmp_path / (sub or "model")
        _, _, examples, _ = save_and_verify(branch, folder)
        out, diff, scale = export_onnx(folder, [s.name for s in branch.inputs], examples)
        assert out.stat().st_size > 0 and diff <= 1e-4 * scale, (name, sub, diff)


@pytest.mark.parametrize("name", sorted(TINY_PIPELINES))
def test_pipeline_builds_and_states_its_inputs(name):
    pipeline = PIPELINES.build({"name": name, **TINY_PIPELINES[name]}, f"TINY_PIPELINES.{name}")
    assert isinstance(pipeline, Pipeline)
    assert isinstance(pipeline.input_suffixes, tuple)  # empty: no input files (GAN samples from noise)
    assert all(s.startswith(".") and s == s.lower() for s in pipeline.input_suffixes)
    if type(pipeline).facts_from_data:  # some dataset must state its facts
        assert datasets_serving(name)


@pytest.mark.parametrize("name", sorted(n for n in DATASETS.names() if hasattr(DATASETS.get(n), "inference_pipeline")))
def test_dataset_stating_inference_facts_serves_a_pipeline_that_reads_them(name):
    dataset = DATASETS.get(name)
    assert PIPELINES.get(dataset.inference_pipeline).facts_from_data
    assert inspect.ismethod(dataset.inference_facts)  # a classmethod: export may not have the data


@pytest.mark.parametrize("name", sorted(TINY_EVALUATORS))
def test_evaluator_follows_the_protocol(name):
    evaluator = EVALUATORS.build({"name": name, **TINY_EVALUATORS[name]}, f"TINY_EVALUATORS.{name}")
    assert sorted(m for m in _protocol_members(Evaluator) if not hasattr(evaluator, m)) == []
    assert isinstance(type(evaluator).gathers_across_ranks, bool)
    names = evaluator.metric_names
    assert isinstance(names, tuple) and names and all(isinstance(n, str) for n in names)
    params = inspect.signature(evaluator.__call__).parameters
    assert list(params)[:2] == ["model", "loader"]
    # what more it takes is optional: the training loop calls it with the two alone
    assert list(params)[2:] in ([], ["save_dir"]) and all(p.default is None for p in list(params.values())[2:])


def _protocol_members(protocol: type) -> set[str]:
    return {n for n in vars(protocol) if not n.startswith("_")} | set(protocol.__annotations__)


@pytest.mark.parametrize("name", STEPS.names())
def test_step_has_every_member_of_the_step_protocol(name):
    step_cls = STEPS.get(name)
    missing = sorted(m for m in _protocol_members(Step) if not hasattr(step_cls, m))
    assert missing == []
    for member in ("train_step", "set_epoch", "init_from_data", "set_state_dict", "load_weights"):
        ours = inspect.signature(getattr(step_cls, member)).parameters
        assert list(ours) == list(inspect.signature(getattr(Step, member)).parameters), member


@pytest.mark.parametrize("name", WEIGHT_FORMATS.names())
def test_weight_format_names_a_model_and_recognises_no_foreign_file(name, tmp_path):
    fmt = WEIGHT_FORMATS.get(name)
    assert fmt.model in MODELS
    (tmp_path / "text.mat").write_text("not a weight file")
    (tmp_path / "empty.pth").write_bytes(b"")
    assert not fmt.recognise(tmp_path / "text.mat") and not fmt.recognise(tmp_path / "empty.pth")
    assert not fmt.recognise(tmp_path / "missing.mat")


# Config keys that are sizes, counts, strides or factors wherever they appear: 0 (or less) would fail
# deep in Paddle or build something silently empty, so each is declared ``Positive`` and checked with
# the config.
SIZE_KEYS = {"depth", "channels", "in_channels", "num_classes", "scale", "stride", "patch_size", "lr_size",
             "input_size", "label_size", "window", "bands", "image_dim", "text_dim", "hidden_dim", "common_dim",
             "noise_dim", "in_features", "pieces", "groups", "width_per_group", "reduction", "crop_size",
             "resize_short", "num_train", "num_test", "latent_dim", "d", "s", "kernel_sizes", "hidden", "units"}


def _declares_positive(hint) -> bool:
    from ppcls_repro.registry import AtLeast

    if typing.get_origin(hint) is typing.Literal:  # e.g. ResNet's depth: 18, 34, 50, ...
        return all(isinstance(v, int) and v >= 1 for v in typing.get_args(hint))
    if typing.get_origin(hint) is typing.Annotated:
        return any(isinstance(m, AtLeast) and m.least >= 1 for m in hint.__metadata__)
    args = [a for a in typing.get_args(hint) if a is not Ellipsis and a is not type(None)]
    return bool(args) and all(_declares_positive(a) for a in args)


@pytest.mark.parametrize("registry, name", [(r, n) for r in (MODELS, DATASETS, EVALUATORS) for n in r.names()],
                         ids=lambda x: getattr(x, "kind", x))
def test_sizes_are_declared_positive(registry, name):
    from ppcls_repro.registry import _type_hints

    hints = _type_hints(registry.get(name))
    loose = [key for key, hint in hints.items() if key in SIZE_KEYS and not _declares_positive(hint)]
    assert loose == [], f"{registry.kind} {name}: annotate {loose} as Positive (ppcls_repro.registry)"
