"""The package's layering, function-local imports included: no import cycle, nothing below
``papers/`` imports a paper or the plugin list, no paper imports another, lower layers never import
higher ones (utils/registry < config, data, metrics, layers, losses < engine < deploy < papers)."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ppcls_repro"
RANK = {"utils": 0, "registry": 0, "config": 1, "data": 1, "metrics": 1, "layers": 1, "losses": 1,
        "engine": 2, "deploy": 3, "papers": 4, "plugins": 5, "cli": 5,
        "commands": 5, "api": 5, "alignment_references": 5, "train_speed": 5, "latency_twins": 5}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """Every ppcls_repro module ``path`` imports, at any depth of the file."""
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name.startswith("ppcls_repro."):
                targets.add(name)
    return targets


GRAPH = {name: imports(path, modules()) - {name} for name, path in modules().items()}


def rank(module: str) -> int:
    return RANK[module.split(".")[1]] if module != "ppcls_repro" else 0


def paper(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "papers" else None


def test_no_module_imports_a_higher_layer():
    upward = sorted(f"{a} -> {b}" for a, targets in GRAPH.items() for b in targets
                    if a != "ppcls_repro" and rank(b) > rank(a))
    assert upward == []


def test_no_paper_imports_another():
    crossing = sorted(f"{a} -> {b}" for a, targets in GRAPH.items() for b in targets
                      if paper(a) and paper(b) and paper(a) != paper(b))
    assert crossing == []


def test_there_is_no_import_cycle():
    state: dict[str, int] = {}  # 1 visiting, 2 done
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(GRAPH.get(node, ())):
            if state.get(target) == 1:
                cycles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = 2

    for start in sorted(GRAPH):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_the_checker_sees_function_local_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from ppcls_repro.papers.sr import srcnn\n")
    assert "ppcls_repro.papers.sr.srcnn" in imports(source, modules())
