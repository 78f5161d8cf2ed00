"""The ESP32-C3's instruction set: MicroPython 1.28 for RV32IMC under QEMU.

`make interpreters` builds build/rv32/firmware.elf from the vendored source with
the firmware, the firmware tests' probes and tests/mp/runner.py frozen in, and
with the native emitter's Zba instructions off. QEMU runs it on a CPU with only
the C3's extensions (no Zba/Zbb/Zbc/Zbs, no atomics, no floating point), so
viper code that the C3 could not execute stops there with an illegal
instruction. The host speaks to its REPL over a real pseudo-terminal with
MicroPython's raw REPL (mpremote's transport)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from mpremote.transport import TransportError
from mpremote.transport_serial import SerialTransport

from host_sim.device.mp import MicroPythonError
from host_sim.paths import BUILD

IMAGE = BUILD / "rv32" / "firmware.elf"
CPU = "rv32,zba=false,zbb=false,zbc=false,zbs=false,a=false,f=false,d=false"
_PTY = re.compile(rb"/dev/pts/\d+")


class Rv32Error(RuntimeError):
    """The board did not start, or code run on it raised (the message says which)."""


class Rv32Board:
    """One QEMU RV32IMC machine, its REPL in raw mode, a RAM disk mounted at /."""

    def __init__(self, image: Path = IMAGE) -> None:
        qemu = shutil.which("qemu-system-riscv32")
        if qemu is None or not image.exists():
            raise Rv32Error(f"no RV32 board: needs qemu-system-riscv32 and {image} (make interpreters)")
        self._proc = subprocess.Popen(
            [qemu, "-machine", "virt", "-cpu", CPU, "-nographic", "-monitor", "null", "-semihosting",
             "-bios", "none", "-serial", "pty", "-kernel", str(image)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        found = _PTY.search(line)
        if not found:
            self.close()
            raise Rv32Error(f"qemu did not offer a serial port: {line!r}")
        self._transport = self._connect(found.group().decode())
        self._transport.enter_raw_repl(soft_reset=False)
        self.exec("import ramdisk\nramdisk.mount()")

    @staticmethod
    def _connect(device: str) -> SerialTransport:
        deadline = time.monotonic() + 10
        while True:
            try:
                return SerialTransport(device, baudrate=115200)
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def exec(self, code: str, timeout: float = 600) -> str:
        """Run code on the board; its printed output. Rv32Error with the traceback if it raised."""
        try:
            out, err = self._transport.exec_raw(code, timeout=timeout)
        except (OSError, TransportError) as e:  # the machine stopped (a fault ends QEMU) or went quiet
            raise Rv32Error(f"the RV32 board stopped answering: {e}") from None
        if err:
            raise Rv32Error(err.decode(errors="replace"))
        return bytes(out).decode(errors="replace")

    def write_file(self, name: str, data: bytes) -> None:
        try:
            self._transport.fs_writefile(name, data)
        except (OSError, TransportError) as e:
            raise Rv32Error(f"could not write {name} on the RV32 board: {e}") from None

    def run_test_file(self, path: Path) -> list[dict[str, Any]]:
        """Each test_* of a firmware test file run on the board: one record per test."""
        self.write_file("/" + path.name, path.read_bytes())
        out = self.exec(f"import runner, sys\nrunner.run('/{path.name}', sys.stdout)")
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    def call(self, module: str, function: str, *args: Any) -> Any:
        """module.function(*args) on the board, arguments and result as JSON (as mp.Service.call)."""
        args_json = json.dumps(json.dumps(args))  # a string literal holding the arguments' JSON
        code = f"import json, {module}\nprint(json.dumps({module}.{function}(*json.loads({args_json}))))"
        try:
            out = self.exec(code)
        except Rv32Error as e:
            raise MicroPythonError(str(e)) from None
        return json.loads(out)

    def close(self) -> None:
        transport = getattr(self, "_transport", None)
        if transport is not None:
            transport.close()
        self._proc.kill()
        self._proc.wait()
        if self._proc.stdout:
            self._proc.stdout.close()

    def __enter__(self) -> Rv32Board:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
