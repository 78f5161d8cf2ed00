"""A fleet's load on a centre, as the fleet puts it: every tag on a TCP connection of
its own, one frame in flight at a time (the firmware's link waits for each frame's
acknowledgement before it sends the next), frames of up to the link's eight events.
The centre is the shipped server (`tagsim centre serve`) in a process of its own, so
the figures are its own: wall time from the first frame sent to the last acknowledged,
and the CPU time its process spent in between."""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from host_sim import wire

LINK_BATCH = 8  # events a frame at most: firmware/link.py _BATCH
START_UTC = 1_796_083_200


def backlog(device: str, key: bytes, frames: int, events: int = LINK_BATCH) -> list[bytes]:
    """A tag's frames after a spell without signal, slipped: full frames of breadcrumbs."""
    dev = wire.device_id(device)
    return [wire.slip(wire.events_frame(key, dev, [
        wire.Event(events * i + k + 1, START_UTC + 60 * (events * i + k), wire.Kind.POSITION, 0,
                   524_862_000 + 90 * i, -18_904_000 + 70 * k, 8, 0, 255, bytes(8)) for k in range(events)],
        sent=START_UTC + 60 * events * (i + 1))) for i in range(frames)]


@dataclass
class Served:
    """A running `tagsim centre serve`: its port and process."""

    port: int
    proc: subprocess.Popen[str]

    def cpu_s(self) -> float:
        """User and system CPU the server's process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def served(db: Path | str, keys: dict[str, bytes], work: Path, core: int | None = None) -> Iterator[Served]:
    """The centre's server on db, on a free port, with keys registered, held to one CPU
    core if given; stopped as an operator stops it (SIGTERM), so it ends its sessions and
    closes the database."""
    keys_file = work / "keys.json"
    keys_file.write_text(json.dumps({d: k.hex() for d, k in keys.items()}))
    proc = subprocess.Popen([sys.executable, "-m", "host_sim.tagsim", "centre", "serve", "--db", str(db), "--port", "0",
                             "--keys", str(keys_file), "--quiet"], stdout=subprocess.PIPE, text=True)
    try:
        if core is not None:  # before it starts a thread: those it starts keep to the core too
            os.sched_setaffinity(proc.pid, {core})
        line = proc.stdout.readline() if proc.stdout else ""
        if "listening on" not in line:
            raise RuntimeError(f"centre serve did not start: {line!r}")
        yield Served(int(line.split(",")[0].rsplit(":", 1)[1]), proc)
    finally:
        proc.terminate()
        proc.wait(60)


def drive(port: int, streams: dict[str, list[bytes]], keys: dict[str, bytes], window: int = 1) -> float:
    """Send every tag's frames, each tag on its own connection with up to window frames
    awaiting acknowledgement (1: as the firmware's link sends), the next sent as each is
    answered; the wall seconds it took. Every answer is checked once the clock has
    stopped, so that the checking does not hold the centre up: RuntimeError if one is not
    an authentic acknowledgement of the frame it answered."""
    sel = selectors.DefaultSelector()
    tags = []
    for device, frames in streams.items():
        if not frames:
            continue
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # each frame with the sequence number its acknowledgement must carry
        tops = [wire.event_rows(wire.open_frame(keys[device], next(wire.Unslip().feed(f)))[2])[-1][0]
                for f in frames]
        tags.append(_Tag(device, keys[device], sock, deque(zip(frames, tops, strict=True))))
        sel.register(sock, selectors.EVENT_READ, tags[-1])
    left = len(tags)
    t0 = time.perf_counter()
    for tag in tags:
        tag.send(window)
    while left:
        ready = sel.select(30)
        if not ready:
            raise RuntimeError(f"the centre stopped answering: {left} tags still waiting")
        for sel_key, _ in ready:
            tag = sel_key.data
            data = tag.sock.recv(65536)
            if not data:
                raise RuntimeError(f"the centre hung up on {tag.device} with {tag.waiting} frames unanswered")
            tag.answers += tag.unslip.feed(data)
            tag.send(window)
            if not tag.waiting and not tag.unsent:
                sel.unregister(tag.sock)
                tag.sock.close()
                left -= 1
    wall = time.perf_counter() - t0
    for tag in tags:
        tag.check()
    return wall


@dataclass
class _Tag:
    device: str
    key: bytes
    sock: socket.socket
    unsent: deque[tuple[bytes, int]]
    tops: list[int] = field(default_factory=list)  # what each frame sent must be acknowledged with
    answers: list[bytes] = field(default_factory=list)
    unslip: wire.Unslip = field(default_factory=wire.Unslip)

    @property
    def waiting(self) -> int:
        return len(self.tops) - len(self.answers)

    def send(self, window: int) -> None:
        out = []
        while self.unsent and self.waiting < window:
            frame, top = self.unsent.popleft()
            out.append(frame)
            self.tops.append(top)
        if out:
            self.sock.sendall(b"".join(out))

    def check(self) -> None:
        if len(self.answers) != len(self.tops):
            raise RuntimeError(f"{self.device}: {len(self.answers)} answers to {len(self.tops)} frames")
        for reply, top in zip(self.answers, self.tops, strict=True):
            kind, _, payload = wire.open_frame(self.key, reply)
            if kind != wire.ACK:
                raise RuntimeError(f"{self.device}: answered with a frame of kind {kind}, not an acknowledgement")
            if (got := int.from_bytes(payload[:4], "little")) != top:
                raise RuntimeError(f"{self.device}: a frame up to {top} acknowledged as up to {got}")
