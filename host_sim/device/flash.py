"""Write a MicroPython image to a board with esptool: erase, then write at the chip's offset.

    make flash BOARD=lilygo_t_sim7000g PORT=/dev/ttyUSB0 FIRMWARE=ESP32_GENERIC-SPIRAM-...bin
    make flash ... DRY_RUN=1     # print the esptool commands instead of running them
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from host_sim.device import boards
from host_sim.paths import venv_tool

BAUD = 460800


def commands(board: str, port: str, firmware: str) -> list[list[str]]:
    choices = ", ".join(boards.flashable())
    if not board:
        raise boards.BoardError(f"no BOARD given; choose one of: {choices}")
    if board not in boards.names():
        raise boards.BoardError(f"unknown BOARD {board}; choose one of: {choices}")
    if board not in boards.flashable():
        raise boards.BoardError(f"BOARD {board} is the unix port, nothing to flash; choose one of: {choices}")
    defn = boards.load(board)
    esptool = venv_tool("esptool")
    chip = defn["chip"]
    return [
        [esptool, "--chip", chip, "--port", port, "erase-flash"],
        [esptool, "--chip", chip, "--port", port, "--baud", str(BAUD), "write-flash", "-z",
         defn["flash_offset"], firmware],
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make flash", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--board", default="", help=f"one of: {', '.join(boards.flashable())}")
    ap.add_argument("--port", default="", help="serial port of the board, e.g. /dev/ttyUSB0")
    ap.add_argument("--firmware", default="", help="MicroPython image (.bin) for the board")
    ap.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = ap.parse_args(argv)
    try:
        cmds = commands(args.board, args.port, args.firmware)
    except boards.BoardError as e:
        print(f"make flash: {e}", file=sys.stderr)
        return 2
    defn = boards.load(args.board)
    if not args.port:
        print("make flash: no PORT given; e.g. PORT=/dev/ttyUSB0 (list ports: "
              ".venv/bin/pyserial-ports)", file=sys.stderr)
        return 2
    if not args.firmware:
        print(f"make flash: no FIRMWARE given; download the {defn['image']} image "
              "(BOARD-VARIANT-YYYYMMDD-vX.Y.Z.bin) and pass FIRMWARE=path", file=sys.stderr)
        return 2
    image = Path(args.firmware)
    if not image.is_file():
        msg = f"make flash: FIRMWARE {args.firmware} is not a file"
        if not args.dry_run:
            print(msg, file=sys.stderr)
            return 2
        print(f"{msg} (dry run goes on)", file=sys.stderr)
    if not image.name.startswith(defn["image"] + "-"):
        print(f"make flash: warning: {image.name} does not look like a {defn['image']} image",
              file=sys.stderr)
    for cmd in cmds:
        shown = " ".join(["esptool", *cmd[1:]])
        if args.dry_run:
            print(shown)
            continue
        print(f"+ {shown}", flush=True)
        if subprocess.run(cmd).returncode != 0:
            print("make flash: esptool failed; if it stopped midway, try again at the default "
                  "baud rate", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
