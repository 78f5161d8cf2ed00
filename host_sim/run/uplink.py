"""The tag's link to the centre in the simulator: the bytes the firmware writes
on its link go over real TCP on loopback to the centre; the centre's answers come
back to the firmware a round trip later, in virtual time. Coverage gaps drop
whatever the tag sends while they last."""

from __future__ import annotations

import select
import socket
import time

from host_sim import wire

ROUND_TRIP_MS = 300
ONE_WAY_MS = ROUND_TRIP_MS // 2  # a frame reaches the centre half a round trip after it leaves
REPLY_TIMEOUT_S = 5.0


class Uplink:
    def __init__(self, port: int, gaps_ms: list[tuple[int, int]]) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.gaps = gaps_ms
        self.pending: list[tuple[int, bytes]] = []  # (virtual ms due, bytes for the tag)
        self.sent_frames = 0
        self.lost_frames = 0
        self._out = wire.Unslip()
        self._in = wire.Unslip()

    def in_gap(self, now_ms: int) -> bool:
        return any(a <= now_ms < b for a, b in self.gaps)

    def from_tag(self, now_ms: int, data: bytes) -> None:
        frames = sum(1 for _ in self._out.feed(data))
        if not frames:
            return
        if self.in_gap(now_ms):
            self.lost_frames += frames
            return
        self.sent_frames += frames
        self.sock.sendall(data)
        replies = bytearray()
        got = 0
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while got < frames and time.monotonic() < deadline:  # the centre answers every authentic frame
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if not ready:
                continue
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            replies += chunk
            got += sum(1 for _ in self._in.feed(chunk))
        while got and select.select([self.sock], [], [], 0)[0]:  # an order may follow the ack, already here
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            replies += chunk
        if replies and not self.in_gap(now_ms + ROUND_TRIP_MS):
            self.pending.append((now_ms + ROUND_TRIP_MS, bytes(replies)))

    def due(self, before_ms: int) -> list[tuple[int, bytes]]:
        if not self.pending:
            return []
        now = [p for p in self.pending if p[0] <= before_ms]
        self.pending = [p for p in self.pending if p[0] > before_ms]
        return now

    def close(self) -> None:
        self.sock.close()
