"""tagctl: a field technician's tool for a tag on its USB serial console.

Commands:
  diag       everything a fitting needs, as a table: board, GNSS, modem, queue,
             strap, battery, pairing
  status     the same in one line (or --json)
  log        the tag's fixes and counters as they come, for --seconds; whether
             each has a position, not where (--positions shows it)
  selftest   the tag's own checks: storage, GNSS, strap, case, battery, link
  fit        after fitting or re-fitting: clear the tamper latch (needs --token)
  pair PORT  pair the device on --port with the one on PORT: a tag with its home
             monitoring unit, or after either is replaced. A new pair key and
             beacon ids are generated here and given to both (needs --token, and
             --other-token if the second device's differs); both restart to use
             them, and each is asked for its key id to check. Nothing is typed
             into a configuration file, and the key is never shown. The centre
             records the pairing when both devices report it (tagsim centre
             pairings).

A home monitoring unit's console answers the same commands (gnss=none, no strap).
Every answer's keys, and their JSON types with --json: docs/technician.md.

Exit status: 0 done, 1 a device refused or a check failed, 2 bad usage (a token
that is not 8 to 32 bytes of hex, two tags to pair), 3 no device or no answer, 130
interrupted; each error is one line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets
import sys
import time
from typing import Any

import serial

from host_sim import exits, keys
from host_sim.exits import CliError
from host_sim.run.replay import parse_console

PROTO = 1
RESEND_S = 0.25
RESTART_S = 30.0  # a device restarting after a pairing answers within this


class TagError(RuntimeError):
    """No answer, or not from an emtag tag."""


def request(port: serial.Serial, command: str, *args: str, timeout: float = 5.0, resend: bool = True) -> dict[str, str]:
    """Ask the tag; its answer as key=value pairs. TagError if it does not answer;
    ValueError with its reason if it refuses. Without resend the line goes once (a
    command that changes the device, sent once awake())."""
    port.reset_input_buffer()
    asking = f"EMTAG?{PROTO} {' '.join([command, *args])}\n".encode()
    deadline = time.monotonic() + timeout
    buf = b""
    prefix = f"EMTAG!{PROTO} {command} ".encode()
    again = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() >= again:
            # A tag in light sleep loses what reaches its console while it wakes
            # (docs/power.md): the line goes again until the tag answers it.
            port.write(asking)
            again = time.monotonic() + RESEND_S if resend else deadline
        buf += port.read(256)
        for line in buf.split(b"\n")[:-1]:  # whole lines only
            if line.startswith(prefix):
                words = line[len(prefix):].decode(errors="replace").split()
                if words[:1] == ["ok"]:
                    return dict(w.split("=", 1) for w in words[1:] if "=" in w) | (
                        {"result": words[1]} if len(words) > 1 and "=" not in words[1] else {})
                raise ValueError(" ".join(words[1:]) or "refused")
            if line.startswith(b"EMTAG!") and b" - err " in line:
                raise TagError(line.decode(errors="replace"))
    raise TagError(f"no answer to {command!r} in {timeout:g} s: is this an emtag tag, and its console port?")


# the answers' numbers and flags (docs/technician.md); every other value is a word, "none" is null
NUMBERS = {"protocol", "naps", "last_valid_age_s", "sentences", "checksum_errors", "fixes", "rssi", "resets",
           "errors", "queued", "acked_seq", "next_seq", "sent", "rejected", "mv", "percent"}
FLAGS = {"registered", "low", "critical"}


def typed(answer: dict[str, str]) -> dict[str, Any]:
    """An answer as JSON would have it: numbers as numbers, yes/no as true/false, none as null."""
    def value(key: str, text: str) -> Any:
        if text == "none":
            return None
        if key in FLAGS:
            return text == "yes"
        return int(text) if key in NUMBERS else text
    return {k: value(k, v) for k, v in answer.items()}


def _show(args: argparse.Namespace, answer: dict[str, str]) -> None:
    if args.json:
        print(json.dumps(typed(answer)))
    else:
        width = max(len(k) for k in answer) if answer else 0
        for k, v in answer.items():
            print(f"{k:<{width}}  {v}")


def cmd_diag(args: argparse.Namespace, port: serial.Serial) -> int:
    _show(args, request(port, "status"))
    return 0


def cmd_status(args: argparse.Namespace, port: serial.Serial) -> int:
    answer = request(port, "status")
    print(json.dumps(typed(answer)) if args.json else " ".join(f"{k}={v}" for k, v in answer.items()))
    return 0


def cmd_selftest(args: argparse.Namespace, port: serial.Serial) -> int:
    answer = request(port, "selftest", timeout=10)
    _show(args, answer)
    return 0 if answer.get("result") == "pass" else 1


def awake(port: serial.Serial) -> dict[str, str]:
    """The device's board answer, asked until it comes: a sleeping device is then awake for
    the technician's session, and a command that changes it can go once."""
    return request(port, "board")


def cmd_fit(args: argparse.Namespace, port: serial.Serial) -> int:
    awake(port)
    _show(args, request(port, "fit", args.token, resend=False))
    return 0


def key_id(key: bytes) -> str:
    """What a device shows of its pair key: the first 4 bytes of its SHA-256."""
    return hashlib.sha256(key).hexdigest()[:8]


def _beacon_ids() -> tuple[str, str]:
    while True:
        tag, unit = secrets.token_hex(4), secrets.token_hex(4)
        if tag != unit and "00000000" not in (tag, unit):
            return tag, unit


def cmd_pair(args: argparse.Namespace, port: serial.Serial) -> int:
    try:
        other = serial.Serial(args.other, args.baud, timeout=0.1)
    except serial.SerialException as e:
        raise TagError(f"cannot open {args.other}: {e}") from None
    with other:
        ports = {args.port: (port, args.token), args.other: (other, args.other_token or args.token)}
        boards = {name: awake(p) for name, (p, _) in ports.items()}
        roles = sorted(b.get("role", "?") for b in boards.values())
        if roles != ["hmu", "tag"]:
            raise CliError(f"pair needs a tag and a home unit; {args.port} and {args.other} are "
                             f"{' and '.join(roles)}")
        tag = next(n for n, b in boards.items() if b["role"] == "tag")
        unit = next(n for n, b in boards.items() if b["role"] == "hmu")
        key = secrets.token_bytes(32)
        tag_beacon, unit_beacon = _beacon_ids()
        done: list[str] = []
        for name, peer in ((unit, tag), (tag, unit)):  # the unit first: it forgets its old tag's counters
            p, token = ports[name]
            try:
                request(p, "pair", boards[peer]["device"], token, key.hex(), tag_beacon, unit_beacon, resend=False)
            except ValueError as e:
                also = f"; {done[0]} was paired with a key this one lacks: pair again" if done else ""
                raise ValueError(f"{boards[name]['device']} ({name}): {e}{also}") from None
            done.append(f"{boards[name]['device']} ({name})")
        for name in (tag, unit):  # each restarts; asked until it answers from its new boot
            got = request(ports[name][0], "pairing", timeout=RESTART_S)
            if got.get("key_id") != key_id(key):
                raise ValueError(f"{boards[name]['device']} ({name}) reports key id {got.get('key_id')}, "
                                 f"not {key_id(key)}: pair again")
    _show(args, {"tag": boards[tag]["device"], "unit": boards[unit]["device"], "key_id": key_id(key),
                 "tag_beacon": tag_beacon, "unit_beacon": unit_beacon,
                 "centre": "records it when both report (tagsim centre pairings)"})
    return 0


def cmd_log(args: argparse.Namespace, port: serial.Serial) -> int:
    deadline = time.monotonic() + args.seconds
    text = bytearray()
    while time.monotonic() < deadline:
        text += port.read(4096)
    whole = text[:text.rfind(b"\n") + 1]  # the window ends mid-line as often as not
    fixes, counters = parse_console(whole.decode(errors="replace"))
    # a fix's place is the wearer's: shown only when asked for (docs/technician.md)
    rows = [{"utc": f.utc, "valid": f.valid, "has_position": f.has_pos,
             **({"lat": f.lat_e7 / 1e7, "lon": f.lon_e7 / 1e7} if args.positions and f.has_pos else {})}
            for f in fixes]
    if args.json:
        print(json.dumps({"fixes": rows, "counters": counters}))
        return 0
    for f in rows:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(f["utc"])) if f["utc"] >= 0 else "no time"
        where = (f"{f['lat']:.7f} {f['lon']:.7f}" if "lat" in f else "position" if f["has_position"]
                 else "no position")
        print(f"fix  {stamp}  {where}  {'valid' if f['valid'] else 'not valid'}")
    if counters:
        print("counters " + "  ".join(f"{k}={v}" for k, v in counters.items()))
    if not fixes and not counters:
        print(f"no reports from {args.port} in {args.seconds:g} s", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tagctl", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", required=True, help="the tag's console port, e.g. /dev/ttyUSB0")
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--json", action="store_true", help="answers as JSON")
    # --json also after the command (tagctl --port P status --json)
    either = argparse.ArgumentParser(add_help=False)
    either.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="answers as JSON")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("diag", parents=[either], help="a table of the tag's health").set_defaults(func=cmd_diag)
    sub.add_parser("status", parents=[either], help="the tag's health in one line").set_defaults(func=cmd_status)
    sub.add_parser("selftest", parents=[either], help="the tag's own checks").set_defaults(func=cmd_selftest)
    fit = sub.add_parser("fit", parents=[either], help="clear the tamper latch after a fitting")
    fit.add_argument("--token", required=True, help="the technician token, or @FILE: the device's secrets file")
    fit.set_defaults(func=cmd_fit)
    pair = sub.add_parser("pair", parents=[either], help="pair a tag and its home unit: new keys to both",
                          description="Pair the device on --port with the one on PORT (a tag and its home unit, "
                                      "either way round): a new pair key and beacon ids to both, each restarted "
                                      "and checked.")
    pair.add_argument("other", metavar="PORT", help="the other device's console port, e.g. /dev/ttyUSB1")
    pair.add_argument("--token", required=True, help="the technician token, or @FILE: the device's secrets file")
    pair.add_argument("--other-token", help="the second device's technician token (or @FILE), if not the same")
    pair.set_defaults(func=cmd_pair)
    log = sub.add_parser("log", parents=[either], help="the tag's fixes and counters for a while")
    log.add_argument("--seconds", type=float, default=5.0, help="how long to listen (default 5)")
    log.add_argument("--positions", action="store_true",
                     help="show each fix's latitude and longitude (the wearer's place: only when needed)")
    log.set_defaults(func=cmd_log)
    args = ap.parse_args(argv)
    return exits.main("tagctl", lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    for name in ("token", "other_token"):
        if given := getattr(args, name, None):
            setattr(args, name, keys.token(given, "--" + name.replace("_", "-")))
    try:
        port = serial.Serial(args.port, args.baud, timeout=0.1)
    except serial.SerialException as e:
        raise CliError(f"cannot open {args.port}: {e}", exits.ENVIRONMENT) from None
    try:
        with port:
            return int(args.func(args, port))
    except (TagError, serial.SerialException) as e:  # no answer, or the device gone
        raise CliError(str(e), exits.ENVIRONMENT) from None
    except CliError:
        raise
    except ValueError as e:  # the device's own refusal, with its reason
        raise CliError(f"{args.command}: {e}", exits.FAILED) from None


if __name__ == "__main__":
    sys.exit(main())
