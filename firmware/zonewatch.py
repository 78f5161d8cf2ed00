# One state machine per zone: entry needs depth beyond the fix's uncertainty plus
# a margin, over consecutive fixes; exit needs the same distance plus hysteresis
# the other way; the warning ring works alike. Only fixes the FixFilter passed
# reach it, and an inactive (out of schedule) zone decides nothing.
import zone as zonemod
from micropython import const

OUT = const(0)
_WARN = const(1)
_IN = const(2)

# events
ENTER = const(1)  # breach of an exclusion zone, or leaving an inclusion zone
EXIT = const(2)
WARN_ENTER = const(3)
WARN_EXIT = const(4)

_FAR_CM = const(100000000)


class ZoneWatch:
    def __init__(self, z, cfg):
        self.zone = z
        self.state = OUT
        self.margin_cm = cfg["margin_m"] * 100
        self.hyst_cm = cfg["hysteresis_m"] * 100
        self.confirm = cfg["confirm_fixes"]
        self.warn_cm = z.warning_m * 100
        self._streak = 0  # consecutive fixes for the transition in view
        self._target = OUT
        self.first_utc = -1  # time of the first fix of the current streak
        self.depth_cm = -_FAR_CM  # at the last fix, toward violation

    def violation_depth(self, lat_e7, lon_e7):
        # Depth into the forbidden side: inside an exclusion zone, outside an inclusion zone.
        d = self.zone.depth_cm(lat_e7, lon_e7)
        return -d if self.zone.kind == zonemod.INCLUSION else d

    def ring_m(self):
        # metres to the warning ring at the last fix: 0 in the ring or the zone
        if self.state != OUT:
            return 0
        return max(0, (-self.depth_cm - self.warn_cm) // 100)

    def reset(self):
        self.state = OUT
        self._streak = 0
        self._target = OUT

    def update(self, lat_e7, lon_e7, unc_cm, utc):
        # One accepted fix; returns the event it confirms, or 0.
        d = self.violation_depth(lat_e7, lon_e7)
        self.depth_cm = d
        s = self.state
        if d >= unc_cm + self.margin_cm:
            target = _IN
        elif s == _IN and d > -(unc_cm + self.hyst_cm):
            target = _IN  # not yet clearly out
        elif self.warn_cm and d >= -self.warn_cm:
            target = _WARN
        elif s == _WARN and d >= -(self.warn_cm + self.hyst_cm):
            target = _WARN
        else:
            target = OUT
        if target == s:
            self._streak = 0
            return 0
        if target != self._target or self._streak == 0:
            self._target = target
            self._streak = 0
            self.first_utc = utc
        self._streak += 1
        if self._streak < self.confirm:
            return 0
        self._streak = 0
        self.state = target
        if target == _IN:
            return ENTER
        if s == _IN:
            return EXIT
        return WARN_ENTER if target == _WARN else WARN_EXIT
