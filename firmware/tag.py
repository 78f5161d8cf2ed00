# The tag application: GNSS in; zone decisions; events into the store and on to
# the centre over the link; fixes and counters on the diagnostic console.
import binascii
import time

import clock
import config
import counter
import duty
import fixfilter
import frames
import gnss
import link
import locwatch
import loop
import nmea
import order
import power
import store
import tamper
import zonewatch
from micropython import const

_POWER_ON = const(1)
# what the board must hear while it waits: bits of board.wait()'s hears (docs/power.md)
_HEAR_GNSS = const(1)  # the receiver is powered: NMEA streams in
_HEAR_LINK = const(8)  # the serial link: the host may speak at any time
_HEAR_CONSOLE = const(16)  # a technician's session is open
_RX_CHUNK = const(48)  # the GNSS UART drained in small bites: the buffer is the driver's, not ours
_CONSOLE_SESSION_MS = const(120000)  # after the last byte typed, the board stays awake to hear the next line

_STATES = "/zones.state"
_MOVED_FIX_S = const(600)  # a fix this recent says where the tag heard its unit
_MOVED_M = const(300)  # heard this far beyond the home's circle, the unit has moved (not the garden, the street)
_MOVED_MPS = const(50)  # the fastest a wearer comes home since his fix (180 km/h, as the fix filter's default)
_EV_UNIT_MOVED = const(59)  # the home unit heard far from the registered home (metres in depth)


class App:
    # The configuration in force is the deployed one overlaid by the order in force
    # (order.py); _configure hands it to every component at boot and after each
    # accepted order, so an acknowledged order always takes effect.
    def __init__(self, board, cfg):
        self.board = board
        self.base_cfg = cfg
        self.loop = loop.Loop(board)
        self.gnss = gnss.Gnss(self._on_fix)
        self.store = store.Store(board.storage)
        self.clock = clock.Clock(board, self.store.seq.next)
        if self.clock.is_set():  # a set clock (kept through a soft reset) is a better week-rollover reference
            self.gnss.ref_day = board.utc() // 86400
        self.order = order.Order(board.storage, cfg, board.log, config.ORDER_KEYS)
        s = self.order.settings
        self.watches = []
        self.link, self.modem = link.open_link(board, self.loop, self.store, s, self._on_config, self.clock)
        self._rx = bytearray(_RX_CHUNK)
        self._quiet = True  # the receiver silent since its last epoch
        self._epoch_ticks = 0  # when the current epoch's first bytes came
        self._idle = self.loop.timer(self._gnss_idle)
        self._status = self.loop.timer(self._send_status)
        self.loop.poll(self._poll_gnss)
        self.loop.arm(self._status, s["status_period_s"] * 1000)
        cause = board.reset_cause()  # machine.reset_cause(): a reset other than power-on goes at once
        self._event(frames.EV_BOOT, board.utc(), depth_m=cause, priority=cause != _POWER_ON)
        self.tamper = tamper.Tamper(board, self.record)
        self.loop.poll(self.tamper.poll)
        self.power = power.Power(board, self.loop, self.record)
        self.diag = None  # loaded when a technician first speaks: its code stays out of the heap till then
        self._typed = None  # ticks of the last byte on the console
        self.loop.poll(self._poll_console)
        self.loop.hears = self._hears
        self.home_beacon = None
        self.locwatch = locwatch.LocationWatch(board, self.loop, self.record, self._hears_home, self._lon_scale,
                                               self.modem)
        self.duty = duty.DutyCycle(board, self.loop, self._nearest_ring_m, self.locwatch, self.link)
        self._configure(s, self.order.zones)
        self._restore_states()
        # after a reboot, the next window: by the clock, or if it is unset, the first fix's
        self._last_crumb = board.utc() // s["breadcrumb_s"] if self.clock.is_set() else -1
        if s["pair_key"] and s["beacon_id"]:  # an RF curfew: the beacon's modules only then
            import advertiser
            import beacon
            import homebeacon

            key = binascii.unhexlify(s["pair_key"])
            # the loop keeps the advertiser: nothing else need hold it
            advertiser.Advertiser(board, self.loop, key, beacon.TAG, int(s["beacon_id"], 16), s, self.clock)
            if s["hmu_beacon_id"]:
                self.home_beacon = homebeacon.HomeBeacon(board, self.loop, key, s, self.record, self._home)

    def _configure(self, s, zones):
        # the settings in force, to every component that takes any
        old = {w.zone.id: w.state for w in self.watches}
        self.cfg = s
        self.filter = fixfilter.FixFilter(s)
        self.watches = [zonewatch.ZoneWatch(z, s) for z in zones]
        for w in self.watches:
            w.state = old.get(w.zone.id, zonewatch.OUT)
        self.locwatch.configure(s)
        self.duty.configure(s)

    # what the components may ask of each other -------------------------------
    def _hears_home(self):
        return self.home_beacon is not None and self.home_beacon.home

    def _lon_scale(self):
        return self.filter.cos

    def _home(self, home, fresh=False):
        # The home unit heard (GNSS off) or lost; or, fresh, the first fix beside it
        # since. Heard, the tag judges where the unit stands by its last fix: farther
        # from the registered home than any journey since that fix could cover, the
        # unit has been carried elsewhere (a driver heard on arriving, his last
        # duty-cycled fix streets away, has moved nothing). What the fix on arriving
        # cannot tell, the first fix beside the unit does; a receiver asleep on
        # arriving wakes once for it, and is held off after it.
        lw, s = self.locwatch, self.cfg
        self.duty.hold(home)
        if not home:
            return
        age = 0 if fresh else self.board.utc() - lw.fix_utc
        d2 = lw.home_m2()
        far = s["home"][2] + _MOVED_M + _MOVED_MPS * age if d2 >= 0 else 0
        moved = d2 > far * far and 0 <= age <= _MOVED_FIX_S
        self.home_beacon.judged = moved or fresh  # type: ignore[union-attr]  # its home beacon calls this
        if moved:
            self.store.append(_EV_UNIT_MOVED, self.board.utc(), lw.lat, lw.lon, 0, min(int(d2 ** 0.5), 32767),
                              min(self.power.pct, 255))
            if self.link:
                self.link.kick()

    def _nearest_ring_m(self):
        nearest = -1
        for w in self.watches:
            d = w.ring_m()
            if nearest < 0 or d < nearest:
                nearest = d
        return nearest

    def run(self):
        self.board.log("emtag tag %s on %s" % (self.base_cfg["device_id"], self.board.name))
        self.loop.run()
        self._send_status(self.board.ticks_ms())

    # GNSS -------------------------------------------------------------------
    def _poll_gnss(self, now):
        port = self.board.gnss
        if port is None:
            return
        got = False
        while True:
            n = port.readinto(self._rx)
            if not n:
                break
            if self._quiet:
                self._quiet = False
                self._epoch_ticks = now
            self.gnss.feed(self._rx, n)
            got = True
        if got:
            self.loop.arm(self._idle, self.cfg["gnss_idle_ms"])

    def _gnss_idle(self, now):
        self._quiet = True
        self.gnss.flush()

    def _on_fix(self, fix):
        self._console(
            "FIX %d %d %d %d %d %d %d %d\n"
            % (fix.utc(), fix.ms, fix.lat_e7, fix.lon_e7, fix.valid, fix.has_pos, fix.hdop, fix.sats_used)
        )
        utc = fix.utc()
        if fix.valid and utc > 0:
            # the epoch's time was when its first sentence began: the rest took a while
            age = time.ticks_diff(self.board.ticks_ms(), self._epoch_ticks)
            self.clock.from_gnss(utc * 1000 + fix.ms % 1000 + age)
        if self.locwatch.judge(fix, self.board.utc()):
            return
        unc = self.filter.uncertainty_cm(fix)
        if self.filter.judge(fix, self.board.utc_ms(), unc) != fixfilter.OK:
            return
        lw = self.locwatch
        lw.fix_utc, lw.lat, lw.lon = utc, fix.lat_e7, fix.lon_e7
        hb = self.home_beacon
        if hb is not None and hb.home and not hb.judged:
            self._home(True, True)
        window = utc // self.cfg["breadcrumb_s"]  # one breadcrumb a window, on UTC boundaries
        if self._last_crumb < 0:
            self._last_crumb = window
        elif window != self._last_crumb:
            self._last_crumb = window
            self._event(frames.EV_POSITION, utc, fix, unc, priority=False)
        changed = False
        for w in self.watches:
            if not w.zone.active(utc):
                if w.state != zonewatch.OUT:
                    w.reset()
                    changed = True
                continue
            ev = w.update(fix.lat_e7, fix.lon_e7, unc, utc)
            if ev:
                changed = True
                self._event(ev, utc, fix, unc, w.depth_cm // 100, w.zone.id)
        if changed:
            self._save_states()
        self.duty.after_fix(utc, fix.speed_cms)

    # events -----------------------------------------------------------------
    def _event(self, kind, utc, fix=None, unc_cm=0, depth_m=0, zone_id=b"\0" * 8, priority=True, battery=255):
        lat = fix.lat_e7 if fix else 0
        lon = fix.lon_e7 if fix else 0
        self.store.append(kind, utc, lat, lon, min(unc_cm // 100, 65535), depth_m, min(battery, 255), zone_id)
        if priority and self.link:
            self.link.kick()

    def record(self, kind, utc, priority=True):
        # an alarm, technician or home-unit event: stored with the battery level, an alarm sent at once
        self._event(kind, utc, priority=priority, battery=self.power.pct)

    def _on_config(self, payload):
        if not self.order.take(payload, self.base_cfg, self.board.log, self._order_event, self._in_force):
            return
        if self.cfg["clear_tamper"] and (self.tamper.strap or self.tamper.case) and self.tamper.clear():
            self.record(frames.EV_FITTED, self.board.utc())  # cleared by the centre's authenticated order

    def _in_force(self, settings, zones):
        self._configure(settings, zones)
        self._save_states()

    def _order_event(self, kind, version):
        self._event(kind, self.board.utc(), depth_m=version)

    # zone states survive a reboot, so a restart inside a zone raises no second breach
    def _save_states(self):
        counter.atomic_write(self.board.storage + _STATES, b"".join(w.zone.id + bytes([w.state]) for w in self.watches))

    def _restore_states(self):
        try:
            with open(self.board.storage + _STATES, "rb") as f:
                data = f.read()
        except OSError:
            return
        states = {data[i : i + 8]: data[i + 8] for i in range(0, len(data) - 8, 9)}
        for w in self.watches:
            w.state = states.get(w.zone.id, zonewatch.OUT)

    # console ----------------------------------------------------------------
    def _poll_console(self, now):
        con = self.board.console
        if self.board.woke(_HEAR_CONSOLE):  # what was typed went while it slept: awake for the next line
            self._typed = now
        if con is None or not con.any():
            return
        self._typed = now
        if self.diag is None:
            import diag

            self.diag = diag.Diag(self.board, self.base_cfg, self.record, self.counters, self.gnss, self.locwatch,
                                  self.modem, self.store, self.link, self.tamper, self.power)
        self.diag.poll()

    def _hears(self):
        m, t = self.modem, self._typed
        h = m.hears() if m is not None else _HEAR_LINK if self.link is not None else 0
        if self.duty.on:
            h |= _HEAR_GNSS
        if self.home_beacon is not None:
            h |= self.home_beacon.hears()
        if t is not None and time.ticks_diff(self.board.ticks_ms(), t) < _CONSOLE_SESSION_MS:
            h |= _HEAR_CONSOLE
        return h

    def counters(self):
        # three short strings, not one long one: none needs much room in one piece
        g, fr = self.gnss, self.gnss.framer
        lk, m = self.link, self.modem
        return (
            "sentences=%d accepted=%d checksum=%d overlong=%d broken=%d unknown=%d malformed=%d fixes=%d" % (
                fr.count(nmea.C_SENTENCES), g.count(gnss.C_ACCEPTED), fr.count(nmea.C_CHECKSUM),
                fr.count(nmea.C_OVERLONG), fr.count(nmea.C_BROKEN), g.count(gnss.C_UNKNOWN),
                g.count(gnss.C_MALFORMED), g.count(gnss.C_FIXES)),
            "heap_peak=%d queued=%d acked=%d sent=%d rejected=%d order=%d modem_resets=%d modem_errors=%d" % (
                self.board.heap_peak(), self.store.count, self.store.acked, lk.sent if lk else 0,
                lk.rejected if lk else 0, self.order.version, m.resets if m else 0, m.errors if m else 0),
            "strap_tamper=%d case_tamper=%d battery_pct=%d gnss_sleeps=%d thinned=%d lost=%d" % (
                self.tamper.strap, self.tamper.case, self.power.pct, self.duty.sleeps, self.store.dropped,
                self.store.lost),
        )

    def _send_status(self, now):
        con = self.board.console
        if con is not None:
            con.write(b"STAT")
            for part in self.counters():
                con.write(b" ")
                con.write(part.encode())
            con.write(b"\n")
        self.loop.arm(self._status, self.cfg["status_period_s"] * 1000)

    def _console(self, text):
        if self.board.console is not None:
            self.board.console.write(text.encode())
