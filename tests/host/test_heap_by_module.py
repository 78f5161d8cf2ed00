"""Where the heap goes at boot (host_sim/run/heap_by_module.py): each role's imports
measured in the 32-bit interpreter, the modules the ones the interpreter loads."""

from pathlib import Path

import pytest

from host_sim import exits
from host_sim.device import mp
from host_sim.run import heap_by_module
from host_sim.run.heap import BUDGET


@pytest.mark.parametrize("role", ["tag", "hmu", "alcohol"])
def test_each_import_is_measured_once_leaves_first(role: str) -> None:
    costs, loaded = heap_by_module.measure(role)
    names = [c.module for c in costs]
    assert set(names) == loaded and len(names) == len(loaded)  # what importing the role really loads
    assert names[-1] == role and "host_board" in names
    assert all(c.bytes > 0 and c.names >= 0 for c in costs)
    assert sum(c.bytes for c in costs) < int(BUDGET.rstrip("K")) * 1024 // 2  # the boot leaves room to run


def test_the_order_puts_each_module_after_what_it_imports(tmp_path: Path) -> None:
    for name, body in {"a": "import b\nimport c\n", "b": "import c\nimport sys\n", "c": "x = 1\n",
                       "d": "def f():\n    import a\n"}.items():
        (tmp_path / f"{name}.py").write_text(body)
    sources = {p.stem: p for p in tmp_path.glob("*.py")}
    assert heap_by_module.order(["a"], sources) == ["c", "b", "a"]
    assert heap_by_module.order(["d"], sources) == ["d"]  # an import inside a function is not a boot's


def test_a_module_the_order_missed_shows_among_those_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """An import the order leaves out still happens (inside the module that imports
    it), and the interpreter's list of what it loaded names it."""
    whole = heap_by_module.order
    monkeypatch.setattr(heap_by_module, "order", lambda roots, sources: [m for m in whole(roots, sources)
                                                                         if m != "geofence"])
    costs, loaded = heap_by_module.measure("tag")
    assert "geofence" in loaded and "geofence" not in [c.module for c in costs]


def test_without_the_interpreter_it_says_how_to_build_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(mp, "MP32", tmp_path / "micropython")
    monkeypatch.setattr("sys.argv", ["heap_by_module"])
    assert exits.main("heap_by_module", heap_by_module.main) == exits.ENVIRONMENT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not built; run: make interpreters" in err[0]
