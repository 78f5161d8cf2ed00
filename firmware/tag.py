# The tag application: GNSS in, fixes out over the link.
import binascii

import fixfilter
import gnss
import loop
import nmea
import zone
import zonewatch
from micropython import const

_RX_CHUNK = const(256)
_CLOCK_SET_DAY = const(11323)  # 2001-01-01: an ESP32 RTC that was never set reads 2000


class App:
    def __init__(self, board, cfg):
        self.board = board
        self.cfg = cfg
        self.loop = loop.Loop(board)
        self.gnss = gnss.Gnss(self._on_fix)
        self.filter = fixfilter.FixFilter(cfg)
        self.watches = [zonewatch.ZoneWatch(z, cfg) for z in self._load_zones(cfg["zones_file"])]
        today = board.utc() // 86400
        if today > _CLOCK_SET_DAY:  # a set clock is a better week-rollover reference
            self.gnss.ref_day = today
        self._rx = bytearray(_RX_CHUNK)
        self._idle = self.loop.timer(self._gnss_idle)
        self._status = self.loop.timer(self._send_status)
        self.loop.poll(self._poll_gnss)
        self.loop.arm(self._status, cfg["status_period_s"] * 1000)

    def run(self):
        self.board.log("emtag tag %s on %s" % (self.cfg["device_id"], self.board.name))
        self.loop.run()
        self._send_status(self.board.ticks_ms())

    def _poll_gnss(self, now):
        port = self.board.gnss
        if port is None:
            return
        got = False
        while True:
            n = port.readinto(self._rx)
            if not n:
                break
            self.gnss.feed(self._rx, n)
            got = True
        if got:
            self.loop.arm(self._idle, self.cfg["gnss_idle_ms"])

    def _gnss_idle(self, now):
        self.gnss.flush()

    def _load_zones(self, path):
        try:
            with open(path, "rb") as f:
                blob = f.read()
        except OSError:
            self.board.log("no zones file %s: no zones in force" % path)
            return []
        try:
            return zone.load_all(blob)
        except zone.ZoneError as e:
            self.board.log("zones file %s refused: %s" % (path, e))
            return []

    def _on_fix(self, fix):
        # Interim serial reports, one line per epoch and per event, until the framed link exists.
        self._send(
            "FIX %d %d %d %d %d %d %d %d\n"
            % (fix.utc(), fix.ms, fix.lat_e7, fix.lon_e7, fix.valid, fix.has_pos, fix.hdop, fix.sats_used)
        )
        if not self.watches:
            return
        unc = self.filter.uncertainty_cm(fix)
        if self.filter.judge(fix, self.board.utc_ms(), unc) != fixfilter.OK:
            return
        utc = fix.utc()
        for w in self.watches:
            if not w.zone.active(utc):
                if w.state != zonewatch.OUT:
                    w.reset()
                continue
            ev = w.update(fix.lat_e7, fix.lon_e7, unc, utc)
            if ev:
                self._send(
                    "EVT %d %s %d %d %d %d %d\n"
                    % (ev, binascii.hexlify(w.zone.id).decode(), w.first_utc, utc, w.depth_cm // 100,
                       fix.lat_e7, fix.lon_e7)
                )

    def _send_status(self, now):
        g, fr = self.gnss, self.gnss.framer
        self._send(
            "STAT sentences=%d accepted=%d checksum=%d overlong=%d broken=%d"
            " unknown=%d malformed=%d fixes=%d heap_peak=%d\n"
            % (
                fr.count(nmea.C_SENTENCES),
                g.count(gnss.C_ACCEPTED),
                fr.count(nmea.C_CHECKSUM),
                fr.count(nmea.C_OVERLONG),
                fr.count(nmea.C_BROKEN),
                g.count(gnss.C_UNKNOWN),
                g.count(gnss.C_MALFORMED),
                g.count(gnss.C_FIXES),
                self.board.heap_peak(),
            )
        )
        self.loop.arm(self._status, self.cfg["status_period_s"] * 1000)

    def _send(self, text):
        if self.board.link is not None:
            self.board.link.write(text.encode())
