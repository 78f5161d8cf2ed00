"""Copy the firmware to a board running MicroPython, with mpremote.

Copies the firmware modules compiled for the board's architecture (make mpy),
main.py as source, the board's driver and definition (as board.json) and the
device configuration (as config.json). Boards without an architecture (the
unix port) get the sources.

With --romfs the compiled modules go instead as one ROMFS image
(build/romfs/BOARD.romfs) into the board's ROMFS partition, where imports run
them in place from flash and the heap keeps only their objects: the heap the
simulator measures (docs/simulator.md, Heap). That needs a MicroPython built
with ROMFS (MICROPY_VFS_ROM and a romfs partition); mpremote says so on a board
without it. Loose .mpy files left on the filesystem by an earlier deploy would be
imported before /rom: remove them (mpremote rm).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from host_sim import keys
from host_sim.device import boards, romfs
from host_sim.exits import CliError
from host_sim.paths import BOARDS, BUILD, FIRMWARE, venv_tool


def files(board: str, config: Path, mpy_dir: Path = BUILD / "mpy",
          changes: dict[str, Any] | None = None) -> list[tuple[Path, str]]:
    """(local file, name on the device) for everything a board needs; changes: its
    definition's changes (boards.changed: an alcohol tag's sensors on the host board)."""
    defn = boards.changed(boards.load(board), changes)
    arch = defn["mpy_arch"]
    driver = BOARDS / f"{defn['driver']}.py"
    sensors = (defn.get("alcohol") or {}).get("driver")  # an alcohol tag's sensors, on a real board
    modules = sorted(p for p in FIRMWARE.glob("*.py") if p.name != "main.py") + [driver]
    modules += [BOARDS / f"{sensors}.py"] if sensors else []
    out: list[tuple[Path, str]] = []
    for src in modules:
        if arch:
            compiled = mpy_dir / arch / f"{src.stem}.mpy"
            if not compiled.exists():
                raise FileNotFoundError(f"{compiled} is missing: run make mpy first")
            out.append((compiled, compiled.name))
        else:
            out.append((src, src.name))
    out.append((FIRMWARE / "main.py", "main.py"))
    out.append((boards.device_copy(board), "board.json"))
    out.append((config, "config.json"))
    return out


def split(copies: list[tuple[Path, str]]) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """(compiled modules, the rest): what a ROMFS image holds and what stays a file."""
    return ([c for c in copies if c[1].endswith(".mpy")], [c for c in copies if not c[1].endswith(".mpy")])


def rom_image(board: str, modules: list[tuple[Path, str]], folder: Path = BUILD / "romfs") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{board}.romfs"
    out.write_bytes(romfs.image(modules))
    return out


def command(port: str, copies: list[tuple[Path, str]], reset: bool, image: Path | None = None) -> list[str]:
    # 'resume' attaches without a soft reset, so a running main.py is interrupted, not rerun
    cmd = [venv_tool("mpremote"), "connect", port, "resume"]
    if image is not None:
        cmd += ["romfs", "deploy", str(image), "+"]
    for local, remote in copies:
        cmd += ["fs", "cp", "-f", str(local), f":{remote}", "+"]
    cmd += ["fs", "ls"]
    if reset:
        cmd += ["+", "reset"]
    return cmd


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make deploy", description=__doc__)
    ap.add_argument("--board", default="", help=f"one of: {', '.join(boards.names())}")
    ap.add_argument("--port", default="", help="serial port of the board")
    ap.add_argument("--config", default="devices/example-tag.json", help="device configuration")
    ap.add_argument("--secrets", type=Path,
                    help="the device's secrets (tagsim keys new): its key and technician token, added to config.json")
    ap.add_argument("--centre", metavar="HOST:PORT", default="",
                    help="the centre the tag reports to (sets centre_host and centre_port in config.json)")
    ap.add_argument("--mpy", type=Path, default=BUILD / "mpy", help="compiled modules (make mpy)")
    ap.add_argument("--no-reset", action="store_true", help="leave the board running as it is")
    ap.add_argument("--romfs", action="store_true",
                    help="the compiled modules as a ROMFS image into the board's ROMFS partition")
    ap.add_argument("--dry-run", action="store_true", help="print the mpremote command only")
    args = ap.parse_args(argv)
    try:
        boards.load(args.board)
    except boards.BoardError as e:
        print(f"make deploy: {e}", file=sys.stderr)
        return 2
    if not args.port:
        print("make deploy: no PORT given; e.g. PORT=/dev/ttyUSB0", file=sys.stderr)
        return 2
    config = Path(args.config)
    if not config.is_file():
        print(f"make deploy: CONFIG {config} is not a file; see devices/ for examples",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="emtag-deploy-") as tmp:
        try:
            config = device_config(config, args.secrets, args.centre, Path(tmp))
            copies = files(args.board, config, args.mpy)
        except (CliError, FileNotFoundError) as e:
            print(f"make deploy: {e}", file=sys.stderr)
            return 2
        return _deploy(args, copies)


PLACEHOLDER_HOST = "centre.example.net"


def device_config(config: Path, secrets_file: Path | None, centre: str, folder: Path) -> Path:
    """config as the device gets it, written only its owner can read in folder: with the
    device's secrets and the centre's address added. A cellular tag left pointing at the
    example's centre is refused: it could never report."""
    given = keys.read(config)
    if secrets_file:
        secret = keys.device_secrets(secrets_file)
        if given.get("device_id", secret["device_id"]) != secret["device_id"]:
            raise CliError(f"{config} is for {given['device_id']}, {secrets_file} for {secret['device_id']}")
        given |= secret
    if centre:
        host, _, port = centre.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise CliError(f"CENTRE {centre!r}: expected HOST:PORT, e.g. CENTRE=192.168.1.20:7600")
        given |= {"centre_host": host, "centre_port": int(port)}
    if given.get("transport") == "cellular" and given.get("centre_host", PLACEHOLDER_HOST) == PLACEHOLDER_HOST:
        raise CliError(f"{config}: centre_host is the example's {PLACEHOLDER_HOST}; "
                       "give CENTRE=HOST:PORT (the centre as the tag's network reaches it)")
    out = folder / "config.json"
    keys.write_private(out, given)
    return out


def _deploy(args: argparse.Namespace, copies: list[tuple[Path, str]]) -> int:
    image = None
    if args.romfs:
        modules, copies = split(copies)
        if not modules:
            print(f"make deploy: board {args.board} runs sources, not compiled modules: no ROMFS image",
                  file=sys.stderr)
            return 2
        image = rom_image(args.board, modules)
    cmd = command(args.port, copies, reset=not args.no_reset, image=image)
    if args.dry_run:
        print(" ".join(["mpremote", *cmd[1:]]))
        return 0
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
