"""tagctl: talk to a tag or home unit over its serial port.

Commands:
  watch    read the device's reports for a while and show them: each fix
           (time, position, validity) and the GNSS counters
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import serial

from host_sim.replay import parse_console


def cmd_watch(args: argparse.Namespace, port: serial.Serial) -> int:
    deadline = time.monotonic() + args.seconds
    text = bytearray()
    while time.monotonic() < deadline:
        text += port.read(4096)
    fixes, counters = parse_console(text.decode(errors="replace"))
    if args.json:
        print(json.dumps({"fixes": [f.__dict__ for f in fixes], "counters": counters}))
        return 0
    for f in fixes:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(f.utc)) if f.utc >= 0 else "no time"
        where = f"{f.lat_e7 / 1e7:.7f} {f.lon_e7 / 1e7:.7f}" if f.has_pos else "no position"
        print(f"fix  {stamp}  {where}  {'valid' if f.valid else 'not valid'}")
    if counters:
        print("gnss " + "  ".join(f"{k}={v}" for k, v in counters.items()))
    if not fixes and not counters:
        print(f"no reports from {args.port} in {args.seconds:g} s", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tagctl", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", required=True, help="the device's serial port, e.g. /dev/ttyUSB0")
    ap.add_argument("--baud", type=int, default=115200)
    sub = ap.add_subparsers(dest="command", required=True)
    w = sub.add_parser("watch", help="show the device's reports for a while")
    w.add_argument("--seconds", type=float, default=5.0, help="how long to listen (default 5)")
    w.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    w.set_defaults(func=cmd_watch)
    args = ap.parse_args(argv)
    try:
        port = serial.Serial(args.port, args.baud, timeout=0.1)
    except serial.SerialException as e:
        print(f"tagctl: cannot open {args.port}: {e}", file=sys.stderr)
        return 2
    with port:
        result: int = args.func(args, port)
    return result


if __name__ == "__main__":
    sys.exit(main())
