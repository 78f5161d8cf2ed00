# The alcohol tag (docs/alcohol.md): samples the alcohol in the wearer's sweat
# every 30 min, every 10 min while there is any; each reading goes to the centre
# with its IR and temperatures, so the centre can judge the whole curve too. The
# tag itself reports drinking episodes (tacrule.py), environmental alcohol, and a
# sensor off the skin (skinwatch.py), through the same store and link as a GPS
# tag, and beacons to a home unit where the order has an RF curfew.
import binascii
import json
import struct

import clock
import config
import counter
import frames
import link
import loop
import order
import power
import skinwatch
import store
import tacrule
import tamper
from micropython import const

# what the board must hear while it waits: bits of board.wait()'s hears (docs/power.md)
_HEAR_LINK = const(8)
_STATE = "/alcohol.state"
_OWN_FILE = "alcohol.json"
_STATE_FORMAT = "<hIHIBIhIBh"  # tacrule.state(), then the skin watch's state and IR reference

# the alcohol tag's events (docs/frames.md)
_EV_ALCOHOL_READING = const(70)  # depth: the reading (1e-4 g/dL); accuracy: IR; zone id: skin, case (0.1 C)
_EV_DRINKING = const(71)  # a drinking episode confirmed; depth: the reading; zone id: its first reading's UTC
_EV_DRINKING_ENDED = const(72)  # depth: the peak; zone id: the start's UTC, the peak's UTC
_EV_ENVIRONMENTAL_ALCOHOL = const(73)  # environmental alcohol suspected; depth: the spike's peak
_EV_SENSOR_REMOVED = const(74)  # off the skin, the strap closed; depth: skin minus case (0.1 C)
_EV_SENSOR_OBSTRUCTED = const(75)  # something between skin and sensor; depth: the reading; accuracy: IR
_EV_SENSOR_ON_SKIN = const(76)  # the readings a worn tag's again after 74 or 75
_EV_SENSOR_FAULT = const(77)  # the sensors did not answer; depth: the error number


def settings():
    # the role's own settings, a new dict each call; a device's alcohol.json overrides them
    return {
        "report_period_s": 900,  # readings go up with the next report; decisions go at once
        "alc_sample_s": 1800,  # a reading this often ...
        "alc_present_sample_s": 600,  # ... and this often while alcohol is present or an episode open
        "alc_present_e4": 100,  # 0.010 g/dL: alcohol present
        "alc_threshold_e4": 200,  # 0.020 g/dL: an episode's readings are at least this
        "alc_confirm_readings": 3,  # in a row, to confirm an episode: two may straddle a spike's peak
        "alc_absorb_max_e4_h": 500,  # 0.050 g/dL/h: no body's sweat rises faster ...
        "alc_elim_max_e4_h": 250,  # 0.025 g/dL/h: ... or falls faster
        "alc_noise_e4": 20,  # the sensor's noise, allowed on each reading
        "alc_spike_window_s": 3600,  # a fast rise judged a spike if it falls fast within this
        "alc_ir_band_pct": 25,  # IR this far from the worn reference: not the skin
        "alc_removed_c10": 20,  # skin within 2.0 C of the case: off the ankle
    }


# what an order from the centre may change on an alcohol tag
ORDER_KEYS = ("report_period_s", "alc_sample_s", "alc_present_sample_s", "alc_present_e4", "alc_threshold_e4",
              "alc_confirm_readings", "alc_noise_e4", "alc_ir_band_pct", "alc_removed_c10", "clear_tamper")


def _own_settings(cfg):
    # the device's configuration and the role's own settings, overlaid by alcohol.json
    # if the device has one: kept apart from config.json, so no other role's heap
    # holds the names
    given = {}
    try:
        with open(_OWN_FILE) as f:
            given = json.loads(f.read())
    except OSError:
        pass
    except ValueError:
        raise ValueError("%s: not valid JSON" % _OWN_FILE) from None
    return config.merge(cfg | settings(), given, _OWN_FILE)


class App:
    def __init__(self, board, cfg):
        self.board = board
        self.base_cfg = cfg = _own_settings(cfg)
        self.loop = loop.Loop(board)
        self.store = store.Store(board.storage)
        self.clock = clock.Clock(board, self.store.seq.next)
        self.order = order.Order(board.storage, cfg, board.log, ORDER_KEYS)
        self.cfg = s = self.order.settings
        self.link, self.modem = link.open_link(board, self.loop, self.store, s, self._on_config, self.clock)
        self.power = power.Power(board, self.loop, self.record)
        self.tamper = tamper.Tamper(board, self.record)
        self.loop.poll(self.tamper.poll)
        self.rule = tacrule.TacRule(s)
        self.skin = skinwatch.SkinWatch(s)
        self.fault = False  # the sensors did not answer the last reading
        self.read = (0, 0, 0)  # the last reading's IR, skin and case (0.1 C), for a technician
        self._restore()
        self.diag = None  # loaded when a technician first speaks
        self.loop.poll(self._poll_console)
        self.loop.hears = self._hears
        self._event(frames.EV_BOOT, board.utc(), depth_m=board.reset_cause())
        self._sample = self.loop.timer(self._read)
        self.loop.arm(self._sample, 0)
        self._status = self.loop.timer(self._send_status)
        self.loop.arm(self._status, s["status_period_s"] * 1000)
        if s["pair_key"] and s["beacon_id"]:  # with an RF curfew: the home unit hears this beacon
            import advertiser
            import beacon

            advertiser.Advertiser(board, self.loop, binascii.unhexlify(s["pair_key"]), beacon.TAG,
                                  int(s["beacon_id"], 16), s, self.clock)

    def run(self):
        self.board.log("emtag alcohol %s on %s" % (self.base_cfg["device_id"], self.board.name))
        self.loop.run()

    def _event(self, kind, utc, acc=0, depth_m=0, zone_id=b"\0" * 8):
        self.store.append(kind, utc, 0, 0, acc, depth_m, min(self.power.pct, 255), zone_id)
        if self.link and kind != _EV_ALCOHOL_READING:
            self.link.kick()

    def record(self, kind, utc):
        self._event(kind, utc)

    def _read(self, now):
        utc = self.board.utc()
        try:
            tac, ir, skin, case = self.board.alcohol.sample()
        except OSError as e:  # a part not answering: said once, tried again at the next reading
            if not self.fault:
                self.fault = True
                self._event(_EV_SENSOR_FAULT, utc, 0, e.errno)
            self.loop.arm(self._sample, self.cfg["alc_sample_s"] * 1000)
            return
        self.fault = False
        self.read = (ir, skin, case)
        self._event(_EV_ALCOHOL_READING, utc, ir, tac, struct.pack("<hhI", skin, case, 0))
        r = self.rule
        said = r.update(utc, tac)
        if said & tacrule.STARTED:
            self._event(_EV_DRINKING, utc, 0, tac, struct.pack("<II", r.start_utc, 0))
        if said & tacrule.ENDED:
            self._event(_EV_DRINKING_ENDED, utc, 0, r.peak, struct.pack("<II", r.start_utc, r.peak_utc))
        if said & tacrule.SPIKE:
            self._event(_EV_ENVIRONMENTAL_ALCOHOL, utc, 0, r.spike_peak)
        seen = self.skin.update(tac, ir, skin, case)
        if seen == skinwatch.REMOVED:
            self._event(_EV_SENSOR_REMOVED, utc, ir, skin - case)
        elif seen == skinwatch.OBSTRUCTED:
            self._event(_EV_SENSOR_OBSTRUCTED, utc, ir, tac)
        elif seen == skinwatch.RESTORED:
            self._event(_EV_SENSOR_ON_SKIN, utc, ir, tac)
        self._save()
        s = self.cfg
        busy = tac >= s["alc_present_e4"] or r.open or r.rise_utc
        self.loop.arm(self._sample, (s["alc_present_sample_s"] if busy else s["alc_sample_s"]) * 1000)

    # what it decided survives a restart: an episode or a removal is reported once
    def _save(self):
        counter.atomic_write(self.board.storage + _STATE,
                             struct.pack(_STATE_FORMAT, *self.rule.state(), *self.skin.saved()))

    def _restore(self):
        try:
            with open(self.board.storage + _STATE, "rb") as f:
                s = struct.unpack(_STATE_FORMAT, f.read())
        except (OSError, ValueError):
            return
        self.rule.restore(s[:8])
        self.skin.restore(s[8], s[9])

    def _on_config(self, payload):
        if not self.order.take(payload, self.base_cfg, self.board.log, self._order_event, self._in_force):
            return
        if self.cfg["clear_tamper"] and (self.tamper.strap or self.tamper.case) and self.tamper.clear():
            self.record(frames.EV_FITTED, self.board.utc())

    def _in_force(self, settings, zones):
        self.cfg = settings
        self.rule.configure(settings)
        self.skin.configure(settings)

    def _order_event(self, kind, version):
        self._event(kind, self.board.utc(), depth_m=version)

    def _hears(self):
        m = self.modem
        return m.hears() if m is not None else _HEAR_LINK if self.link is not None else 0

    def _poll_console(self, now):
        con = self.board.console
        if con is not None and con.any():
            if self.diag is None:
                import diag

                self.diag = diag.Diag(self.board, self.base_cfg, self.record, self.counters, None, None, self.modem,
                                      self.store, self.link, self.tamper, self.power)
            self.diag.poll()

    def counters(self):
        r, k, lk = self.rule, self.skin, self.link
        ir, skin, case = self.read
        return ("tac_e4=%d episode=%d peak_e4=%d ir=%d ir_ref=%d skin_c10=%d case_c10=%d skin=%d fault=%d" % (
            r.last, r.open, r.peak, ir, k.ref, skin, case, k.state, self.fault),
                "heap_peak=%d queued=%d acked=%d sent=%d strap_tamper=%d case_tamper=%d battery_pct=%d" % (
                    self.board.heap_peak(), self.store.count, self.store.acked, lk.sent if lk else 0,
                    self.tamper.strap, self.tamper.case, self.power.pct))

    def _send_status(self, now):
        # the counters on the console, as a tag's STAT line (tagctl and the simulator read it)
        con = self.board.console
        if con is not None:
            con.write(b"STAT")
            for part in self.counters():
                con.write(b" ")
                con.write(part.encode())
            con.write(b"\n")
        self.loop.arm(self._status, self.cfg["status_period_s"] * 1000)
