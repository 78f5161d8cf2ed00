# Is the alcohol sensor on the skin (docs/alcohol.md)? Two ways to beat it:
# - removal: the tag slid off the ankle, strap still closed. The skin sensor
#   cools towards the case's, which reads the air: within `alc_removed_c10`
#   of it on two readings in a row.
# - obstruction: something slipped between skin and sensor. The IR proximity
#   reading moves out of its band about the reference taken when the tag was
#   worn, on two readings in a row, while the alcohol readings go flat.
# Each is said once, and "restored" once the readings are a worn tag's again.
from micropython import const

NOTHING = const(0)
REMOVED = const(1)
OBSTRUCTED = const(2)
RESTORED = const(3)
_REF_READINGS = const(4)  # readings averaged for the IR reference
_ON = const(0)
_OFF = const(1)  # removed
_BLOCKED = const(2)  # obstructed


class SkinWatch:
    def __init__(self, cfg):
        self.configure(cfg)
        self.ref = 0  # the IR reference, worn
        self._ref_n = 0
        self.state = _ON
        self._cool = 0  # readings in a row with skin and case alike
        self._odd = 0  # readings in a row with the IR out of band
        self._good = 0  # readings in a row as a worn tag's
        self._tacs = [-1, -1]  # the two readings before this one

    def configure(self, cfg):
        self.band = cfg["alc_ir_band_pct"]
        self.cool_c10 = cfg["alc_removed_c10"]
        self.flat = 2 * cfg["alc_noise_e4"]

    def update(self, tac, ir, skin_c10, case_c10):
        a, b = self._tacs
        flat = a >= 0 and abs(tac - b) <= self.flat and abs(b - a) <= self.flat
        self._tacs[0], self._tacs[1] = b, tac
        cool = skin_c10 - case_c10 <= self.cool_c10
        odd = self._ref_n >= _REF_READINGS and abs(ir - self.ref) * 100 > self.band * self.ref
        self._cool = self._cool + 1 if cool else 0
        self._odd = self._odd + 1 if odd else 0
        if self.state == _ON:
            if self._cool >= 2:
                self.state = _OFF
                return REMOVED
            if self._odd >= 2 and flat:
                self.state = _BLOCKED
                return OBSTRUCTED
            if not cool and not odd:
                self._learn(ir)
            return NOTHING
        self._good = self._good + 1 if not cool and not odd else 0
        if self._good >= 2:
            self.state, self._good = _ON, 0
            return RESTORED
        return NOTHING

    # what survives a restart: a removal is reported once
    def saved(self):
        return self.state, self.ref if self._ref_n >= _REF_READINGS else -1

    def restore(self, state, ref):
        if ref >= 0:
            self.state, self.ref, self._ref_n = state, ref, _REF_READINGS

    def _learn(self, ir):
        # the reference: the first readings' mean, then following slowly (sweat, a sock)
        if self._ref_n < _REF_READINGS:
            self._ref_n += 1
            self.ref += (ir - self.ref) // self._ref_n
        else:
            self.ref += (ir - self.ref) // 8
