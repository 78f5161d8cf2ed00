"""A cellular modem for the simulated tag: answers its AT commands as a SIM7000,
SIM800 or A7670 does (../shared/reference/hardware.md section 4) and carries its
TCP session to the centre over real TCP on loopback. Faults, in virtual time:
coverage gaps (not registered, sockets closed), registration denied, TCP dropped
in the middle of a frame, SEND FAIL, slow replies and garbage on the line.

Network time: once the tag has asked for it (AT+CLTS=1 on SIMCom, AT+CTZU=1 on the
A7670) and the modem has registered on a network that sends it (NITZ), AT+CCLK?
gives London time with its offset in quarter hours, a second or two off as NITZ
is; before that the modem's own default date, 1980-01-06 on SIMCom and 1970-01-01
on the A7670 here (defaults differ by firmware: UNVERIFIED on hardware).

Sleep: told AT+CSCLK=1, the modem sleeps while DTR is high; what the tag sends it
then is lost, as it is for the 50 ms after DTR goes low again (the SIMCom hardware
designs' wake time). Data from the network still comes (its announcement on the
UART; a board with the ring line wakes for it). The time it spends off, asleep and
idle is kept for the energy model (states)."""

from __future__ import annotations

import random
import re
import select
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from host_sim import wire
from host_sim.run.energy import StateClock

REPLY_MS = 40
REPLY_TIMEOUT_S = 5.0
LONDON = ZoneInfo("Europe/London")
DEFAULT_CLOCK = {True: "80/01/06,00:00:00+00", False: "70/01/01,00:00:00+00"}  # by simcom
DTR_WAKE_MS = 50


@dataclass
class Faults:
    gaps_ms: list[tuple[int, int]] = field(default_factory=list)  # no coverage
    denied: bool = False  # the network refuses registration
    drop_rate: float = 0.0  # chance a send is cut off half way and the socket closed
    send_fail_rate: float = 0.0
    slow_ms: int = 0  # added to every reply
    garbage_rate: float = 0.0  # chance a reply is preceded by noise
    seed: int = 1
    nitz: bool = True  # the network sends its time on registration


class ModemEmulator:
    def __init__(self, dialect: str, centre_port: int, faults: Faults | None = None, start_ms: int = 0) -> None:
        if dialect not in ("sim7000", "sim800", "a7670"):
            raise ValueError(f"modem dialect {dialect!r}: expected sim7000, sim800 or a7670")
        self.dialect = dialect
        self.simcom = dialect != "a7670"
        self.port = centre_port
        self.f = faults or Faults()
        self.rnd = random.Random(self.f.seed)
        self.sock: socket.socket | None = None
        self.attached = False
        self.net_time = False  # the tag asked for the network's time
        self.nitz_error_ms: int | None = None  # the network's time, this far off, once it came
        self._nitz_rnd = random.Random(self.f.seed ^ 0x4E49545A)  # its own stream: faults' stay as they were
        self.pending: list[tuple[int, bytes]] = []
        self.rx = bytearray()  # from the centre, not yet fetched by the tag
        self._cmd = bytearray()
        self._data_left = 0
        self._data = bytearray()
        self._unslip_out = wire.Unslip()
        self._unslip_in = wire.Unslip()
        self.log: list[str] = []
        self.stats = {"sessions": 0, "sends": 0, "sent_bytes": 0, "dropped": 0, "send_fail": 0, "garbage": 0,
                      "unheard": 0}
        self.states = StateClock(start_ms, "off")
        self._csclk = False  # sleeps on DTR
        self._dtr = False
        self._awake_at = 0  # DTR went low: it hears again from then

    # power and sleep ---------------------------------------------------------
    def power(self, now_ms: int, on: bool) -> None:
        if not on:
            self.power_off()
        self._csclk = False  # not saved: told again after each power-on
        self.states.enter(now_ms, "idle" if on else "off")

    def dtr(self, now_ms: int, high: bool) -> None:
        self._dtr = high
        if not high:
            self._awake_at = now_ms + DTR_WAKE_MS
        if self.states.state != "off":
            self.states.enter(now_ms, "sleep" if high and self._csclk else "idle")

    def _deaf(self, now_ms: int) -> bool:
        return self._csclk and (self._dtr or now_ms < self._awake_at)

    # the tag's side --------------------------------------------------------
    def from_tag(self, now_ms: int, data: bytes) -> None:
        if self._deaf(now_ms):
            self.stats["unheard"] += len(data)
            return
        for b in data:
            if self._data_left:
                self._data.append(b)
                self._data_left -= 1
                if not self._data_left:
                    self._send(now_ms, bytes(self._data))
                continue
            if b == 0x0D:
                cmd = self._cmd.decode(errors="replace").strip()
                self._cmd.clear()
                if cmd:
                    self.log.append(cmd)
                    self._command(now_ms, cmd)
            elif b != 0x0A:
                self._cmd.append(b)

    def _reply(self, now_ms: int, *lines: str, delay: int = REPLY_MS, raw: bytes = b"") -> None:
        noise = b""
        if self.rnd.random() < self.f.garbage_rate:
            noise = bytes(self.rnd.randrange(256) for _ in range(self.rnd.randint(1, 12)))
            self.stats["garbage"] += 1
        text = noise + b"".join(b"\r\n" + ln.encode() + b"\r\n" for ln in lines) + raw
        self.pending.append((now_ms + delay + self.f.slow_ms, text))

    def covered(self, now_ms: int) -> bool:
        return not any(a <= now_ms < b for a, b in self.f.gaps_ms)

    def _command(self, now: int, cmd: str) -> None:
        up = cmd.upper()
        ok = "OK"
        if up == "AT+CSCLK=1":
            self._csclk = True
            self._reply(now, ok)
        elif up == ("AT+CLTS=1" if self.simcom else "AT+CTZU=1"):
            self.net_time = True
            self._reply(now, ok)
        elif up == "AT+CCLK?":
            self._reply(now, f'+CCLK: "{self._clock(now)}"', ok)
        elif up in ("AT", "ATE0", "AT+CMEE=1", "AT+CIPMUX=0", "AT+CIPRXGET=1") or up.startswith(
                ("AT+CSTT=", "AT+CGDCONT=")):
            self._reply(now, ok)
        elif up == "AT+CSQ":
            self._reply(now, "+CSQ: 20,0" if self.covered(now) else "+CSQ: 99,99", ok)
        elif up in ("AT+CEREG?", "AT+CREG?"):
            stat = 3 if self.f.denied else 1 if self.covered(now) else 2
            if stat == 1 and self.f.nitz and self.net_time and self.nitz_error_ms is None:
                self.nitz_error_ms = self._nitz_rnd.randint(-2000, 2000)
            self._reply(now, f"+{up[3:-1]}: 0,{stat}", ok)
        elif up in ("AT+CIICR", "AT+CGATT=1"):
            if self.covered(now) and not self.f.denied:
                self.attached = True
                self._reply(now, ok, delay=800)
            else:
                self._reply(now, "+CME ERROR: 30", delay=800)  # no network service
        elif up == "AT+CIFSR;E0":
            self._reply(now, "10.64.0.2", ok)
        elif up == "AT+CIPSHUT":
            self._close()
            self._reply(now, "SHUT OK")
        elif up == "AT+NETOPEN":
            self._reply(now, ok, "+NETOPEN: 0" if self.attached and self.covered(now) else "+NETOPEN: 1",
                        delay=500)
        elif up.startswith(("AT+CIPSTART=", "AT+CIPOPEN=")):
            self._open(now)
        elif m := re.fullmatch(r"AT\+CIPSEND=(?:0,)?(\d+)", up):
            if self.sock is None:
                self._reply(now, "ERROR")
                return
            self._data_left = int(m[1])
            self._data.clear()
            self.pending.append((now + REPLY_MS + self.f.slow_ms, b"\r\n> "))
        elif re.fullmatch(r"AT\+CIPRXGET=2,(?:0,)?(\d+)", up) and self.sock is None:
            self._reply(now, "ERROR")  # no connection to read from (its CLOSED may have gone unheard)
        elif m := re.fullmatch(r"AT\+CIPRXGET=2,(?:0,)?(\d+)", up):
            n = min(int(m[1]), len(self.rx))
            chunk, self.rx = bytes(self.rx[:n]), self.rx[n:]
            head = f"+CIPRXGET: 2,{n},{len(self.rx)}" if self.simcom else f"+CIPRXGET: 2,0,{n},{len(self.rx)}"
            self._reply(now, head, raw=chunk + b"\r\nOK\r\n")
        elif up.startswith(("AT+CIPCLOSE", "AT+NETCLOSE")):
            self._close()
            self._reply(now, "CLOSE OK" if self.simcom else "+CIPCLOSE: 0,0", ok)
        else:
            self._reply(now, "ERROR")

    def _clock(self, now: int) -> str:
        if self.nitz_error_ms is None:
            return DEFAULT_CLOCK[self.simcom]
        local = datetime.fromtimestamp((now + self.nitz_error_ms) / 1000, UTC).astimezone(LONDON)
        offset = local.utcoffset()
        quarters = int(offset.total_seconds()) // 900 if offset else 0
        return f"{local:%y/%m/%d,%H:%M:%S}{quarters:+03d}"

    def _open(self, now: int) -> None:
        if not (self.attached and self.covered(now)):
            self._reply(now, "OK", "CONNECT FAIL" if self.simcom else "+CIPOPEN: 0,1", delay=2000)
            return
        self._close()
        self.sock = socket.create_connection(("127.0.0.1", self.port))
        self.stats["sessions"] += 1
        self._reply(now, "OK", "CONNECT OK" if self.simcom else "+CIPOPEN: 0,0", delay=300)

    def _close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.rx.clear()
        self._unslip_in = wire.Unslip()

    def _closed_urc(self, now: int) -> None:
        self._close()
        self._reply(now, "CLOSED" if self.simcom else "+IPCLOSE: 0,1")

    def _send(self, now: int, data: bytes) -> None:
        assert self.sock is not None
        if not self.covered(now):
            self._reply(now, "SEND FAIL" if self.simcom else "+CIPERROR: 4")
            self._closed_urc(now)
            return
        if self.rnd.random() < self.f.send_fail_rate:
            self.stats["send_fail"] += 1
            self._reply(now, "SEND FAIL" if self.simcom else "+CIPERROR: 4")
            return
        if self.rnd.random() < self.f.drop_rate:  # the connection dies with half the frame sent
            self.stats["dropped"] += 1
            self.sock.sendall(data[: len(data) // 2])
            self._closed_urc(now)
            return
        frames = sum(1 for _ in self._unslip_out.feed(data))
        self.sock.sendall(data)
        self.stats["sends"] += 1
        self.stats["sent_bytes"] += len(data)
        self._reply(now, "SEND OK" if self.simcom else "OK", *(() if self.simcom else (f"+CIPSEND: 0,{len(data)},"
                                                                                        f"{len(data)}",)))
        self._await_replies(now, frames)

    def _await_replies(self, now: int, frames: int) -> None:
        # The centre answers every authentic frame at once; wait for it in real time,
        # then tell the tag data is waiting, a round trip later in virtual time.
        got, deadline = 0, time.monotonic() + REPLY_TIMEOUT_S
        while got < frames and self.sock is not None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if not ready:
                continue
            chunk = self.sock.recv(65536)
            if not chunk:
                self._closed_urc(now)
                return
            self.rx += chunk
            got += sum(1 for _ in self._unslip_in.feed(chunk))
        while got and self.sock is not None and select.select([self.sock], [], [], 0)[0]:
            chunk = self.sock.recv(65536)  # an order may follow the ack
            if not chunk:
                break
            self.rx += chunk
            got += sum(1 for _ in self._unslip_in.feed(chunk))
        if self.rx:
            self._reply(now, "+CIPRXGET: 1" if self.simcom else "+CIPRXGET: 1,0", delay=300)

    def power_off(self) -> None:
        """The modem loses power: its session, its attach and anything half-received go."""
        self._close()
        self.attached = False
        self.net_time = False  # not saved with AT&W: asked again after each power-on
        self.nitz_error_ms = None
        self._data_left = 0
        self._data.clear()
        self._cmd.clear()
        self.pending.clear()

    def tick(self, now_ms: int) -> None:
        """Coverage lost with a session open: the network drops it."""
        if self.sock is not None and not self.covered(now_ms):
            self._closed_urc(now_ms)

    def due(self, before_ms: int) -> list[tuple[int, bytes]]:
        if not self.pending:
            return []
        now = [p for p in self.pending if p[0] <= before_ms]
        self.pending = [p for p in self.pending if p[0] > before_ms]
        return sorted(now, key=lambda p: p[0])

    def close(self) -> None:
        self._close()
