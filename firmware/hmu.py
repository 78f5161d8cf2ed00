# The home monitoring unit: hears the tag's beacon (presence.py), enforces the
# curfew (curfew.py), sends its own signed beacon so the tag knows it is home,
# watches its mains supply, and reports through the same store and link as the
# tag. Events: absent when the curfew took hold, left during it, returned,
# spoof suspected, mains lost and restored.
import binascii

import advertiser
import beacon
import clock
import curfew
import frames
import link
import loop
import power
import presence
import store
from micropython import const

_CHECK_MS = const(5000)
# what the board must hear while it waits: bits of board.wait()'s hears (docs/power.md)
_HEAR_LINK = const(8)  # the serial link: the host may speak at any time
_HEAR_RADIO = const(32)  # the tag's beacon, listened for all the time

# the unit's events (docs/frames.md)
_EV_CURFEW_ABSENT = const(50)  # not home when the curfew took hold
_EV_CURFEW_LEFT = const(51)  # gone during the curfew
_EV_CURFEW_RETURNED = const(52)  # heard again after either
_EV_SPOOF_SUSPECTED = const(53)  # forged, stale or replayed adverts (depth: the verdict)
_EV_MAINS_LOST = const(54)  # on its backup battery
_EV_MAINS_RESTORED = const(55)


class App:
    def __init__(self, board, cfg):
        self.board = board
        self.cfg = cfg
        self.loop = loop.Loop(board)
        self.store = store.Store(board.storage)
        self.clock = clock.Clock(board, self.store.seq.next)
        self.link, self.modem = link.open_link(board, self.loop, self.store, cfg, self._on_config, self.clock)
        self.power = power.Power(board, self.loop, self.record)
        utc = board.utc()
        self.curfew = curfew.Curfew(cfg)
        self.presence = self.beacon = self._key = None
        if cfg["pair_key"] and cfg["beacon_id"]:
            key = self._key = binascii.unhexlify(cfg["pair_key"])
            if cfg["hmu_beacon_id"]:
                self.beacon = advertiser.Advertiser(board, self.loop, key, beacon.HMU,
                                                    int(cfg["hmu_beacon_id"], 16), cfg, self.clock)
            self.loop.poll(self._listen)
        else:
            board.log("no pair key or beacon id: the curfew cannot be enforced")
        self.loop.hears = self._hears
        self.mains = board.mains_present()
        self.alerted = False  # an absence raised and not yet ended by a return
        self._enforced_since = 0
        self._alert_spell = 0  # the curfew the last absence alert was raised in
        self._seen = False  # heard during this curfew
        self._last_spoof = -cfg["spoof_quiet_s"]
        self.spoofs = 0
        self._event(frames.EV_BOOT, utc, board.reset_cause())  # machine.reset_cause()
        self._check_timer = self.loop.timer(self._check)
        self.loop.arm(self._check_timer, _CHECK_MS)
        self._beat = self.loop.timer(self._heartbeat)
        self.loop.arm(self._beat, 0)

    def run(self):
        self.board.log("emtag hmu %s on %s" % (self.cfg["device_id"], self.board.name))
        self.loop.run()

    def _event(self, kind, utc, detail=0):
        self.store.append(kind, utc, depth_m=detail, battery=min(self.power.pct, 255))
        if self.link:
            self.link.kick()

    def record(self, kind, utc):
        self._event(kind, utc)

    def _on_config(self, payload):
        self.board.log("orders for the home unit are not supported; ignored")

    def _hears(self):
        m = self.modem
        h = m.hears() if m is not None else _HEAR_LINK if self.link is not None else 0
        return h | _HEAR_RADIO if self._key is not None else h

    def _listen(self, now):
        # until the clock is set no advert can be judged fresh: heard and let go
        p = self.presence
        while True:
            got = self.board.radio.recv()
            if got is None:
                return
            if p is not None:
                p.hear(got[0], got[1], self.board.utc())

    def _spoof(self, verdict, utc):
        self.spoofs += 1
        if utc - self._last_spoof >= self.cfg["spoof_quiet_s"]:
            self._last_spoof = utc
            self._event(_EV_SPOOF_SUSPECTED, utc, verdict)

    def _check(self, now):
        utc = self.board.utc()
        mains = self.board.mains_present()
        if mains != self.mains:
            self.mains = mains
            self._event(_EV_MAINS_RESTORED if mains else _EV_MAINS_LOST, utc)
        if self._key and self.presence is None and self.clock.is_set():
            # the curfew is judged from the first moment the unit knows the time: the
            # wearer has the benefit of the doubt for one absence timeout from then
            self.presence = presence.Presence(self._key, self.cfg, utc, self._spoof)
        if self.presence is not None:
            self._curfew(utc, self.presence)
        self.loop.arm(self._check_timer, _CHECK_MS)

    def _curfew(self, utc, p):
        present = p.present(utc)
        enforced = self.curfew.enforced(utc)
        if not enforced:
            self._enforced_since = 0
            self._seen = False
        elif not self._enforced_since:
            self._enforced_since = utc
        if self.alerted and present:
            self.alerted = False
            self._event(_EV_CURFEW_RETURNED, utc, p.rssi)
        elif enforced and not present and not (self.alerted and self._alert_spell == self._enforced_since):
            self.alerted = True  # once per absence, and again at each curfew it lasts into
            self._alert_spell = self._enforced_since
            self._event(_EV_CURFEW_LEFT if self._seen else _EV_CURFEW_ABSENT, utc, p.rssi)
        if enforced and present:
            self._seen = True

    def _heartbeat(self, now):
        b = self.board
        if b.console is not None:
            p = self.presence
            b.console.write(b"BEAT %d mains=%d battery_mv=%d present=%d rssi=%d enforced=%d queued=%d spoofs=%d\n" % (
                b.utc(), b.mains_present(), b.battery_mv(), p.present(b.utc()) if p else 0, p.rssi if p else 0,
                self.curfew.enforced(b.utc()), self.store.count, self.spoofs))
        self.loop.arm(self._beat, self.cfg["heartbeat_period_s"] * 1000)
