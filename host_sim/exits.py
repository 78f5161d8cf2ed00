"""Exit codes, the same for every emtag command (README, "Exit codes"), and the one
way a command stops early: CliError, printed as one line naming the thing and the fix."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

OK = 0
FAILED = 1  # a check failed: a scenario, a capture, a device's self-test, a refusal
BAD_INPUT = 2  # bad input or usage: a missing or malformed file, a bad key, a bad argument
ENVIRONMENT = 3  # the machine: a port in use, a device missing or gone, a tool not built
INTERRUPTED = 130  # Ctrl-C, or SIGTERM
KEY_BYTES = 32  # a device's HMAC key (docs/frames.md)


class CliError(Exception):
    def __init__(self, message: str, code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def hex_bytes(text: str, what: str, sizes: tuple[int, int]) -> bytes:
    """text as bytes, or CliError naming what and the length wanted (lo to hi bytes)."""
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise CliError(f"{what} is not hex: {len(text)} characters, expected 0-9 and a-f") from None
    lo, hi = sizes
    if not lo <= len(raw) <= hi:
        want = f"{lo} bytes ({2 * lo} hex digits)" if lo == hi else f"{lo} to {hi} bytes"
        raise CliError(f"{what} is {len(raw)} byte{'' if len(raw) == 1 else 's'}: expected {want}")
    return raw


def main(prog: str, run: Callable[[], int]) -> int:
    """run() with every expected way to stop turned into one line and its exit code:
    CliError, Ctrl-C and SIGTERM (130; with-blocks unwind, so temporary folders go), and
    a reader that went away (`| head`)."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return run()
    except CliError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # the reader stopped reading: say nothing more, and let no flush at exit complain
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
