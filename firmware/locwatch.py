# Location loss: no valid fix for location_lost_s while away from home is its own
# event (a tag indoors at home is not lost); GNSS and the cellular link going
# silent together, as under foil or a jammer, raises "shielding suspected".
# Each is raised once and re-armed when a fix (and the link) come back.
from micropython import const

_CHECK_MS = const(10000)
_TOGETHER_S = const(60)  # the two losses this close in time count as one act
_SHIELD_AFTER_S = const(120)  # and must last this long

# events this module sends (docs/frames.md)
_EV_LOCATION_LOST = const(40)
_EV_SHIELDING = const(41)  # GNSS and the cellular link lost together


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
        self.fix_utc = 0  # the last valid fix the tag believed: when, and where
        self.lat = self.lon = 0
        self._timer = loop.timer(self._check)
        loop.arm(self._timer, _CHECK_MS)

    def configure(self, s):
        self._s = s  # the settings in force, from the application before the first check

    def fixed(self, utc, lat_e7, lon_e7):
        self.fix_utc, self.lat, self.lon = utc, lat_e7, lon_e7

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
