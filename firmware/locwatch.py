# Location loss: no valid fix for location_lost_s while away from home is its own
# event (a tag indoors at home is not lost); GNSS and the cellular link going
# silent together, as under foil or a jammer, raises "shielding suspected"; GNSS
# alone buried under noise while the link works, "jamming suspected"; a fix whose
# satellites all arrive at one strong power (one transmitter), "spoofing suspected".
# Each is raised once and re-armed when a fix (and the link) come back.
from micropython import const

_CHECK_MS = const(10000)
_TOGETHER_S = const(60)  # the two losses this close in time count as one act
_SHIELD_AFTER_S = const(120)  # and must last this long
_JAM_SNR = const(20)  # every satellite listed weaker than this (dB-Hz), and no fix ...
_JAM_SATS = const(4)  # ... with at least this many listed ...
_JAM_AFTER_S = const(60)  # ... this long: jamming
_SPOOF_SNR = const(40)  # every satellite at least this strong ...
_SPOOF_SPREAD = const(2)  # ... and within this of each other (dB-Hz) ...
_SPOOF_SATS = const(6)  # ... of at least this many used ...
_SPOOF_FIXES = const(10)  # ... for this many fixes in a row: spoofing

# events this module sends (docs/frames.md)
_EV_LOCATION_LOST = const(40)
_EV_SHIELDING = const(41)  # GNSS and the cellular link lost together
_EV_JAMMING = const(42)
_EV_SPOOFING = const(43)


class LocationWatch:
    # hears_home(): the home unit's beacon is heard; lon_scale(): cos(latitude) in
    # Q15 where the wearer is; modem: its session_up() (None: no modem). Objects
    # rather than bound methods where one will do: each bound method is a heap block.
    def __init__(self, board, loop, record, hears_home, lon_scale, modem):
        self._board = board
        self._loop = loop
        self._record = record
        self._hears_home = hears_home
        self._lon_scale = lon_scale
        self._modem = modem
        self.lost = False
        self.shielded = False
        self.link_lost_utc = 0
        self.fix_utc = 0  # the last valid fix the tag believed: when, and where (the tag sets them)
        self.lat = self.lon = 0
        # (names the interpreter already holds: on a ROMFS board each new one costs heap)
        self.start = 0  # since when the sky has looked jammed; -1 reported
        self.count = 0  # fixes in a row from one transmitter
        self._timer = loop.timer(self._check)
        loop.arm(self._timer, _CHECK_MS)

    def configure(self, s):
        self._s = s  # the settings in force, from the application before the first check

    def judge(self, fix, utc):
        # One epoch's signals; whether its fix must not be believed.
        if fix.valid:
            self.start = 0
            low = fix.low
            one = fix.sats_used >= _SPOOF_SATS and low >= _SPOOF_SNR and fix.snr_max - low <= _SPOOF_SPREAD
            self.count = self.count + 1 if one else 0
            if self.count == _SPOOF_FIXES:
                self._record(_EV_SPOOFING, utc)
            return self.count > 0
        if fix.sats_view < _JAM_SATS or fix.snr_max >= _JAM_SNR:
            self.start = 0
        elif not self.start:
            self.start = utc
        return False

    def at_home(self):
        if self._hears_home():
            return True
        d2 = self.home_m2()
        return 0 <= d2 <= self._s["home"][2] ** 2

    def home_m2(self):
        # the last fix's squared distance in metres from the registered home; -1 unknown
        home = self._s["home"]  # lat_e7, lon_e7, radius m, or none
        if len(home) != 3 or not self.fix_utc:
            return -1
        dy = (self.lat - home[0]) * 1113 // 100000  # metres
        dx = (self.lon - home[1]) * 1113 // 100000 * self._lon_scale() >> 15
        return dx * dx + dy * dy

    def _check(self, now):
        utc = self._board.utc()
        since_fix = utc - self.fix_utc if self.fix_utc else 0
        if since_fix < self._s["location_lost_s"]:
            self.lost = False
        elif not self.lost and not self.at_home():
            self.lost = True
            self._record(_EV_LOCATION_LOST, utc)
        jam = self.start
        if jam > 0 and utc - jam >= _JAM_AFTER_S and not self.at_home() and (
                self._modem is None or self._modem.session_up()):
            self.start = -1
            self._record(_EV_JAMMING, utc)
        if self._modem is not None:
            if self._modem.session_up():
                self.link_lost_utc = 0
                self.shielded = False
            elif not self.link_lost_utc:
                self.link_lost_utc = utc
            gnss_lost = self.fix_utc + 1 if self.fix_utc else 0
            if (not self.shielded and self.link_lost_utc and gnss_lost and since_fix >= _SHIELD_AFTER_S
                    and utc - self.link_lost_utc >= _SHIELD_AFTER_S
                    and abs(self.link_lost_utc - gnss_lost) <= _TOGETHER_S):
                self.shielded = True
                self._record(_EV_SHIELDING, utc)
        self._loop.arm(self._timer, _CHECK_MS)
