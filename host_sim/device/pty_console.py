"""The simulated tag's console on a real pseudo-terminal, paced to the wall clock,
so that tagctl (or a person with a terminal) talks to it as to a tag on USB."""

from __future__ import annotations

import os
import pty
import select
import time
import tty


class PtyConsole:
    def __init__(self, speed: float = 1.0) -> None:
        self.master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        tty.setraw(self.master)
        self.port = os.ttyname(self._slave)
        os.set_blocking(self.master, False)  # no reader: the bytes are lost, as on a real UART
        self.lost = 0
        self.speed = speed
        self._t0: float | None = None

    def from_tag(self, now_ms: int, data: bytes) -> None:
        try:
            os.write(self.master, data)
        except BlockingIOError:
            self.lost += len(data)

    def poll(self) -> bytes:
        got = b""
        while select.select([self.master], [], [], 0)[0]:
            try:
                chunk = os.read(self.master, 4096)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            got += chunk
        return got

    def pace(self, virtual_ms: int) -> None:
        """Hold the simulation back so that virtual time runs at speed x real time."""
        if self._t0 is None:
            self._t0 = time.monotonic() - virtual_ms / 1000 / self.speed
        ahead = self._t0 + virtual_ms / 1000 / self.speed - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)

    def close(self) -> None:
        os.close(self.master)
        os.close(self._slave)
