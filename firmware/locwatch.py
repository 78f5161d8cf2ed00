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
    def __init__(self, app):
        self.app = app
        cfg = app.base_cfg
        self.lost_after = cfg["location_lost_s"]
        home = cfg["home"]
        self.home = home if len(home) == 3 else None  # lat_e7, lon_e7, radius m
        self.lost = False
        self.shielded = False
        self.link_lost_utc = 0
        self.fix_utc = 0  # the last valid fix the tag believed: when, and where
        self.lat = self.lon = 0
        self._timer = app.loop.timer(self._check)
        app.loop.arm(self._timer, _CHECK_MS)

    def fixed(self, utc, lat_e7, lon_e7):
        self.fix_utc, self.lat, self.lon = utc, lat_e7, lon_e7

    def at_home(self):
        app = self.app
        if app.home_beacon is not None and app.home_beacon.home:
            return True
        if not self.home or not self.fix_utc:
            return False
        dy = (self.lat - self.home[0]) * 1113 // 100000  # metres
        dx = (self.lon - self.home[1]) * 1113 // 100000 * app.filter.cos >> 15
        return dx * dx + dy * dy <= self.home[2] * self.home[2]

    def _check(self, now):
        app = self.app
        utc = app.board.utc()
        since_fix = utc - self.fix_utc if self.fix_utc else 0
        if since_fix < self.lost_after:
            self.lost = False
        elif not self.lost and not self.at_home():
            self.lost = True
            app.record(_EV_LOCATION_LOST, utc)
        m = app.modem
        if m is not None:
            if m.state == 5:  # in session
                self.link_lost_utc = 0
                self.shielded = False
            elif not self.link_lost_utc:
                self.link_lost_utc = utc
            gnss_lost = self.fix_utc + 1 if self.fix_utc else 0
            if (not self.shielded and self.link_lost_utc and gnss_lost and since_fix >= _SHIELD_AFTER_S
                    and utc - self.link_lost_utc >= _SHIELD_AFTER_S
                    and abs(self.link_lost_utc - gnss_lost) <= _TOGETHER_S):
                self.shielded = True
                app.record(_EV_SHIELDING, utc)
        app.loop.arm(self._timer, _CHECK_MS)
