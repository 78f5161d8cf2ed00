# Firmware-side helpers for the RF curfew tests (called through tests/mp/service.py).
import binascii

import beacon
import config
import curfew
import hmu
import homebeacon
import loop
import pairing
import scratch


def make_hex(key_hex, kind, ident, counter, utc, mac_len):
    return binascii.hexlify(beacon.make(binascii.unhexlify(key_hex), kind, ident, counter, utc, mac_len)).decode()


def verify_stream(key_hex, kind, ident, mac_len, fresh_s, items, keep=False):
    # each [advert hex, our utc] verified; with keep the counter is kept on flash (a
    # folder of the call's own), and an empty advert is a reboot (-1 in its place)
    key = binascii.unhexlify(key_hex)
    mark = scratch.folder("emtag-mark") + "/mark.dat" if keep else None
    try:
        v = beacon.Verifier(key, kind, ident, mac_len, fresh_s, mark)
        out = []
        for adv, utc in items:
            if adv:
                out.append(v.verify(binascii.unhexlify(adv), utc))
            else:
                v = beacon.Verifier(key, kind, ident, mac_len, fresh_s, mark)
                out.append(-1)
        return out
    finally:
        scratch.remove_all()


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


class _Console:
    # a technician's console: what is typed waits to be read; what is written is kept
    def __init__(self, typed):
        self.typed = bytearray(typed)
        self.written = bytearray()

    def any(self):
        return len(self.typed)

    def readinto(self, buf):
        n = min(len(buf), len(self.typed))
        buf[:n] = self.typed[:n]
        self.typed = self.typed[n:]
        return n

    def write(self, data):
        self.written += data
        return len(data)


def _no_log(text):
    pass


class _Reset(Exception):
    pass


class _Air:
    # Virtual time, and adverts that arrive at their times: heard only while the
    # firmware listens (RADIO in what it waits to hear), as its radio scans only
    # then; each spell listening is kept, [from ms, to ms].
    def __init__(self, start, end, arrivals):
        self.radio = _Radio()
        self.now = start * 1000
        self.end = end * 1000
        self.arrivals = arrivals  # [(utc ms, rssi, adv)], in time order
        self.spells = []

    def ticks_ms(self):
        return self.now & 0x3FFFFFFF

    def utc(self):
        return self.now // 1000

    def feed(self):
        pass  # a board with no watchdog

    def running(self):
        return self.now < self.end

    def wait(self, ms, hears):
        nxt = self.end if ms < 0 else self.now + ms
        listening = hears & 32
        if listening and self.arrivals and self.arrivals[0][0] < nxt:
            nxt = self.arrivals[0][0]
        if listening:
            self.spells.append([self.now, nxt])
        while self.arrivals and self.arrivals[0][0] <= nxt:
            _, rssi, adv = self.arrivals.pop(0)
            if listening:
                self.radio.heard.append((rssi, adv))
        self.now = max(self.now, nxt)


class _Board(_Air):
    # A home unit: the tag's adverts; mains as scheduled; a console if something is typed.
    def __init__(self, folder, start, end, arrivals, mains_off, typed=None):
        super().__init__(start, end, arrivals)
        self.name, self.chip, self.role = "probe", "esp32c3", "hmu"
        self.naps = 0
        self.defn = {}
        self.storage = folder
        self.console = _Console(typed) if typed else None
        self.link = None
        self.has_strap = False  # a unit has no strap
        self.has_case = True
        self.case_open = False
        self.mains_off = mains_off

    def reset_cause(self):
        return 1  # powered on

    def reset(self):
        raise _Reset  # machine.reset(): the run ends here; its caller starts the unit again

    def mains_present(self):
        return not any(a <= self.utc() < b for a, b in self.mains_off)

    def strap_closed(self):
        return False

    def case_closed(self):
        return not self.case_open

    def battery_mv(self):
        return 4100

    def log(self, text):
        pass


def hmu_run(folder, overrides, start, end, heard, mains_off, first_counter=1, spells=False):
    # The home unit, its flash the folder (empty: a first start; as a run left it: a
    # restart), between start and end (UTC s), the tag's adverts reaching it at each
    # [utc, rssi, how] (how: 0 a fresh advert, 1 a replay of the first one,
    # 2 a forgery; the tag's counter from first_counter on); the events it stored this
    # run, and with spells, [the events, its spells listening]. The keys are a
    # technician's pairing's, if one was made (as start.py reads them).
    cfg = pairing.apply(config.merge(config.defaults(), overrides, "test"), folder, _no_log)
    key = binascii.unhexlify(cfg["pair_key"])
    ident = int(cfg["beacon_id"], 16)
    arrivals = []
    first = None
    for n, (utc, rssi, how) in enumerate(heard, first_counter):
        adv = beacon.make(key, beacon.TAG, ident, n, utc, cfg["beacon_mac_len"])
        first = first or adv
        if how == 1:
            adv = first
        elif how == 2:
            adv = beacon.make(b"not the key", beacon.TAG, ident, n, utc, cfg["beacon_mac_len"])
        arrivals.append((utc * 1000, rssi, adv))
    board = _Board(folder, start, end, arrivals, mains_off)
    app = hmu.App(board, cfg)
    first_seq = app.store.seq.next
    app.run()
    events = [e for e in _events(app.store) if e[2] >= first_seq]
    return [events, board.spells] if spells else events


def _events(s):
    # [kind, utc, seq] of every event in the store
    block = bytearray(32 * s.capacity)
    block = block[: 32 * s.pending_into(block, s.capacity)]
    return [[block[i + 8], int.from_bytes(block[i + 4 : i + 8], "little"), int.from_bytes(block[i : i + 4], "little")]
            for i in range(0, len(block), 32)]


def hmu_orders(folder, overrides, at, payloads_hex, probe):
    # The home unit offered each CONFIG payload in turn at UTC at, then started again
    # on the same flash: [the events each offer stored, the rules in force after each],
    # and the rules in force after the restart; rules: the order keys' values, the
    # absence timeout presence uses, whether the curfew is enforced at UTC probe
    cfg = config.merge(config.defaults(), overrides, "test")
    app = hmu.App(_Board(folder, at, at + 1, [], []), cfg)
    out = []
    for p in payloads_hex:
        before = len(_events(app.store))
        app._on_config(binascii.unhexlify(p))
        out.append([[k for k, _, _ in _events(app.store)[before:]], _rules(app, probe)])
    again = hmu.App(_Board(folder, at, at + 1, [], []), cfg)
    return out, _rules(again, probe)


def _rules(app, probe):
    c = app.cfg
    return [c[k] for k in config.UNIT_ORDER_KEYS] + [app.presence.timeout_ms, app.curfew.enforced(probe)]


def defaults(keys):
    return [config.defaults()[k] for k in keys]


def hmu_console(folder, overrides, at, lines, case_open):
    # The home unit with its case open or shut, a technician typing lines at its console
    # at UTC at; the lines it answered, the events it stored, and whether it reset itself
    cfg = pairing.apply(config.merge(config.defaults(), overrides, "test"), folder, _no_log)
    board = _Board(folder, at, at + 5, [], [], "".join(ln + "\n" for ln in lines).encode())
    board.case_open = case_open
    app = hmu.App(board, cfg)
    try:
        app.run()
        reset = False
    except _Reset:
        reset = True
    return bytes(board.console.written).decode().splitlines(), [k for k, _, _ in _events(app.store)], reset


def home_windows(overrides, start, end, sent):
    # A tag's HomeBeacon between start and end (UTC s), its unit's adverts sent at each
    # UTC ms of sent: [its home and away events, [kind, ms]], [its spells listening]
    cfg = config.merge(config.defaults(), overrides, "test")
    key = binascii.unhexlify(cfg["pair_key"])
    ident = int(cfg["hmu_beacon_id"], 16)
    board = _Air(start, end, [(t, -60, beacon.make(key, beacon.HMU, ident, n, t // 1000, cfg["beacon_mac_len"]))
                              for n, t in enumerate(sent, 1)])
    lp = loop.Loop(board)
    events = []
    hb = homebeacon.HomeBeacon(board, lp, key, cfg, lambda kind, utc, priority: events.append([kind, board.now]),
                               lambda home: None)
    lp.hears = hb.hears
    lp.run()
    return events, board.spells
