# Store and forward: the oldest unacknowledged events go to the centre in
# authenticated frames; an authenticated acknowledgement lets the store forget
# them; no acknowledgement means trying again later, backing off. Breaches and
# other priority events go at once; breadcrumbs wait for the reporting period.
import binascii
import struct
import time

import frames
from micropython import const

_BATCH = const(8)  # events a frame: the send buffers stay under 900 bytes; a backlog takes more frames
_RETRY_MS = const(10000)
_RETRY_MAX_MS = const(300000)


def device_bytes(device_id):
    b = device_id.encode()[:8]
    return b + b"\0" * (8 - len(b))


def open_link(board, loop, store, cfg, on_config, clock):
    # (link, modem) as the configuration asks: over the board's AT modem, or its
    # serial line; (None, None) without a key, the events staying in the store.
    if not cfg["key"]:
        board.log("no key in the configuration: events stay in the store")
        return None, None
    if cfg["transport"] == "cellular":
        import modem

        m = modem.Modem(board, loop, cfg, board.dialect, clock.from_cell)
        return Link(m, loop, store, cfg, on_config, clock), m
    return Link(board.link, loop, store, cfg, on_config, clock), None


class Link:
    # port: anything with write() and readinto(): the board's serial link or a Modem
    def __init__(self, port, loop, store, cfg, on_config, clock):
        self.port = port
        self.clock = clock
        self.loop = loop
        self.store = store
        self.key = binascii.unhexlify(cfg["key"])
        self.device = device_bytes(cfg["device_id"])
        self.period_ms = cfg["report_period_s"] * 1000
        self._on_config = on_config
        self._unslip = frames.Unslip(self._frame)
        self._rx = bytearray(64)  # drained until empty each turn: a small bite is enough
        self._tx = bytearray(frames.frame_len(_BATCH))  # the frame being sent
        # its SLIP encoding for a UART (every byte escaped, at worst); a modem encodes into its own box
        self._tx_slip = None if hasattr(port, "write_frame") else bytearray(2 * len(self._tx) + 2)
        self._backoff = _RETRY_MS
        self._sent_ticks = 0
        self.sent = self.acks = self.rejected = 0
        self._send_timer = loop.timer(self._send)
        self._period_timer = loop.timer(self._periodic)
        loop.poll(self._poll)
        loop.arm(self._period_timer, self.period_ms)
        if store.count:  # what an earlier run left unsent goes first
            self.kick()

    def report_every(self, s):
        # the reporting period: the settings in force, as near the zones as the wearer is
        self.period_ms = s * 1000

    def kick(self):
        # Something that must not wait: send now.
        self.loop.arm(self._send_timer, 0)

    def _periodic(self, now):
        # at least once a period, even with nothing to say: the centre may have an order
        self.kick()
        self.loop.arm(self._period_timer, self.period_ms)

    def _send(self, now):
        if self.port is None:
            return
        # built in place in buffers kept for it: a send allocates nothing big (none pending:
        # an empty frame asks for news)
        tx = self._tx
        n = 0
        if self.sent or self.clock.is_set():  # else first an empty frame: the centre's answer sets the clock
            n = self.store.pending_into(memoryview(tx)[frames.EVENTS_AT :], _BATCH)
        frames.restamp(tx, n, self.clock.stamp)
        end = frames.seal_events(tx, self.key, self.device, n, self.clock.now())
        self._sent_ticks = now
        if self._tx_slip is None:
            self.port.write_frame(memoryview(tx)[:end])
        else:
            self.port.write(memoryview(self._tx_slip)[: frames.slip_into(memoryview(tx)[:end], self._tx_slip)])
        self.sent += 1
        if self.store.count:
            self.loop.arm(self._send_timer, self._backoff)  # unless an acknowledgement comes first
            self._backoff = min(2 * self._backoff, _RETRY_MAX_MS)

    def _poll(self, now):
        if self.port is None:
            return
        while True:
            n = self.port.readinto(self._rx)
            if not n:
                return
            self._unslip.feed(self._rx, n)

    def _frame(self, data):
        try:
            kind, _, payload = frames.open_frame(self.key, data, self.device)
        except frames.FrameError:
            self.rejected += 1
            return
        if kind == frames.ACK:
            seq = payload[0] | payload[1] << 8 | payload[2] << 16 | payload[3] << 24
            if len(payload) == 12:
                # the centre's time when it answered: half the round trip ago, near enough
                rtt = time.ticks_diff(self.loop.board.ticks_ms(), self._sent_ticks)
                self.clock.from_centre(struct.unpack_from("<Q", payload, 4)[0] + rtt // 2)
            if self.store.ack(seq):
                self.acks += 1
                self._backoff = _RETRY_MS
                if self.store.count:
                    self.kick()
                else:
                    self.loop.disarm(self._send_timer)
        elif kind == frames.CONFIG:
            self._on_config(payload)
        else:
            self.rejected += 1
