"""Collects tests/firmware/test_*.py as MicroPython test files.

Each file runs once on each board in the real interpreter: the unix port built
for 32-bit x86 (tests/mp/runner.py in a process), and RV32IMC under QEMU
(host_sim/device/rv32.py, the same runner frozen into the image, the file sent over the
raw REPL). Each test_* function becomes one pytest item per board, and a failure
shows the MicroPython traceback. CPython never imports these files.
"""

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from host_sim.device import mp, rv32
from host_sim.paths import ROOT
from tests.conftest import RV32, X86_32

RUNNER = ROOT / "tests" / "mp" / "runner.py"
BOARDS = (X86_32, RV32)
_TEST = re.compile(r"^def (test_\w+)\(", re.M)
_results: dict[tuple[Path, str], dict[str, dict[str, Any]]] = {}


def _records(records: list[dict[str, Any]], output: str) -> dict[str, dict[str, Any]]:
    found = {r["name"]: r for r in records}
    return found or {"<run>": {"ok": False, "tb": output}}


def _run_file(path: Path, board: str) -> dict[str, dict[str, Any]]:
    if (path, board) not in _results:
        if board == RV32:
            try:
                with rv32.Rv32Board() as b:
                    found = _records(b.run_test_file(path), "")
            except rv32.Rv32Error as e:
                found = {"<run>": {"ok": False, "tb": str(e)}}
        else:
            with tempfile.NamedTemporaryFile(suffix=".jsonl") as out:
                proc = mp.run(RUNNER, str(path.relative_to(ROOT)), out.name, extra_paths=[path.parent, RUNNER.parent])
                lines = Path(out.name).read_text().splitlines()
            found = _records([json.loads(line) for line in lines], proc.stdout + proc.stderr)
        _results[path, board] = found
    return _results[path, board]


class MicroPythonFile(pytest.File):
    def collect(self):  # type: ignore[no-untyped-def]
        for name in _TEST.findall(self.path.read_text()):
            for board in BOARDS:
                yield MicroPythonTest.from_parent(self, name=f"{name}[{board}]", test=name, board=board)


class MicroPythonTest(pytest.Item):
    def __init__(self, *, test: str, board: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.test, self.board = test, board

    def runtest(self) -> None:
        records = _run_file(self.path, self.board)
        record = records.get(self.test) or records.get("<import>") or records.get("<run>")
        if record is None:
            raise MicroPythonFailure(f"{self.test} did not run on {self.board}")
        if not record["ok"]:
            raise MicroPythonFailure(record["tb"])

    def repr_failure(self, excinfo, style=None):  # type: ignore[no-untyped-def]
        if isinstance(excinfo.value, MicroPythonFailure):
            return f"MicroPython traceback ({self.board}):\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):  # type: ignore[no-untyped-def]
        return self.path, None, f"{self.path.name}::{self.name} [micropython]"


class MicroPythonFailure(Exception):
    pass


def pytest_pycollect_makemodule(module_path: Path, parent):  # type: ignore[no-untyped-def]
    return MicroPythonFile.from_parent(parent, path=module_path)
