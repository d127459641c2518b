"""Experiment configs: YAML in, a validated plain dict out.

A config has the PaddleClas sections (``Global``, ``Arch``, ``Loss``, ``Optimizer``,
``DataLoader``, ``Metric``) plus ``Paper`` (what the paper reports, written beside our
numbers) and optional ``Step``, ``Test`` (the paper's named test sets) and ``Export``. Every ``{name: X, ...}`` node is checked
against the registered callable's signature, so a typo stops the run before any work.
"""
from __future__ import annotations

import copy
import dataclasses
import inspect
import re
from pathlib import Path
from typing import Any, Literal

import yaml

from ppcls_repro.data.download import MANIFEST_DIR
from ppcls_repro.registry import DATASETS, EVALUATORS, STEPS, ConfigError, PositiveFloat, check_kwargs, nearest


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads ``1e-3`` as a float (YAML 1.2), not as the string YAML 1.1 makes it."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."))


MAX_KEY_DEPTH = 16  # an override key deeper than any config (Global.a.b.c... thousands deep is an attack, not a key)


def parse_yaml(text: str) -> Any:
    """YAML to plain data with a SafeLoader (no arbitrary objects); nesting too deep for the parser is a
    YAMLError like any other malformed text."""
    try:
        return yaml.load(text, Loader=_Loader)
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None


@dataclasses.dataclass
class GlobalConfig:
    """The ``Global`` section: run-level settings shared by every paper."""
    output_dir: str = "output/run"
    device: str = "cpu"  # cpu | gpu; gpu on a CPU-only Paddle warns once and runs on CPU
    # CPU math threads (null: this process's cores, shared among data-parallel processes). Every
    # net trains faster on both cores of this project's machine than on one (README, Speed).
    cpu_threads: int | None = None
    seed: int = 42
    epochs: int = 1
    eval_interval: int = 1  # epochs between evaluations (the last epoch is always evaluated)
    save_interval: int = 0  # epochs between kept `epoch_N` checkpoints; 0 keeps none
    print_batch_step: int = 10
    best_metric: str = "loss"  # key of the evaluator's result that selects `best_model`
    higher_is_better: bool = True
    checkpoints: str | None = None  # resume from this checkpoint prefix (e.g. output/srcnn/latest)
    pretrained_model: str | None = None  # load these weights (prefix or .pdparams); shapes must match
    # Training only: load just the entries whose names start with these prefixes (shapes still must
    # match); the rest keep their initialisation. FSRCNN's x2/x4 take every layer but the deconvolution
    # (and the scale buffer) from the x3 model. Evaluation always loads the whole model.
    pretrained_prefixes: list[str] | None = None
    strict_data: bool = False  # a missing dataset is an error instead of a labelled sample run
    use_visualdl: bool = True
    num_vdl_images: int = 3  # eval images shown as panels in VisualDL
    max_iters_per_epoch: int | None = None  # cap for smoke tests; None = the whole epoch
    # A training refuses an output_dir holding another run's files (config, checkpoints, metrics),
    # unless it resumes a checkpoint of that folder; true writes over them.
    overwrite: bool = False
    # Where tools/export_model.py writes the inference model (PaddleClas's key); null: Export.save_dir,
    # else <output_dir>/inference. --save_dir on the command line wins over both.
    save_inference_dir: str | None = None


@dataclasses.dataclass
class SamplerConfig:
    batch_size: int = 1
    shuffle: bool = False
    drop_last: bool = False


@dataclasses.dataclass
class LoaderConfig:
    num_workers: int = 0
    use_shared_memory: bool = True


@dataclasses.dataclass
class PaperConfig:
    """What the paper reports, copied into metrics.json beside our numbers."""
    title: str = ""
    url: str = ""
    setting: str = ""
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    baseline: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ExportConfig:
    """The ``Export`` section, read by ``tools/export_model.py`` (see ``ppcls_repro/deploy/export.py``).

    How a network is traced (input spec, task) is stated by the model's ``export_spec()``; the
    config only says where to write and sets options of the pre/post-processing it needs.
    """
    save_dir: str | None = None  # default: <Global.output_dir>/inference
    pipeline: dict[str, Any] = dataclasses.field(default_factory=dict)  # e.g. {tile_size: 256}


@dataclasses.dataclass
class AMPConfig:
    """The optional ``AMP`` section: mixed-precision training of the supervised step (``engine/amp.py``;
    a config that uses it says so in its header, as a deviation). Absent or null: float32.

    Args:
        level: O1 (white-listed ops in ``dtype``) or O2 (the weights too, float32 master weights). Default: O1.
        dtype: float16 (needs a GPU and loss scaling) or bfloat16. Default: float16.
        init_loss_scaling: float16's first loss scale, > 0. Default: 65536.0.
        use_dynamic_loss_scaling: float16: halve the scale on overflow, grow it after steady steps. Default: true.
    """
    level: Literal["O1", "O2"] = "O1"
    dtype: Literal["float16", "bfloat16"] = "float16"
    init_loss_scaling: PositiveFloat = 65536.0
    use_dynamic_loss_scaling: bool = True


@dataclasses.dataclass
class TestSetConfig:
    """One entry ``Test.<NAME>``: a test set of the paper's tables, read with ``DataLoader.Eval``'s
    protocol (its dataset, scale, sigma, ...) from another folder. ``tools/eval.py`` scores every one;
    the validation set (``DataLoader.Eval``) alone picks ``best_model`` during training.

    Args:
        root: folder of the set's images. Required.
        manifest: name of a shipped sha256 manifest (``ppcls_repro/data/manifests/``) the folder must
            match; it is downloaded when missing, and never replaced by a sample stand-in. null: the
            folder is read as it is. Default: null.
        paper: the paper's numbers on this set, its method's and its baseline's (e.g. ``{psnr: 29.37,
            bicubic_psnr: 27.54}``). The validation set's are ``Paper.metrics`` and ``Paper.baseline``
            instead. Default: {}.
    """
    root: str
    manifest: str | None = None
    paper: dict[str, float] = dataclasses.field(default_factory=dict)


SECTIONS = ("Global", "Paper", "Step", "Arch", "Loss", "Optimizer", "DataLoader", "Test", "Metric", "Export", "AMP")
SET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # a test set's name; also names its folder under eval/
EVAL_FILES = ("metrics.json", "eval.log")  # what eval/ itself holds: no set folder may take these names


def set_name(node: dict[str, Any]) -> str:
    """A dataset node's set name: its folder's name when it reads one (``dataset/Set12`` -> ``Set12``),
    else the dataset's registered name (MNIST, CIFAR: their split is fixed by the dataset)."""
    root = node.get("root")
    return (Path(str(root)).resolve().name if root else "") or str(node["name"])  # "." has no name


def load_config(path: str | Path, overrides: list[str] | None = None) -> dict[str, Any]:
    """Read a YAML config, apply ``-o key=value`` overrides, fill defaults and validate."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        cfg = parse_yaml(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset {err.start})") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror or err})") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {str(err).splitlines()[0]}") from None
    if not isinstance(cfg, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    for item in overrides or []:
        apply_override(cfg, item)
    return validate(cfg)


def apply_override(cfg: dict[str, Any], item: str) -> None:
    """Apply one ``A.b.c=value`` override in place; the value is parsed as YAML."""
    key, sep, raw = item.partition("=")
    if not sep or not key:
        raise ConfigError(f"override '{item}': expected KEY=VALUE, e.g. Global.epochs=10")
    try:
        value = parse_yaml(raw)
    except yaml.YAMLError:
        shown = item if len(item) <= 100 else f"{item[:100]}... ({len(item)} characters)"
        raise ConfigError(f"override '{shown}': value is not valid YAML") from None
    parts = key.split(".")
    if len(parts) > MAX_KEY_DEPTH:
        raise ConfigError(f"override '{key[:60]}...': key nested {len(parts)} levels deep (at most {MAX_KEY_DEPTH})")
    node: Any = cfg
    for depth, part in enumerate(parts[:-1]):
        node = _child(node, part, ".".join(parts[:depth + 1]))
    last = parts[-1]
    if isinstance(node, list):
        node[_index(node, last, key)] = value
    elif isinstance(node, dict):
        node[last] = value  # new keys are allowed here; validation rejects unknown ones
    else:
        raise ConfigError(f"override '{key}': {'.'.join(parts[:-1])} is not a mapping")


def _child(node: Any, part: str, where: str) -> Any:
    if isinstance(node, list):
        return node[_index(node, part, where)]
    if not isinstance(node, dict):
        raise ConfigError(f"override '{where}': parent is not a mapping")
    if part not in node or node[part] is None:
        node[part] = {}
    return node[part]


def _index(node: list[Any], part: str, where: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ConfigError(f"override '{where}': '{part}' is not an index of a list of {len(node)}")
    return int(part)


def validate(cfg: dict[str, Any]) -> dict[str, Any]:
    """Check every section and return a copy with defaults filled in."""
    cfg = copy.deepcopy(cfg)
    for section in cfg:
        if section not in SECTIONS:
            raise ConfigError(f"{section}: unknown section{nearest(section, SECTIONS)}; "
                              f"valid: {', '.join(SECTIONS)}")
    for required in ("Global", "Arch", "DataLoader"):
        if required not in cfg:
            raise ConfigError(f"{required}: missing section")
    cfg["Global"] = fill_dataclass(GlobalConfig, cfg["Global"], "Global")
    check_pretrained_prefixes(cfg["Global"])
    check_global_ranges(cfg["Global"])
    cfg["Paper"] = fill_dataclass(PaperConfig, cfg.get("Paper") or {}, "Paper")
    cfg.setdefault("Step", {"name": "SupervisedStep"})
    step_cls = STEPS.get(cfg["Step"].get("name", ""), "Step.name")
    STEPS.check(cfg["Step"], "Step", extra=step_cls.supplied)
    step_cls.validate_config(cfg)
    _validate_loaders(cfg["DataLoader"])
    if cfg.get("Test", "absent") is None:
        del cfg["Test"]  # -o Test=null: score the validation set alone
    if "Test" in cfg:
        cfg["Test"] = _validate_test_sets(cfg["Test"], cfg["DataLoader"])
    if "Metric" in cfg:
        EVALUATORS.check(cfg["Metric"], "Metric")
    cfg["Export"] = fill_dataclass(ExportConfig, cfg.get("Export") or {}, "Export")
    _validate_amp(cfg)
    check_scales_agree(cfg)
    return cfg


def _validate_amp(cfg: dict[str, Any]) -> None:
    """``AMP``: filled with its defaults, or removed when null; refused where it cannot apply."""
    if cfg.get("AMP") is None:
        cfg.pop("AMP", None)
        return
    cfg["AMP"] = fill_dataclass(AMPConfig, cfg["AMP"], "AMP")
    if cfg["Step"]["name"] != "SupervisedStep":
        raise ConfigError(f"AMP: mixed precision is written for SupervisedStep, not {cfg['Step']['name']}; "
                          "remove the AMP section")
    if cfg["AMP"]["dtype"] == "float16" and cfg["Global"]["device"] == "cpu":
        raise ConfigError("AMP.dtype: float16 needs a GPU (Global.device: gpu); on a CPU use bfloat16")


# Run-level integers that only fail later (after a whole epoch, or by training nothing): the least
# value each may take; null is allowed where the default is null.
GLOBAL_MINIMA = {"epochs": 1, "eval_interval": 1, "save_interval": 0, "print_batch_step": 1, "cpu_threads": 1,
                 "max_iters_per_epoch": 1, "num_vdl_images": 0, "seed": 0}


def check_global_ranges(g: dict[str, Any]) -> None:
    if g["device"] not in ("cpu", "gpu") and not g["device"].startswith("gpu:"):
        raise ConfigError(f"Global.device: expected cpu, gpu or gpu:N, got '{g['device']}'")
    for key, least in GLOBAL_MINIMA.items():
        if g[key] is not None and g[key] < least:
            allowed = f">= {least}" + (" or null" if getattr(GlobalConfig, key) is None else "")
            raise ConfigError(f"Global.{key}: must be {allowed}, got {g[key]}")
    if g["seed"] >= 2**32:
        raise ConfigError(f"Global.seed: must be below 2**32 (NumPy's limit), got {g['seed']}")


def check_scales_agree(cfg: dict[str, Any]) -> None:
    """Every ``scale`` key (model, datasets, metric) must name the same factor."""
    nodes = {"Arch": cfg.get("Arch"), "Metric": cfg.get("Metric")}
    nodes.update({f"DataLoader.{s}.dataset": p["dataset"] for s, p in cfg["DataLoader"].items()})
    scales = {f"{key}.scale": node["scale"] for key, node in nodes.items()
              if isinstance(node, dict) and "scale" in node}
    if len(set(scales.values())) > 1:
        found = ", ".join(f"{k}={v}" for k, v in scales.items())
        raise ConfigError(f"scale: the config disagrees with itself ({found}); override all of them")


def check_pretrained_prefixes(g: dict[str, Any]) -> None:
    """``Global.pretrained_prefixes`` needs weights to take them from, and at least one prefix."""
    prefixes = g["pretrained_prefixes"]
    if prefixes is None:
        return
    if not prefixes:
        raise ConfigError("Global.pretrained_prefixes: empty list; give prefixes (e.g. [extract, shrink]) or null")
    if not g["pretrained_model"]:
        raise ConfigError("Global.pretrained_prefixes: set but Global.pretrained_model is null; give the weights "
                          "to take them from, or set both to null")




def _validate_loaders(node: Any) -> None:
    if not isinstance(node, dict):
        raise ConfigError("DataLoader: expected a mapping with Train and/or Eval")
    for split, part in node.items():
        key = f"DataLoader.{split}"
        if split not in ("Train", "Eval"):
            raise ConfigError(f"{key}: unknown split{nearest(split, ('Train', 'Eval'))}; valid: Train, Eval")
        if not isinstance(part, dict) or "dataset" not in part:
            raise ConfigError(f"{key}.dataset: missing")
        for sub in part:
            if sub not in ("dataset", "sampler", "loader"):
                raise ConfigError(f"{key}.{sub}: unknown key{nearest(sub, ('dataset', 'sampler', 'loader'))}; "
                                  "valid: dataset, sampler, loader")
        DATASETS.check(part["dataset"], f"{key}.dataset", extra=("strict", "seed"))
        part["sampler"] = fill_dataclass(SamplerConfig, part.get("sampler") or {}, f"{key}.sampler")
        if part["sampler"]["batch_size"] < 1:
            raise ConfigError(f"{key}.sampler.batch_size: must be >= 1, got {part['sampler']['batch_size']}")
        part["loader"] = fill_dataclass(LoaderConfig, part.get("loader") or {}, f"{key}.loader")
    if "Train" in node and "Eval" in node:
        check_splits_agree(node["Train"]["dataset"], node["Eval"]["dataset"])


def _validate_test_sets(node: Any, loaders: dict[str, Any]) -> dict[str, Any]:
    """``Test``: NAME -> TestSetConfig, each read with DataLoader.Eval's dataset (which must read a folder)."""
    if not isinstance(node, dict) or not node:
        raise ConfigError("Test: expected a mapping of test set names to {root, manifest, paper}")
    if "Eval" not in loaders:
        raise ConfigError("Test: needs DataLoader.Eval, whose dataset and protocol the test sets are read with")
    evaluation = loaders["Eval"]["dataset"]
    params = inspect.signature(DATASETS.get(evaluation["name"])).parameters
    if "root" not in params:
        raise ConfigError(f"Test: {evaluation['name']} (DataLoader.Eval.dataset) reads no folder (it has no root)")
    sets = {}
    for name, entry in node.items():
        key = f"Test.{name}"
        if not SET_NAME.match(str(name)) or name in EVAL_FILES:
            raise ConfigError(f"{key}: a set's name must be letters, digits, '_', '.' or '-' (it names a folder), "
                              f"and not {' or '.join(EVAL_FILES)}")
        sets[name] = fill_dataclass(TestSetConfig, entry, key)
        _check_test_manifest(sets[name]["manifest"], "manifest" in params, f"{key}.manifest", evaluation["name"])
        if sets[name]["paper"] and name == set_name(evaluation):
            raise ConfigError(f"{key}.paper: {name} is the validation set (DataLoader.Eval); its paper numbers "
                              "are Paper.metrics and Paper.baseline")
    return sets


def _check_test_manifest(manifest: str | None, readable: bool, key: str, dataset: str) -> None:
    if manifest is None:
        return
    if not readable:
        raise ConfigError(f"{key}: {dataset} (DataLoader.Eval.dataset) takes no manifest")
    if not (MANIFEST_DIR / f"{manifest.lower()}.json").is_file():
        known = ", ".join(sorted(p.stem for p in MANIFEST_DIR.glob("*.json")))
        raise ConfigError(f"{key}: no shipped manifest named {manifest!r} (known: {known})")


def check_splits_agree(train: dict[str, Any], evaluation: dict[str, Any]) -> None:
    """Datasets that cut Train and Eval from one pool (a seeded split) list the keys that must be
    equal on both sides in ``same_across_splits``: otherwise the splits could overlap."""
    if train["name"] != evaluation["name"]:
        return
    target = DATASETS.get(train["name"])
    defaults = {n: p.default for n, p in inspect.signature(target).parameters.items()}
    for name in getattr(target, "same_across_splits", ()):
        a, b = train.get(name, defaults.get(name)), evaluation.get(name, defaults.get(name))
        if a != b:
            raise ConfigError(f"DataLoader.Eval.dataset.{name}: {b!r} differs from DataLoader.Train.dataset.{name} "
                              f"{a!r}; both splits are cut from one pool with the same settings: set it on both")


def fill_dataclass(schema: type, node: Any, key: str) -> dict[str, Any]:
    """Check a plain section against a dataclass schema and return it with defaults filled."""
    if not isinstance(node, dict):
        raise ConfigError(f"{key}: expected a mapping, got {node!r}")
    check_kwargs(schema, node, key, set())
    return dataclasses.asdict(schema(**node))


def save_config(cfg: dict[str, Any], path: str | Path, header: str = "") -> None:
    """Write the resolved config (after overrides and defaults) beside a run's outputs; ``header``
    lines go first, as YAML comments."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    Path(path).write_text(comments + yaml.safe_dump(cfg, sort_keys=False))
