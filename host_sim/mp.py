"""Running firmware code in the real MicroPython unix port."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from host_sim.paths import BOARDS, FIRMWARE, ROOT, venv_tool

SERVICE = ROOT / "tests" / "mp" / "service.py"


def micropython() -> str:
    return venv_tool("micropython")


def env(extra_paths: Sequence[Path] = ()) -> dict[str, str]:
    """Environment whose MICROPYPATH holds the firmware, the boards and any extra folders."""
    paths = [str(p) for p in (*extra_paths, FIRMWARE, BOARDS)]
    return {**os.environ, "MICROPYPATH": ":".join([*paths, ".frozen"])}


def run(
    script: Path | str,
    *args: str,
    heap: str | None = None,
    extra_paths: Sequence[Path] = (),
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run a MicroPython script to completion and capture its output."""
    cmd = [micropython()]
    if heap:
        cmd += ["-X", f"heapsize={heap}"]
    return subprocess.run(
        [*cmd, str(script), *args],
        env=env(extra_paths),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


class MicroPythonError(RuntimeError):
    """A call into MicroPython raised; the message is its traceback."""


class Service:
    """A long-lived MicroPython process answering calls into firmware-side modules.

    One process serves many calls (hypothesis examples), since each interpreter
    start costs tens of milliseconds.
    """

    def __init__(self, extra_paths: Sequence[Path] = (), heap: str = "64M") -> None:
        # A test helper, not firmware: its heap is sized for big replies, not for a device.
        self._proc = subprocess.Popen(
            [micropython(), "-X", f"heapsize={heap}", str(SERVICE)],
            env=env(extra_paths),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )

    def call(self, module: str, function: str, *args: Any) -> Any:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps([module, function, list(args)]) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise MicroPythonError(f"micropython exited with status {self._proc.wait()}")
        try:
            reply = json.loads(line)
        except ValueError:
            rest = self._proc.stdout.read(2000)
            raise MicroPythonError(f"not a reply from the service: {line + rest!r}") from None
        if "error" in reply:
            raise MicroPythonError(reply["error"])
        return reply["ok"]

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait(timeout=10)
        if self._proc.stdout:
            self._proc.stdout.close()
