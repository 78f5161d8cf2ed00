"""Where a device's heap goes when it boots: each firmware module's import, leaves
first, as the bytes it leaves live in the 32-bit interpreter with the modules in a
ROMFS image, as on a board. An import's bytes are its functions, classes and
constants, and the names it adds to the interpreter's qstr pool, which grows by
doubling (so one import pays for the next few's names). Modules imported only
inside a function (a curfew tag's beacon, a technician's console) are left out, as
a GPS tag never loads them.

    python -m host_sim.run.heap_by_module [--role tag|hmu|alcohol]
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from host_sim import exits
from host_sim.device import boards, device_image, mp
from host_sim.paths import BOARDS, FIRMWARE
from host_sim.run.heap import BUDGET

_SCRIPT = """\
import gc, micropython, sys, hostmem, vfs
vfs.mount(vfs.VfsRom(hostmem.rom("{rom}")), "/rom")
sys.path.insert(0, "/rom")
gc.collect()
print("base", gc.mem_alloc())
micropython.qstr_info()
for m in {order!r}:
    __import__(m)
    gc.collect()
    print("module", m, gc.mem_alloc())
    micropython.qstr_info()
print("loaded", " ".join(sys.modules))
"""
_POOL = re.compile(r"n_qstr=(\d+), n_str_data_bytes=\d+, n_total_bytes=(\d+)")


@dataclass
class Cost:
    module: str
    bytes: int  # live after its import, beyond what was live before
    names: int  # qstrs it added
    pool_bytes: int  # of its bytes, the qstr pool's growth


def _imports(path: Path) -> list[str]:
    # the modules a file imports at its top level, in order
    found = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
    return found


def order(roots: list[str], sources: dict[str, Path]) -> list[str]:
    """The device's modules that importing roots loads, each after those it imports."""
    out: list[str] = []

    def visit(name: str) -> None:
        if name in out or name not in sources:
            return
        for dep in _imports(sources[name]):
            visit(dep)
        out.append(name)

    for root in roots:
        visit(root)
    return out


def measure(role: str = "tag", board: str = "host") -> tuple[list[Cost], set[str]]:
    """Each module's cost in import order, and every one of the device's modules the
    interpreter says it had loaded at the end: one an import pulled in that the order
    missed shows there, and its cost inside another's. The board is a host board: its
    modules are compiled for this PC's interpreter."""
    driver = boards.load(board)["driver"]
    sources = {p.stem: p for p in [*FIRMWARE.glob("*.py"), BOARDS / f"{driver}.py"] if p.stem != "main"}
    names = order([driver, role], sources)  # start.py builds the board, then imports the role
    with tempfile.TemporaryDirectory() as tmp:
        image = device_image.build(Path(tmp), {"device_id": "heap-0001", "key": "00" * 32}, board=board,
                                   board_changes={"role": role})
        script = image / "heap_by_module.py"
        script.write_text(_SCRIPT.format(rom=device_image.ROM_IMAGE, order=names))
        proc = subprocess.run([mp.micropython(), "-X", f"heapsize={BUDGET}", script.name], cwd=image,
                              capture_output=True, text=True, timeout=60)
    if proc.returncode:
        raise RuntimeError(f"the interpreter failed:\n{proc.stdout}{proc.stderr}")
    lines = proc.stdout.splitlines()
    costs, loaded = [], set()
    last = (0, 0, 0)  # live bytes, qstrs, pool bytes
    for line, pool in zip(lines, lines[1:], strict=False):
        word = line.split()
        m = _POOL.search(pool)
        if word[0] in ("base", "module") and m:
            now = (int(word[-1]), int(m[1]), int(m[2]))
            if word[0] == "module":
                costs.append(Cost(word[1], now[0] - last[0], now[1] - last[1], now[2] - last[2]))
            last = now
    if lines and lines[-1].startswith("loaded"):
        loaded = set(lines[-1].split()[1:]) & set(sources)
    return costs, loaded


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--role", default="tag", choices=["tag", "hmu", "alcohol"], help="the device's role (default tag)")
    args = ap.parse_args()
    if not mp.MP32.exists():
        raise exits.CliError(f"the firmware's interpreter {mp.MP32} is not built; run: make interpreters",
                             exits.ENVIRONMENT)
    costs, _ = measure(args.role)
    print(f"{'module':14} {'bytes':>7} {'names':>6} {'of which qstr pool':>19}")
    for c in costs:
        print(f"{c.module:14} {c.bytes:7,} {c.names:6} {c.pool_bytes:19,}")
    print(f"{'all':14} {sum(c.bytes for c in costs):7,} {sum(c.names for c in costs):6} "
          f"{sum(c.pool_bytes for c in costs):19,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(exits.main("heap_by_module", main))
