"""Collects tests/firmware/test_*.py as MicroPython test files.

Each file runs once in the real `micropython` interpreter (tests/mp/runner.py);
each of its test_* functions becomes its own pytest item, and a failure shows
the MicroPython traceback. CPython never imports these files.
"""

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from host_sim import mp
from host_sim.paths import ROOT

RUNNER = ROOT / "tests" / "mp" / "runner.py"
_results: dict[Path, dict[str, dict[str, Any]]] = {}


def _run_file(path: Path) -> dict[str, dict[str, Any]]:
    if path not in _results:
        with tempfile.NamedTemporaryFile(suffix=".jsonl") as out:
            proc = mp.run(RUNNER, str(path.relative_to(ROOT)), out.name, extra_paths=[path.parent])
            lines = Path(out.name).read_text().splitlines()
        records = {r["name"]: r for r in map(json.loads, lines)}
        if not records:
            records["<run>"] = {"ok": False, "tb": proc.stdout + proc.stderr}
        _results[path] = records
    return _results[path]


class MicroPythonFile(pytest.File):
    def collect(self):  # type: ignore[no-untyped-def]
        for name in _run_file(self.path):
            yield MicroPythonTest.from_parent(self, name=name)


class MicroPythonTest(pytest.Item):
    def runtest(self) -> None:
        record = _run_file(self.path)[self.name]
        if not record["ok"]:
            raise MicroPythonFailure(record["tb"])

    def repr_failure(self, excinfo, style=None):  # type: ignore[no-untyped-def]
        if isinstance(excinfo.value, MicroPythonFailure):
            return f"MicroPython traceback:\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):  # type: ignore[no-untyped-def]
        return self.path, None, f"{self.path.name}::{self.name} [micropython]"


class MicroPythonFailure(Exception):
    pass


def pytest_pycollect_makemodule(module_path: Path, parent):  # type: ignore[no-untyped-def]
    return MicroPythonFile.from_parent(parent, path=module_path)
