"""A MicroPython unix-port process behind a real pseudo-terminal, as a board's USB serial.

The interpreter sits on one pty; a bridge thread copies bytes between it and a
second pty whose slave path (`port`) is what tools open, as they would open
/dev/ttyUSB0. Tools then speak to it through pyserial exactly as to hardware.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import threading
import tty
from pathlib import Path
from types import TracebackType

from host_sim.device import mp


class PtyDevice:
    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self._m_dev, s_dev = pty.openpty()
        self._m_host, self._s_host = pty.openpty()
        tty.setraw(s_dev)
        tty.setraw(self._s_host)
        self.port = os.ttyname(self._s_host)
        self._proc = subprocess.Popen(
            args, stdin=s_dev, stdout=s_dev, stderr=s_dev, cwd=cwd, env=env, close_fds=True
        )
        os.close(s_dev)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._bridge, daemon=True)
        self._thread.start()

    @classmethod
    def repl(cls, cwd: Path) -> PtyDevice:
        """An interactive MicroPython REPL (raw REPL included), working in cwd."""
        return cls([mp.micropython()], cwd=cwd, env=mp.env())

    def _bridge(self) -> None:
        fds = [self._m_dev, self._m_host]
        while not self._stop.is_set():
            ready, _, _ = select.select(fds, [], [], 0.05)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return
                os.write(self._m_host if fd == self._m_dev else self._m_dev, data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        for fd in (self._m_dev, self._m_host, self._s_host):
            os.close(fd)

    def __enter__(self) -> PtyDevice:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
