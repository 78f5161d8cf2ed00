"""host_sim by job: each package says what lives in it, and imports only go down the
layers (shared leaves, world, device and centre, run, judge, the CLIs), so the
module graph has no cycle."""

import ast
from pathlib import Path

from host_sim.paths import ROOT

HOST_SIM = ROOT / "host_sim"
LEAVES = {"host_sim.paths", "host_sim.wire", "host_sim.exits", "host_sim.keys", "host_sim.cores"}  # used by every room
RANK = {"world": 1, "device": 2, "centre": 2, "run": 3, "judge": 4}
ON_TOP = 5  # the CLIs, the bench and the fleet runner


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    modules = {_name(p): p for p in HOST_SIM.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):  # function-level imports too
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("host_sim"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    deps.add(full if full in modules else node.module)
        graph[name] = deps - {name}
    return graph


def _rank(module: str) -> int:
    if module in LEAVES or module == "host_sim":
        return 0
    parts = module.split(".")
    return RANK[parts[1]] if len(parts) > 2 or parts[1] in RANK else ON_TOP


def test_every_package_says_what_lives_there() -> None:
    for init in [HOST_SIM / "__init__.py", *HOST_SIM.glob("*/__init__.py")]:
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc.split()) >= 10, init
    assert {p.parent.name for p in HOST_SIM.glob("*/__init__.py")} == set(RANK)


def test_imports_go_down_the_layers() -> None:
    wrong = [(a, b) for a, deps in _graph().items() for b in deps
             if _rank(b) > _rank(a) or (_rank(b) == _rank(a) and a.split(".")[:2] != b.split(".")[:2]
                                        and _rank(a) not in (0, ON_TOP))]
    assert wrong == []


def test_the_module_graph_has_no_cycle() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for dep in graph.get(module, ()):
            visit(dep, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())
