"""The simulator's side of the host board's lockstep protocol (boards/host_board.py).

One `micropython` process runs the unchanged firmware. Virtual time moves only
here: the firmware says how long it would sleep (W), the simulator delivers
what happens meanwhile and then the new time (T).
"""

from __future__ import annotations

import os
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from host_sim.device import device_image, mp, romfs

POWER_ON, WATCHDOG, SOFT = 1, 3, 5  # reset causes, as machine.PWRON_RESET, WDT_RESET and SOFT_RESET
_KINDS = frozenset(b"WXBNGMSCLPA")  # what the host board sends (boards/host_board.py)


class FirmwareExited(RuntimeError):
    """The firmware process ended before the simulator asked it to."""


@dataclass
class Outputs:
    link: bytearray = field(default_factory=bytearray)
    modem: bytearray = field(default_factory=bytearray)
    logs: list[str] = field(default_factory=list)
    # each complete line the firmware wrote to its console, with the virtual time it left
    lines: list[tuple[int, str]] = field(default_factory=list)
    _partial: bytearray = field(default_factory=bytearray)

    def console_bytes(self, now_ms: int, data: bytes) -> None:
        self._partial += data
        while (end := self._partial.find(b"\n")) >= 0:
            self.lines.append((now_ms, self._partial[:end].decode(errors="replace")))
            del self._partial[: end + 1]


class Firmware:
    """A firmware process on the host board, driven in virtual time."""

    RUN_AHEAD = True  # honour quiet_until; off, every turn is a round trip (the same run, slower)
    # A turn takes milliseconds: this long waiting on one word from the firmware (real
    # time), it is stuck (a loop that never waits, or bytes that broke the protocol's
    # framing), and the process is stopped with that said rather than waited on for ever
    STALL_S = 60.0

    def __init__(self, start_ms: int, device: Path, heap: str | None = None,
                 on_power: Callable[[int, str, bool], None] | None = None, reset_cause: int = POWER_ON,
                 sensors: dict[str, int] | None = None) -> None:
        """Boot the firmware laid out in device (host_sim.device.device_image) at start_ms (UTC).
        on_power hears the parts it switches from its very first turn; reset_cause is what
        the board says woke it (machine.reset_cause()'s numbers); sensors, what an alcohol
        tag's sensors read at power-on (boards/host_alcohol.py)."""
        # Nothing of the caller's environment, and no address randomisation: the
        # collector scans the C stack conservatively, so the same run must find the
        # same stack to give the same heap figures, wherever it is started from. The
        # image's files go by names relative to it (its folder is the working one): a
        # path the firmware keeps would weigh in its heap as long as the folder's name.
        env = {"EMTAG_SIM": "1", "EMTAG_STORAGE": ".", "EMTAG_RESET": str(reset_cause)}
        if sensors:
            env["EMTAG_SENSORS"] = ",".join(f"{k}={v}" for k, v in sensors.items())
        args = [*(["-X", f"heapsize={heap}"] if heap else []), "main.py"]
        if (device / device_image.ROM_IMAGE).exists():
            env[romfs.ENV] = device_image.ROM_IMAGE
        cmd = [*mp.FIXED_LAYOUT, mp.micropython(), *args]
        self._proc = subprocess.Popen(
            cmd,
            cwd=device,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
        self.out = Outputs()
        assert self._proc.stdout is not None
        self._fd = self._proc.stdout.fileno()
        self._rx = bytearray()  # read from the firmware, not yet parsed
        self._reading_since = 0.0  # when the simulator began waiting on the firmware (0: not waiting)
        self._stalled = False
        threading.Thread(target=self._watch, daemon=True).start()
        self.on_link: Callable[[int, bytes], None] | None = None  # link bytes as they leave
        self.on_modem: Callable[[int, bytes], None] | None = None  # modem UART bytes as they leave
        self.on_console: Callable[[int, bytes], None] | None = None  # console bytes as they leave
        self.on_advert: Callable[[int, bytes], None] | None = None  # BLE adverts as they go on air
        self.on_power = on_power  # a part switched on or off
        # the driver's promise: nothing is delivered before this time (ms, UTC) unless the
        # firmware writes to a UART or switches a part; until then the firmware runs its own
        # deadlines without a round trip (H, boards/host_board.py)
        self.quiet_until: Callable[[], int] | None = None
        self.wakes = 0  # turns of the firmware's loop: the MCU awake
        self.waits_ms = {"awake": 0, "light_sleep": 0}  # the board's own account of its waits
        self._waiting: tuple[int, str] | None = None  # since when, and how, the board waits now
        self.round_trips = 0  # turns the simulator started (the rest the firmware ran ahead)
        self.now_ms = self.boot_ms = start_ms  # the board counts from power-on
        self.wake_ms: int | None = None
        self.cut = False  # the power went mid-program (cut_during_program): the process stands dead
        self.reset = 0  # the chip reset itself (WATCHDOG after a hang, SOFT asked for): the process stands dead
        self._pending: list[bytes] = []
        self._wake([])

    # delivering: what is queued here arrives at the next advance() -------------
    def _message(self, kind: bytes, payload: bytes) -> None:
        self._pending.append(kind + struct.pack(">H", len(payload)) + payload)

    def gnss(self, data: bytes) -> None:
        for i in range(0, len(data), 0xFFFF):
            self._message(b"G", data[i : i + 0xFFFF])

    def link(self, data: bytes) -> None:
        self._message(b"S", data)

    def modem(self, data: bytes) -> None:
        self._message(b"M", data)

    def console(self, data: bytes) -> None:
        self._message(b"C", data)

    def radio(self, rssi_dbm: int, advert: bytes) -> None:
        """A BLE advert heard at this signal strength."""
        self._message(b"R", struct.pack(">b", max(-128, min(127, rssi_dbm))) + advert)

    def set_input(self, name: str, value: int) -> None:
        self._message(b"I", f"{name}={value}".encode())

    def cut_during_program(self, nbytes: int) -> None:
        """The power goes during the next flash program, nbytes into it: the board says
        so (X) and stops dead; kill() it then."""
        self._message(b"K", struct.pack(">H", nbytes))

    def hang(self) -> None:
        """A fault: the firmware's loop blocks from its next turn; only the board's
        watchdog ends it (reset WATCHDOG), as on the chip."""
        self._message(b"Z", b"")

    # time ---------------------------------------------------------------------
    def advance(self, until_ms: int) -> None:
        """Run the firmware's own deadlines before until_ms, then deliver what is queued at until_ms.
        With quiet_until, the firmware may run on past until_ms (now_ms says how far)."""
        self.run_until(until_ms)
        if self.dead:
            return
        self.now_ms = until_ms
        if self._pending or self.wake_ms == until_ms:
            self._wake(self._pending)
            self._pending = []

    def run_until(self, until_ms: int) -> None:
        """Run the firmware's own deadlines before until_ms, delivering nothing."""
        while not self.dead and self.wake_ms is not None and self.wake_ms < until_ms:
            self.now_ms = self.wake_ms
            self._wake([])

    @property
    def dead(self) -> bool:
        """The process stands dead: the power cut mid-program, or the chip reset itself."""
        return self.cut or self.reset != 0

    def settle(self, until_ms: int) -> None:
        """Account the wait in progress up to until_ms (the run ends, or the power goes)."""
        if self._waiting is not None:
            since, how = self._waiting
            self.waits_ms[how] += max(0, until_ms - since)
            self._waiting = None

    def _wake(self, messages: list[bytes]) -> None:
        if self.dead:
            return
        self.settle(self.now_ms)
        self.wakes += 1
        self.round_trips += 1
        quiet = self.quiet_until() if self.quiet_until and self.RUN_AHEAD else 0
        if quiet > self.now_ms:
            messages = [*messages, b"H" + struct.pack(">HI", 4, quiet - self.boot_ms)]
        self._write([*messages, b"T" + struct.pack(">HI", 4, self.now_ms - self.boot_ms)])
        self._read_until_wait()

    def _write(self, messages: list[bytes]) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(b"".join(messages))
        except BrokenPipeError:
            self._died()

    def _read_message(self) -> tuple[bytes, bytes]:
        # (kind, payload) of the next message, read in as large pieces as have come:
        # one system call for a whole turn's messages, not two for each
        buf = self._rx
        while True:
            if buf and buf[0] not in _KINDS:
                self._garbled()
            if len(buf) >= 3:
                end = 3 + int.from_bytes(buf[1:3], "big")
                if len(buf) >= end:
                    kind, payload = bytes(buf[:1]), bytes(buf[3:end])
                    del buf[:end]
                    return kind, payload
            self._reading_since = time.monotonic()
            chunk = os.read(self._fd, 65536)
            self._reading_since = 0.0
            if not chunk:
                self._died()
            buf += chunk

    def _read_until_wait(self) -> None:
        while True:
            kind, payload = self._read_message()
            if kind == b"W":
                ms, light = struct.unpack(">IB", payload)
                self.wake_ms = self.now_ms + ms
                self._waiting = (self.now_ms, "light_sleep" if light else "awake")
                return
            if kind == b"X":
                self.cut, self.wake_ms = True, None
                return
            if kind == b"B":
                self.reset, self.wake_ms = payload[0] if payload else WATCHDOG, None
                return
            if kind == b"N":  # turns the firmware ran on its own before a quiet time
                up_ms, turns, awake_ms, light_ms = struct.unpack(">IIII", payload)
                self.now_ms = self.boot_ms + up_ms
                self.wakes += turns
                self.waits_ms["awake"] += awake_ms
                self.waits_ms["light_sleep"] += light_ms
            if kind == b"C":
                self.out.console_bytes(self.now_ms, payload)
                if self.on_console:
                    self.on_console(self.now_ms, payload)
            elif kind == b"S":
                self.out.link += payload
                if self.on_link:
                    self.on_link(self.now_ms, payload)
            elif kind == b"M":
                self.out.modem += payload
                if self.on_modem:
                    self.on_modem(self.now_ms, payload)
            elif kind == b"A":
                if self.on_advert:
                    self.on_advert(self.now_ms, payload)
            elif kind == b"L":
                self.out.logs.append(payload.decode(errors="replace"))
            elif kind == b"P":
                part, _, level = payload.decode().partition("=")
                if self.on_power:
                    self.on_power(self.now_ms, part, level == "1")

    def _garbled(self) -> None:
        # bytes outside the protocol (a print(), an uncaught error's text): read as
        # messages they would leave both sides waiting for each other
        self.kill()
        raise FirmwareExited("the firmware wrote to stdout outside the lockstep protocol (a print()?): "
                             f"{bytes(self._rx[:80])!r}")

    def _watch(self) -> None:
        while self._proc.poll() is None:
            since = self._reading_since
            if since and time.monotonic() - since > self.STALL_S:
                self._stalled = True
                self._proc.kill()  # the read waiting on it ends, and _died says why
                return
            time.sleep(min(1.0, self.STALL_S / 4))

    def _died(self) -> None:
        code = self._proc.wait()
        if self._stalled:
            raise FirmwareExited(f"no word from the firmware for {self.STALL_S:.0f} s: stuck in a loop that never "
                                 f"waits, or its stdout broke the protocol; what it sent last: "
                                 f"{bytes(self._rx[-80:])!r}")
        err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
        raise FirmwareExited(f"firmware exited with status {code}:\n{err}")

    def stop(self) -> None:
        """Ask the firmware to finish (it sends its last words) and wait for it."""
        self._write([*self._pending, b"Q\0\0"])
        self._pending = []
        assert self._proc.stdout is not None and self._proc.stdin is not None
        self._proc.stdin.close()
        rest = bytes(self._rx) + self._proc.stdout.read()
        self._proc.wait(timeout=30)
        # what it sent while shutting down
        while len(rest) >= 3:
            n = int.from_bytes(rest[1:3], "big")
            kind, payload, rest = rest[:1], rest[3 : 3 + n], rest[3 + n :]
            if kind == b"C":
                self.out.console_bytes(self.now_ms, payload)
        if self._proc.returncode != 0:
            err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
            raise FirmwareExited(f"firmware exited with status {self._proc.returncode}:\n{err}")

    def kill(self) -> None:
        """Cut the power: the process dies wherever it is, writing nothing more."""
        self._proc.kill()
        self._proc.wait()

    def __enter__(self) -> Firmware:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


