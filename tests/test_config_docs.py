"""Every constructor argument a config sets is documented where the part is defined.

The docstring of each registered model, dataset, loss, optimizer, schedule, evaluator and step has an
``Args:`` section with one entry per keyword a config may set, in the form

    name: meaning, with its unit or range. Default: value.   (or "Required." without a default)

so a config key can be looked up in one place (BasicSR's habit). Arguments the code supplies
(parameters, schedules, seeds, the step's networks) are not config keys and are not listed.
"""
from __future__ import annotations

import inspect
import re

import pytest

from ppcls_repro.registry import DATASETS, EVALUATORS, LOSSES, LR_SCHEDULERS, MODELS, OPTIMIZERS, STEPS, Registry

# Keyword arguments the code supplies, per registry (config.py and engine/ refuse them in a config).
SUPPLIED = {
    "optimizer": {"parameters", "learning_rate"},
    "lr scheduler": {"steps_per_epoch", "epochs"},
    "dataset": {"strict", "seed"},
}
REGISTRIES = (MODELS, DATASETS, LOSSES, OPTIMIZERS, LR_SCHEDULERS, EVALUATORS, STEPS)


def config_keys(registry: Registry, name: str) -> list[str]:
    target = registry.get(name)
    supplied = SUPPLIED.get(registry.kind, set()) | set(getattr(target, "supplied", ()))
    return [p.name for p in inspect.signature(target).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in supplied]


def args_entries(doc: str) -> dict[str, str]:
    """``name -> entry text`` of the ``Args:`` section (an entry runs until the next one)."""
    if "\nArgs:\n" not in f"\n{doc}":
        return {}
    section = f"\n{doc}".split("\nArgs:\n", 1)[1]
    entries: dict[str, str] = {}
    current = None
    for line in section.splitlines():
        match = re.match(r"^    (\w+): (.*)$", line)
        if match:
            current = match.group(1)
            entries[current] = match.group(2)
        elif line.startswith("        ") and current:
            entries[current] += " " + line.strip()
        elif line.strip() == "" or not line.startswith(" "):
            if line.strip():
                break  # the next section
    return entries


PARTS = [(registry, name) for registry in REGISTRIES for name in registry.names()]


@pytest.mark.parametrize("registry, name", PARTS, ids=[f"{r.kind}:{n}" for r, n in PARTS])
def test_every_config_key_has_an_args_entry_with_its_default(registry, name):
    target = registry.get(name)
    entries = args_entries(inspect.getdoc(target) or "")
    keys = config_keys(registry, name)
    assert sorted(set(keys) - set(entries)) == [], f"{name}: undocumented config keys"
    assert sorted(set(entries) - set(keys)) == [], f"{name}: Args entries for keys it does not take"
    signature = inspect.signature(target).parameters
    for key in keys:
        text = entries[key]
        wants = "Required." if signature[key].default is inspect.Parameter.empty else "Default:"
        assert wants in text, f"{name}.{key}: the entry should say '{wants}' ({text!r})"


def test_args_entries_parse_continuations_and_stop_at_the_next_section():
    doc = "Title.\n\nArgs:\n    a: first. Default: 1.\n        more of a.\n    b: second. Required.\n\nReturns:\n    x: no\n"
    assert args_entries(doc) == {"a": "first. Default: 1. more of a.", "b": "second. Required."}
