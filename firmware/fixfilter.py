# Which fixes may decide anything: valid, fresh, accurate enough, and where the
# wearer could have got to. A multipath jump moves the position but not the
# receiver's Doppler speed, so a fix farther from the last good one than its
# reported speed allows (plus both fixes' uncertainty) is set aside.
from micropython import const

OK = const(0)
_INVALID = const(1)  # not a fix by the validity rule (no fix, dead reckoning, ...)
_STALE = const(2)  # older than max_age_s, or no time
_POOR = const(3)  # uncertainty above max_uncertainty_m
_JUMP = const(4)  # farther than the wearer could have moved
_SETTLING = const(5)  # no trusted position yet: the first fixes must agree with each other

_LONG_GAP_MS = const(30000)  # after a gap this long the current speed says nothing


def cos_q15(lat_e7):
    # cos(latitude) * 32768 by its series to x**8 (error below 2e-5 up to 70 degrees)
    x = lat_e7 * 102944 // 1800000000  # radians in Q15 (pi * 2**15 = 102944)
    x2 = x * x >> 15
    term = 32768
    c = 32768
    for k in (1, 3, 5, 7):
        term = -(term * x2 >> 15) // (k * (k + 1))
        c += term
    return c


class FixFilter:
    def __init__(self, cfg):
        self.uere_cm = cfg["uere_m"] * 100
        self.min_unc_cm = cfg["min_uncertainty_m"] * 100
        self.max_unc_cm = cfg["max_uncertainty_m"] * 100
        self.max_age_ms = cfg["max_age_s"] * 1000
        self.max_speed_cms = cfg["max_speed_mps"] * 100
        self.reanchor = cfg["reanchor_fixes"]
        self.settle = cfg["settle_fixes"]
        self.has_anchor = False
        self.settled = 0  # consecutive agreeing fixes before the first anchor
        self.lat = self.lon = 0
        self.t_ms = 0
        self.unc_cm = 0
        self.cos = 32768
        self.rejected = 0  # consecutive jumps
        self.counts = [0, 0, 0, 0, 0, 0]

    def uncertainty_cm(self, fix):
        # Horizontal uncertainty: 2 x HDOP x UERE (about 95 %), never below the floor;
        # without an HDOP a fix counts as poor.
        if fix.hdop < 0:
            return self.max_unc_cm + 1
        u = 2 * fix.hdop * self.uere_cm // 100
        return u if u > self.min_unc_cm else self.min_unc_cm

    def judge(self, fix, now_ms, unc_cm):
        # OK, or why this fix decides nothing. OK fixes become the new anchor.
        r = self._judge(fix, now_ms, unc_cm)
        self.counts[r] += 1
        return r

    def _judge(self, fix, now_ms, unc_cm):
        if not fix.valid:
            return _INVALID
        t = fix.utc()
        if t < 0:
            return _STALE
        t_ms = t * 1000 + fix.ms % 1000
        if now_ms - t_ms > self.max_age_ms or t_ms - now_ms > self.max_age_ms:
            return _STALE
        if unc_cm > self.max_unc_cm:
            return _POOR
        if self.t_ms and t_ms > self.t_ms and self._too_far(fix, unc_cm, t_ms - self.t_ms):
            if not self.has_anchor:
                self.settled = 0  # the first fixes disagree: start settling again from this one
            else:
                self.rejected += 1
                if self.rejected < self.reanchor:
                    return _JUMP
        if not self.has_anchor:
            self.settled += 1
            self._hold(fix, t_ms, unc_cm)
            if self.settled < self.settle:
                return _SETTLING
        self.rejected = 0
        self.has_anchor = True
        self._hold(fix, t_ms, unc_cm)
        return OK

    def _hold(self, fix, t_ms, unc_cm):
        if not self.t_ms or abs(fix.lat_e7 - self.lat) > 1000000:
            self.cos = cos_q15(fix.lat_e7)
        self.lat, self.lon, self.t_ms, self.unc_cm = fix.lat_e7, fix.lon_e7, t_ms, unc_cm

    def _too_far(self, fix, unc_cm, dt):
        dy = (fix.lat_e7 - self.lat) * 1113 // 1000
        dx = (fix.lon_e7 - self.lon) * 1113 // 1000 * self.cos >> 15
        dist = dx if dx > 0 else -dx
        ady = dy if dy > 0 else -dy
        dist = dist + ady // 2 if dist > ady else ady + dist // 2  # within 12 % of hypot
        v = self.max_speed_cms
        if fix.speed_cms >= 0 and dt < _LONG_GAP_MS:
            v = min(v, fix.speed_cms * 3 // 2 + 100)
        # consecutive fixes share most of their error (it drifts slowly): the larger
        # uncertainty of the two, not their sum
        allowed = max(unc_cm, self.unc_cm) + 500 + v * dt // 1000
        return dist * 8 > allowed * 9  # dist overstates by up to 12 %: give that back
