# The home monitoring unit: hears the tag's beacon (presence.py), enforces the
# curfew (curfew.py), sends its own signed beacon so the tag knows it is home,
# watches its mains supply, and reports through the same store and link as the
# tag. Events: absent when the curfew took hold, left during it, returned,
# spoof suspected, mains lost and restored, its case opened, its backup battery
# low. The curfew in force comes from the centre's orders as a tag's settings do
# (order.py). What it has decided, and the tag's beacon counter, survive a
# restart (docs/curfew.md).
import binascii
import struct
import time

import advertiser
import beacon
import clock
import config
import counter
import curfew
import frames
import link
import loop
import order
import power
import presence
import store
import tamper
from micropython import const

_CHECK_MS = const(5000)
_STATE = "/curfew.state"  # the curfew as the unit left it, in _STATE_FORMAT
_STATE_FORMAT = "<BII"  # flags (_HERE, _ALERTED, _SEEN), enforced since, the spell last alerted (UTC)
_HERE = const(1)
_ALERTED = const(2)
_SEEN = const(4)
# what the board must hear while it waits: bits of board.wait()'s hears (docs/power.md)
_HEAR_LINK = const(8)  # the serial link: the host may speak at any time
_HEAR_RADIO = const(32)  # the tag's beacon: all the time on mains; on the backup battery, see _scan
_REST = const(5)  # on the backup battery the radio rests a fifth of the absence timeout once it has heard the tag

# the unit's events (docs/frames.md)
_EV_CURFEW_ABSENT = const(50)  # not home when the curfew took hold
_EV_CURFEW_LEFT = const(51)  # gone during the curfew
_EV_CURFEW_RETURNED = const(52)  # heard again after either
_EV_SPOOF_SUSPECTED = const(53)  # forged, stale or replayed adverts (depth: the verdict)
_EV_MAINS_LOST = const(54)  # on its backup battery
_EV_MAINS_RESTORED = const(55)
_EV_COUNTER_ONLY = const(58)  # the clock unset: adverts judged by their counters alone


class App:
    def __init__(self, board, cfg):
        self.board = board
        self.base_cfg = cfg
        self.loop = loop.Loop(board)
        self.store = store.Store(board.storage)
        self.clock = clock.Clock(board, self.store.seq.next)
        self.order = order.Order(board.storage, cfg, board.log, config.UNIT_ORDER_KEYS)
        self.cfg = cfg = self.order.settings
        self.link, self.modem = link.open_link(board, self.loop, self.store, cfg, self._on_config, self.clock)
        self.power = power.Power(board, self.loop, self.record)
        self.tamper = tamper.Tamper(board, self.record)  # the case: latched, as a tag's
        self.loop.poll(self.tamper.poll)
        utc = board.utc()
        self.curfew = curfew.Curfew(cfg)
        flags, self._enforced_since, self._alert_spell = self._restore()
        self.alerted = flags & _ALERTED != 0  # an absence raised and not yet ended by a return
        self._seen = flags & _SEEN != 0  # heard during this curfew
        self._saved = b""
        self.presence = self.beacon = None
        self.listening = True  # the radio scans (what _hears says)
        self._rests = False  # on the backup battery: it rests once it has heard the tag
        self._scan_timer = self.loop.timer(self._scan)
        if cfg["pair_key"] and cfg["beacon_id"]:
            key = binascii.unhexlify(cfg["pair_key"])
            if cfg["hmu_beacon_id"]:
                self.beacon = advertiser.Advertiser(board, self.loop, key, beacon.HMU,
                                                    int(cfg["hmu_beacon_id"], 16), cfg, self.clock)
            self.presence = presence.Presence(key, cfg, board.storage, board.ticks_ms(), flags & _HERE != 0,
                                              self._spoof)
            self.loop.poll(self._listen)
        else:
            board.log("no pair key or beacon id: the curfew cannot be enforced")
        self._counter_only = False  # said that adverts are judged without the clock
        self.diag = None  # loaded when a technician first speaks (diag.py, as on a tag)
        self.loop.poll(self._poll_console)
        self.loop.hears = self._hears
        self.mains = board.mains_present()
        self._scan(board.ticks_ms())
        self._last_spoof = None  # ticks of the last spoof event while spoof_quiet_s has not passed
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
        if not self.order.take(payload, self.base_cfg, self.board.log, self._order_event, self._in_force):
            return
        if self.cfg["clear_tamper"] and self.tamper.case and self.tamper.clear():
            self.record(frames.EV_FITTED, self.board.utc())  # cleared by the centre's authenticated order

    def _in_force(self, settings, zones):
        # a unit enforces no zones: an order's zones file is not its business
        self.cfg = settings
        self.curfew = curfew.Curfew(settings)
        if self.presence is not None:
            self.presence.configure(settings)

    def _order_event(self, kind, version):
        self._event(kind, self.board.utc(), version)

    # what it decided survives a restart: a unit that reboots with the wearer in
    # raises no absence, and one that alerted raises no second alert for the same absence
    def _restore(self):
        try:
            with open(self.board.storage + _STATE, "rb") as f:
                return struct.unpack(_STATE_FORMAT, f.read())
        except (OSError, ValueError):
            return _HERE, 0, 0  # a first start: the benefit of the doubt for one timeout

    def _save(self, here):
        state = struct.pack(_STATE_FORMAT, here | self.alerted * _ALERTED | self._seen * _SEEN, self._enforced_since,
                            self._alert_spell)
        if state != self._saved:
            counter.atomic_write(self.board.storage + _STATE, state)
            self._saved = state

    def _hears(self):
        m = self.modem
        h = m.hears() if m is not None else _HEAR_LINK if self.link is not None else 0
        return h | _HEAR_RADIO if self.presence is not None and self.listening else h

    def _poll_console(self, now):
        # a unit listening for its tag never sleeps: no console session to keep it awake
        con = self.board.console
        if con is not None and con.any():
            if self.diag is None:
                import diag

                self.diag = diag.Diag(self.board, self.base_cfg, self.record, self.counters, None, None, self.modem,
                                      self.store, self.link, self.tamper, self.power)
            self.diag.poll()

    def counters(self):
        p = self.presence
        return ("present=%d rssi=%d spoofs=%d" % (p.present(self.board.ticks_ms()) if p else 0, p.rssi if p else 0,
                                                   self.spoofs),)

    def _listen(self, now):
        p = self.presence
        assert p is not None  # polled only when there is a beacon to hear
        while True:
            got = self.board.radio.recv()
            if got is None:
                return
            utc = self.clock.now()
            if not utc and not self._counter_only:  # no freshness to judge by: said once a boot
                self._counter_only = True
                self._event(_EV_COUNTER_ONLY, self.board.utc())
            if p.hear(got[0], got[1], utc, now) and self._rests and self.listening:
                self.listening = False
                self.loop.arm(self._scan_timer, p.timeout_ms // _REST)

    # On mains the unit scans all the time. On its backup battery a scanning radio
    # (85 mA) would flatten it in hours, so once it has heard the tag it rests for a
    # fifth of the absence timeout, then scans until it hears the tag again: a wearer
    # at home is heard a rest and an advert apart, and judged absent only after the
    # other four fifths passed scanning with no advert that counts. One not heard
    # (gone, or not yet home) is listened for all the time, so a return is heard at once.
    def _scan(self, now):
        self.loop.disarm(self._scan_timer)
        self.listening = True
        self._rests = not self.mains

    def _spoof(self, verdict, now):
        self.spoofs += 1
        if self._spoof_quiet_over(now):
            self._last_spoof = now
            self._event(_EV_SPOOF_SUSPECTED, self.board.utc(), verdict)

    def _spoof_quiet_over(self, now):
        # timed by ticks, as presence is, and let go (by the checks) before they could wrap
        q = self._last_spoof
        if q is not None and time.ticks_diff(now, q) >= self.cfg["spoof_quiet_s"] * 1000:
            self._last_spoof = q = None
        return q is None

    def _check(self, now):
        utc = self.board.utc()
        self._spoof_quiet_over(now)
        mains = self.board.mains_present()
        if mains != self.mains:
            self.mains = mains
            self._event(_EV_MAINS_RESTORED if mains else _EV_MAINS_LOST, utc)
            self._scan(now)
        p = self.presence
        if p is not None:
            here = p.present(now)
            if self.clock.is_set():  # the schedule is in London time: unknown until then
                self._curfew(utc, here, p.rssi)
            self._save(here)
        self.loop.arm(self._check_timer, _CHECK_MS)

    def _curfew(self, utc, present, rssi):
        enforced = self.curfew.enforced(utc)
        if not enforced:
            self._enforced_since = 0
            self._seen = False
        elif not self._enforced_since:
            self._enforced_since = utc
        if self.alerted and present:
            self.alerted = False
            self._event(_EV_CURFEW_RETURNED, utc, rssi)
        elif enforced and not present and not (self.alerted and self._alert_spell == self._enforced_since):
            self.alerted = True  # once per absence, and again at each curfew it lasts into
            self._alert_spell = self._enforced_since
            self._event(_EV_CURFEW_LEFT if self._seen else _EV_CURFEW_ABSENT, utc, rssi)
        if enforced and present:
            self._seen = True

    def _heartbeat(self, now):
        b = self.board
        if b.console is not None:
            p = self.presence
            b.console.write(b"BEAT %d mains=%d battery_mv=%d present=%d rssi=%d enforced=%d queued=%d spoofs=%d\n" % (
                b.utc(), b.mains_present(), b.battery_mv(), p.present(now) if p else 0, p.rssi if p else 0,
                self.curfew.enforced(b.utc()), self.store.count, self.spoofs))
        self.loop.arm(self._beat, self.cfg["heartbeat_period_s"] * 1000)
