"""Type-check firmware/ and boards/ against the ESP32 MicroPython stubs.

mypy sees MicroPython's standard library (micropython-stdlib-stubs) instead of
CPython's, the ESP32 port's modules (micropython-esp32-stubs: machine, esp32,
bluetooth, ...), and the viper emitter's own types (ptr8, ptr16, ptr32, uint),
which the stubs lack and which are added to builtins here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from host_sim.paths import BOARDS, BUILD, FIRMWARE, venv_tool

VIPER_TYPES = """
# The viper emitter's machine types (MicroPython compiler builtins): a pointer
# parameter takes any writable buffer
from array import array as _viper_array
ptr = bytearray | memoryview | _viper_array[int]
ptr8 = ptr
ptr16 = ptr
ptr32 = ptr
uint = int
"""


def prepare(work: Path) -> Path:
    """A typeshed whose stdlib is MicroPython's plus the ESP32 port's modules."""
    site = Path(sysconfig.get_paths()["purelib"])
    typeshed = work / "typeshed"
    stdlib = typeshed / "stdlib"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(site / "stdlib", stdlib)
    # mypy needs its own mypy_extensions stub beside any typeshed
    shutil.copytree(site / "mypy" / "typeshed" / "stubs", typeshed / "stubs")
    with open(stdlib / "builtins.pyi", "a") as out:
        out.write(VIPER_TYPES)
    added = set()
    for dist in ("micropython-esp32-stubs", "micropython-stdlib-stubs"):
        for f in metadata.distribution(dist).files or []:
            if f.suffix == ".pyi" and f.parts[0] != "stdlib":
                target = stdlib / f
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(site / f, target)
                added.add(f.parts[0].removesuffix(".pyi"))
    with open(stdlib / "VERSIONS", "a") as out:
        out.writelines(f"{name}: 3.0-\n" for name in sorted(added))
    return typeshed


def main() -> int:
    typeshed = prepare(BUILD / "typecheck")
    config = BUILD / "typecheck" / "mypy.ini"
    config.write_text("[mypy]\ncheck_untyped_defs = True\nexplicit_package_bases = True\n")
    sources = sorted(str(p) for p in (*FIRMWARE.glob("*.py"), *BOARDS.glob("*.py")))
    env = {**os.environ, "MYPYPATH": os.pathsep.join(map(str, (FIRMWARE, BOARDS)))}
    cmd = [venv_tool("mypy"), "--custom-typeshed-dir", str(typeshed), "--no-site-packages",
           "--config-file", str(config), *sources]
    proc = subprocess.run(cmd, env=env)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
