# The tag application: GNSS in, fixes out over the link.
import gnss
import loop
import nmea
from micropython import const

_RX_CHUNK = const(256)
_CLOCK_SET_DAY = const(11323)  # 2001-01-01: an ESP32 RTC that was never set reads 2000


class App:
    def __init__(self, board, cfg):
        self.board = board
        self.cfg = cfg
        self.loop = loop.Loop(board)
        self.gnss = gnss.Gnss(self._on_fix)
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

    def _on_fix(self, fix):
        # Interim serial report, one line per epoch, until the framed link exists.
        self._send(
            "FIX %d %d %d %d %d %d %d %d\n"
            % (fix.utc(), fix.ms, fix.lat_e7, fix.lon_e7, fix.valid, fix.has_pos, fix.hdop, fix.sats_used)
        )

    def _send_status(self, now):
        g, fr = self.gnss, self.gnss.framer
        self._send(
            "STAT sentences=%d accepted=%d checksum=%d overlong=%d broken=%d"
            " unknown=%d malformed=%d fixes=%d\n"
            % (
                fr.count(nmea.C_SENTENCES),
                g.count(gnss.C_ACCEPTED),
                fr.count(nmea.C_CHECKSUM),
                fr.count(nmea.C_OVERLONG),
                fr.count(nmea.C_BROKEN),
                g.count(gnss.C_UNKNOWN),
                g.count(gnss.C_MALFORMED),
                g.count(gnss.C_FIXES),
            )
        )
        self.loop.arm(self._status, self.cfg["status_period_s"] * 1000)

    def _send(self, text):
        if self.board.link is not None:
            self.board.link.write(text.encode())
