"""The ``[project.scripts]`` of pyproject.toml: each resolves to a callable of the package, which the
matching ``tools/*.py`` also runs, and each answers ``--help``."""
import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
TOOLS = {"ppcls-repro-train": "train.py", "ppcls-repro-eval": "eval.py", "ppcls-repro-export": "export_model.py",
         "ppcls-repro-infer": "infer.py"}


def resolve(target: str):
    module, _, attribute = target.partition(":")
    return importlib.import_module(module), attribute


def test_the_four_commands_are_declared():
    assert sorted(SCRIPTS) == sorted(TOOLS)


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_an_entry_point_resolves_to_the_function_its_tool_calls(name):
    module, attribute = resolve(SCRIPTS[name])
    assert callable(getattr(module, attribute))
    tool = (REPO / "tools" / TOOLS[name]).read_text()
    assert f"from {module.__name__} import {attribute}" in tool  # one code path for both spellings


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_help_of_each_entry_point(name, capsys):
    module, attribute = resolve(SCRIPTS[name])
    with pytest.raises(SystemExit) as done:
        getattr(module, attribute)(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage:") and ("--config" in text or "--model_dir" in text)


def test_help_of_a_tool_through_python(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "tools" / "export_model.py"), "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "--save_dir" in done.stdout


def test_an_entry_point_gives_the_tools_one_line_error(tmp_path, capsys):
    module, attribute = resolve(SCRIPTS["ppcls-repro-train"])
    with pytest.raises(SystemExit) as done:
        getattr(module, attribute)(["-c", str(tmp_path / "nowhere.yaml")])
    assert str(done.value.code).startswith("error: ") and "nowhere.yaml" in str(done.value.code)
    assert "\n" not in str(done.value.code)
