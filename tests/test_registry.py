from typing import Literal

import pytest

from ppcls_repro.registry import ConfigError, Positive, PositiveFloat, Registry, matches_type, type_name


def make_registry() -> Registry:
    reg = Registry("widget")

    @reg.register
    class Widget:
        def __init__(self, size: int, ratio: float = 1.0, mode: Literal["a", "b"] = "a",
                     dims: tuple[int, int] = (1, 2), tag: str | None = None) -> None:
            self.size, self.ratio, self.mode, self.dims, self.tag = size, ratio, mode, dims, tag

    return reg


def test_build_passes_kwargs():
    w = make_registry().build({"name": "Widget", "size": 3, "ratio": 2, "dims": [4, 5]}, "Arch")
    assert (w.size, w.ratio, w.dims) == (3, 2, [4, 5])


def test_unknown_name_suggests_nearest():
    with pytest.raises(ConfigError, match=r"Arch.name: unknown widget 'Widgte' \(did you mean Widget\?\)"):
        make_registry().build({"name": "Widgte", "size": 1}, "Arch")


def test_unknown_key_suggests_nearest():
    with pytest.raises(ConfigError, match=r"Arch.sise: unknown key \(did you mean size"):
        make_registry().check({"name": "Widget", "sise": 1}, "Arch")


@pytest.mark.parametrize("key,value", [("size", "3"), ("size", 2.5), ("size", True), ("ratio", "x"),
                                       ("mode", "c"), ("dims", [1, 2, 3]), ("tag", 5)])
def test_wrong_type_is_rejected(key, value):
    node = {"name": "Widget", "size": 1, key: value}
    with pytest.raises(ConfigError, match=f"Arch.{key}: expected"):
        make_registry().check(node, "Arch")


def test_missing_required_and_supplied_keys():
    reg = make_registry()
    with pytest.raises(ConfigError, match="missing required key"):
        reg.check({"name": "Widget"}, "Arch")
    with pytest.raises(ConfigError, match="set by the code"):
        reg.check({"name": "Widget", "size": 1}, "Arch", extra=("size",))


def test_double_registration_fails():
    reg = make_registry()
    with pytest.raises(ValueError, match="registered twice"):
        reg.register(type("Widget", (), {}))


def test_matches_type_int_is_float_but_bool_is_not():
    assert matches_type(3, float) and not matches_type(True, float)
    assert matches_type(None, int | None) and not matches_type("a", int | None)
    assert matches_type({"a": 1.0}, dict[str, float]) and not matches_type({"a": "x"}, dict[str, float])


def test_with_defaults_fills_what_the_node_leaves_out():
    reg = Registry("thing")

    @reg.register
    def Thing(a: int, b: int = 2, c: str = "x"):
        return a, b, c

    assert reg.with_defaults({"name": "Thing", "a": 1, "c": "y"}, "Part") == {"a": 1, "b": 2, "c": "y"}
    with pytest.raises(ConfigError, match="^Part.name: unknown thing 'Thin'"):
        reg.with_defaults({"name": "Thin"}, "Part")


def test_bounds_are_checked_and_named():
    assert matches_type(1, Positive) and not matches_type(0, Positive)
    assert matches_type(1e-9, PositiveFloat) and not matches_type(0.0, PositiveFloat)
    assert not matches_type(-1, PositiveFloat) and not matches_type("0.1", PositiveFloat)
    assert (type_name(Positive), type_name(PositiveFloat)) == ("int >= 1", "float > 0")
