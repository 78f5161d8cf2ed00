# Firmware-side helpers for the RF curfew tests (called through tests/mp/service.py).
import binascii

import beacon
import config
import curfew
import hmu


def make_hex(key_hex, kind, ident, counter, utc, mac_len):
    return binascii.hexlify(beacon.make(binascii.unhexlify(key_hex), kind, ident, counter, utc, mac_len)).decode()


def verify_stream(key_hex, kind, ident, mac_len, fresh_s, items):
    v = beacon.Verifier(binascii.unhexlify(key_hex), kind, ident, mac_len, fresh_s)
    return [v.verify(binascii.unhexlify(adv), utc) for adv, utc in items]


def enforced(overrides, utcs):
    c = curfew.Curfew(config.merge(config.defaults(), overrides, "test"))
    return [c.enforced(t) for t in utcs]


class _Radio:
    def __init__(self):
        self.heard = []

    def advertise(self, adv, interval_ms):
        pass

    def recv(self):
        return self.heard.pop(0) if self.heard else None


class _Board:
    # Virtual time; the tag's adverts arrive at their times; mains as scheduled.
    def __init__(self, folder, start, end, arrivals, mains_off):
        self.name = "probe"
        self.defn = {}
        self.storage = folder
        self.console = None
        self.link = None
        self.radio = _Radio()
        self.now = start * 1000
        self.end = end * 1000
        self.arrivals = arrivals  # [(utc ms, rssi, adv)], in time order
        self.mains_off = mains_off

    def ticks_ms(self):
        return self.now & 0x3FFFFFFF

    def utc(self):
        return self.now // 1000

    def feed(self):
        pass  # a board with no watchdog

    def reset_cause(self):
        return 1  # powered on

    def wait(self, ms, hears):
        nxt = self.end if ms < 0 else self.now + ms
        if self.arrivals and self.arrivals[0][0] < nxt:
            nxt = self.arrivals[0][0]
        self.now = max(self.now, nxt)
        while self.arrivals and self.arrivals[0][0] <= self.now:
            _, rssi, adv = self.arrivals.pop(0)
            self.radio.heard.append((rssi, adv))

    def running(self):
        return self.now < self.end

    def mains_present(self):
        return not any(a <= self.utc() < b for a, b in self.mains_off)

    def battery_mv(self):
        return 4100

    def log(self, text):
        pass


def hmu_run(folder, overrides, start, end, heard, mains_off):
    # The home unit, its flash an empty folder, between start and end (UTC s) hearing
    # the tag at each [utc, rssi, how] (how: 0 a fresh advert, 1 a replay of the
    # first one, 2 a forgery); its events.
    cfg = config.merge(config.defaults(), overrides, "test")
    key = binascii.unhexlify(cfg["pair_key"])
    ident = int(cfg["beacon_id"], 16)
    arrivals = []
    first = None
    for n, (utc, rssi, how) in enumerate(heard):
        adv = beacon.make(key, beacon.TAG, ident, n + 1, utc, cfg["beacon_mac_len"])
        first = first or adv
        if how == 1:
            adv = first
        elif how == 2:
            adv = beacon.make(b"not the key", beacon.TAG, ident, n + 1, utc, cfg["beacon_mac_len"])
        arrivals.append((utc * 1000, rssi, adv))
    app = hmu.App(_Board(folder, start, end, arrivals, mains_off), cfg)
    app.run()
    block = bytearray(32 * app.store.capacity)
    block = block[: 32 * app.store.pending_into(block, app.store.capacity)]
    return [[block[i + 8], int.from_bytes(block[i + 4 : i + 8], "little")] for i in range(0, len(block), 32)]


def defaults(keys):
    return [config.defaults()[k] for k in keys]
