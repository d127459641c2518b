"""A small registry: maps names used in configs to the classes (or functions) that build them.

Every buildable part of a run is described in YAML as a node ``{name: X, **kwargs}``. The
registry looks ``X`` up and calls it with the remaining keys as keyword arguments, after
checking them against the callable's signature so that a typo fails before any work starts.
"""
from __future__ import annotations

import dataclasses
import difflib
import inspect
import types
import typing
from typing import Annotated, Any, Callable, TypeVar

T = TypeVar("T", bound=Callable[..., Any])


class ConfigError(ValueError):
    """A config problem; its message names the offending key and is shown as one line."""


def nearest(word: str, choices: typing.Iterable[str]) -> str:
    """A ' (did you mean ...?)' hint, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else ""


class Registry:
    """Names -> callables for one kind of part (models, datasets, losses, ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., Any]] = {}

    def register(self, obj: T) -> T:
        """Decorator: register ``obj`` under its ``__name__``."""
        name = obj.__name__
        if name in self._entries:
            raise ValueError(f"{self.kind} '{name}' is registered twice")
        self._entries[name] = obj
        return obj

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def names(self) -> list[str]:
        return sorted(self._entries)

    def get(self, name: str, key: str = "name") -> Callable[..., Any]:
        if not self._entries:  # nothing registered: the plugin list was never imported
            raise ConfigError(f"{key}: no {self.kind} is registered; import ppcls_repro.plugins first")
        if name not in self._entries:
            raise ConfigError(
                f"{key}: unknown {self.kind} '{name}'{nearest(name, self._entries)}; "
                f"known: {', '.join(self.names())}")
        return self._entries[name]

    def check(self, node: dict[str, Any], key: str, extra: typing.Iterable[str] = ()) -> None:
        """Validate a ``{name: X, **kwargs}`` node without building it.

        ``extra`` names keyword arguments the caller supplies itself (e.g. ``parameters`` for an
        optimizer); they must not appear in the config.
        """
        if not isinstance(node, dict) or "name" not in node:
            raise ConfigError(f"{key}: expected a mapping with a 'name' key, got {node!r}")
        target = self.get(node["name"], f"{key}.name")
        check_kwargs(target, {k: v for k, v in node.items() if k != "name"}, key, set(extra))

    def with_defaults(self, node: dict[str, Any], key: str) -> dict[str, Any]:
        """A node's keyword arguments with the callable's defaults filled in, without building it."""
        target = self.get(node["name"], f"{key}.name")
        defaults = {k: p.default for k, p in inspect.signature(target).parameters.items()
                    if p.default is not inspect.Parameter.empty}
        return {**defaults, **{k: v for k, v in node.items() if k != "name"}}

    def build(self, node: dict[str, Any], key: str, **supplied: Any) -> Any:
        """Build the part a node describes; ``supplied`` are arguments the code provides."""
        self.check(node, key, supplied)
        kwargs = {k: v for k, v in node.items() if k != "name"}
        return self.get(node["name"], key)(**kwargs, **supplied)


def check_kwargs(target: Callable[..., Any], kwargs: dict[str, Any], key: str,
                 supplied: set[str]) -> None:
    """Check names and (annotated) types of keyword arguments against ``target``'s signature."""
    sig = inspect.signature(target)
    params = {n: p for n, p in sig.parameters.items()
              if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in supplied}
    takes_any = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    hints = _type_hints(target)
    for name, value in kwargs.items():
        if name in supplied:
            raise ConfigError(f"{key}.{name}: set by the code, not by the config")
        if name not in params:
            if takes_any:
                continue
            raise ConfigError(f"{key}.{name}: unknown key{nearest(name, params)}; "
                              f"valid: {', '.join(sorted(params))}")
        if name in hints and not matches_type(value, hints[name]):
            raise ConfigError(f"{key}.{name}: expected {type_name(hints[name])}, "
                              f"got {type(value).__name__} {value!r}")
    missing = [n for n, p in params.items() if p.default is p.empty and n not in kwargs]
    if missing:
        raise ConfigError(f"{key}: missing required key(s) {', '.join(missing)}")


@dataclasses.dataclass(frozen=True)
class AtLeast:
    """Bound of an ``Annotated`` hint: the config value must be at least ``least`` (see ``Positive``)."""
    least: float

    def admits(self, value: float) -> bool:
        return value >= self.least

    def __str__(self) -> str:
        return f">= {self.least:g}"


@dataclasses.dataclass(frozen=True)
class Above:
    """Bound of an ``Annotated`` hint: the config value must be greater than ``bound``."""
    bound: float

    def admits(self, value: float) -> bool:
        return value > self.bound

    def __str__(self) -> str:
        return f"> {self.bound:g}"


_BOUNDS = (AtLeast, Above)

# A size, count, stride or factor: an int >= 1, checked with the config (0 would fail deep in Paddle,
# or build something silently empty).
Positive = Annotated[int, AtLeast(1)]

# A learning rate: a float > 0 (a negative one would train by gradient ascent without a word).
PositiveFloat = Annotated[float, Above(0)]


def _type_hints(target: Callable[..., Any]) -> dict[str, Any]:
    func = target.__init__ if inspect.isclass(target) else target
    try:
        return typing.get_type_hints(func, include_extras=True)
    except Exception:  # unresolvable forward refs: fall back to no type checks
        return {}


def matches_type(value: Any, hint: Any) -> bool:
    """Whether a YAML value fits a type hint (int is accepted where float is expected)."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Annotated:
        bounds = [m for m in hint.__metadata__ if isinstance(m, _BOUNDS)]
        return matches_type(value, args[0]) and all(m.admits(value) for m in bounds)
    if origin in (typing.Union, types.UnionType):
        return any(matches_type(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (list, tuple, typing.Sequence) or hint in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(value) == len(args) and all(map(matches_type, value, args))
        inner = args[0] if args else Any
        return all(matches_type(v, inner) for v in value)
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            return False
        vt = args[1] if args else Any
        return all(matches_type(v, vt) for v in value.values())
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # hints we do not model (callables, protocols) are not checked


def type_name(hint: Any) -> str:
    """A hint as a config user reads it: ``int >= 1``, ``list[int >= 1]``, ``int >= 1 | None``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        bounds = [f" {m}" for m in hint.__metadata__ if isinstance(m, _BOUNDS)]
        return type_name(args[0]) + "".join(bounds)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is not None and args:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(type_name(a) for a in args)}]"
    if hint is type(None):
        return "None"
    if hint is Ellipsis:
        return "..."
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


MODELS = Registry("model")
DATASETS = Registry("dataset")
LOSSES = Registry("loss")
OPTIMIZERS = Registry("optimizer")
LR_SCHEDULERS = Registry("lr scheduler")
EVALUATORS = Registry("evaluator")
STEPS = Registry("step")
PIPELINES = Registry("inference pipeline")  # pre/post-processing of exported models (deploy/)
WEIGHT_FORMATS = Registry("weight format")  # authors' released weight files (engine/importing.py)
