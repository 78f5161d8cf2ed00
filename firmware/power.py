# Battery: millivolts through the board's divider to a Li-ion state of charge;
# a low event, and a critical one about half an hour before empty, each once
# until the battery has been charged back above the re-arm level; charging is
# seen in the voltage rising, and reported once each time it starts.
from micropython import const

# open-circuit voltage (mV) to percent, a typical single-cell Li-ion curve: (mV, %)
# pairs, highest first, in one flat tuple (one object in the heap, not one a pair)
_CURVE = (4200, 100, 4100, 90, 4000, 80, 3900, 66, 3800, 52, 3750, 42, 3700, 31,
          3650, 20, 3600, 12, 3550, 7, 3500, 4, 3400, 2, 3300, 0)
_LOW_PCT = const(20)
_CRITICAL_PCT = const(5)  # about 30 minutes of a 24-hour battery
_REARM_PCT = const(30)
_PERIOD_MS = const(60000)
_CHARGE_RISE_MV = const(20)  # a rise this big above the lowest of the last few samples: on charge
_RECENT = const(5)

# events this module sends (docs/frames.md)
_EV_BATTERY_LOW = const(30)
_EV_BATTERY_CRITICAL = const(31)
_EV_CHARGING = const(32)


def percent(mv):
    if mv >= _CURVE[0]:
        return 100
    for i in range(2, len(_CURVE), 2):
        hi_mv, hi_p, lo_mv, lo_p = _CURVE[i - 2], _CURVE[i - 1], _CURVE[i], _CURVE[i + 1]
        if mv >= lo_mv:
            return lo_p + (mv - lo_mv) * (hi_p - lo_p) // (hi_mv - lo_mv)
    return 0


class Power:
    def __init__(self, board, loop, record):
        self.board = board
        self.loop = loop
        self._record = record
        self.pct = 255
        self.low = self.critical = False
        self.charging = False
        self._recent = []  # the last few samples, oldest first
        self._timer = loop.timer(self._sample)
        loop.arm(self._timer, 0)

    def _sample(self, now):
        mv = self.board.battery_mv()
        self.pct = percent(mv)
        if self._recent:
            rising = mv - min(self._recent) >= _CHARGE_RISE_MV
            if rising and not self.charging:
                self._record(_EV_CHARGING, self.board.utc())
            if rising or mv < self._recent[-1]:
                self.charging = rising
        self._recent.append(mv)
        if len(self._recent) > _RECENT:
            self._recent.pop(0)
        if self.pct >= _REARM_PCT:
            self.low = self.critical = False
        if self.pct <= _CRITICAL_PCT and not self.critical:
            self.critical = self.low = True
            self._record(_EV_BATTERY_CRITICAL, self.board.utc())
        elif self.pct <= _LOW_PCT and not self.low:
            self.low = True
            self._record(_EV_BATTERY_LOW, self.board.utc())
        self.loop.arm(self._timer, _PERIOD_MS)
