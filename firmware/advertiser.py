# This device's beacon on air: a new advert (beacon.py) at a random interval in
# [beacon_min_ms, beacon_max_ms] (the UK's RF tags: 1 to 10 s), so no two tags
# stay in step and no listener can tell when the next one comes. The randomness
# is the advert's own MAC, unpredictable without the key. An advert says when it
# was sent, so nothing goes on air before the clock is set (clock.py): a stamp from
# a clock that reads 2000 is stale to every listener, and looks like a recording.
import beacon
import counter
from micropython import const

_COUNTER_BLOCK = const(256)  # a flash write every few hundred adverts


class Advertiser:
    def __init__(self, board, loop, key, kind, ident, cfg, clock):
        self.board = board
        self.clock = clock
        self.loop = loop
        self.key = key
        self.kind = kind
        self.ident = ident
        self.mac_len = cfg["beacon_mac_len"]
        self.lo = cfg["beacon_min_ms"]
        self.span = cfg["beacon_max_ms"] - self.lo + 1
        self.counter = counter.Counter(board.storage + "/beacon.dat", _COUNTER_BLOCK)
        self._timer = loop.timer(self._send)
        loop.arm(self._timer, 0)

    def _send(self, now):
        if not self.clock.is_set():
            self.loop.arm(self._timer, self.lo)
            return
        adv = beacon.make(self.key, self.kind, self.ident, self.counter.take(), self.board.utc(), self.mac_len)
        wait = self.lo + (adv[-1] << 8 | adv[-2]) % self.span
        self.board.radio.advertise(adv, wait)
        self.loop.arm(self._timer, wait)
