# The board's real-time clock as the firmware keeps it. An ESP32 powers on with
# its RTC at 2000-01-01 (a brown-out or a flat battery does the same), so the
# firmware sets it: the tag from a valid GNSS fix, either device from the
# network while it is still unset (the centre's authenticated acknowledgement,
# or the cell's time through the modem). Events this
# boot stamped before it was set are restamped as they are sent; an unset stamp
# from an earlier boot goes as 0, "time unknown", and the centre stamps it on
# receipt (docs/frames.md). Never a 2000 date at the centre.
from micropython import const

_SET_DAY = const(19723)  # 2024-01-01: a clock that reads earlier was never set
_SLACK_MS = const(1000)  # GNSS corrects a set clock only when it is this far off


def _set_era(utc):
    return utc // 86400 >= _SET_DAY


class Clock:
    def __init__(self, board, first_seq):
        self._board = board
        self.first_seq = first_seq  # the first event this boot stamped
        self.shift = 0  # seconds the clock moved when this boot first set it

    def is_set(self):
        return _set_era(self._board.utc())

    def from_gnss(self, utc_ms):
        # a valid fix's time: it sets the clock, and corrects it when it has drifted
        now = self._board.utc_ms()
        if now - utc_ms > _SLACK_MS or utc_ms - now > _SLACK_MS:
            self._set(utc_ms, "gnss")

    def from_centre(self, utc_ms):
        # the centre's time in an authentic acknowledgement: good to a link's latency
        self._provisional(utc_ms, "centre")

    def from_cell(self, utc_ms):
        # the network's time (NITZ) through the modem: good to a few seconds
        self._provisional(utc_ms, "cell")

    def _provisional(self, utc_ms, source):
        # only for a clock that has nothing better
        if not self.is_set() and _set_era(utc_ms // 1000):
            self._set(utc_ms, source)

    def _set(self, utc_ms, source):
        if not self.is_set():
            self.shift = utc_ms // 1000 - self._board.utc()
            self._board.log("clock set from " + source)
        self._board.set_utc_ms(utc_ms)

    def now(self):
        # UTC seconds to put on the wire: 0 while the clock is unset
        t = self._board.utc()
        return t if _set_era(t) else 0

    def stamp(self, seq, utc):
        # an event's UTC as the centre should see it: restamped if this boot's unset
        # clock stamped it and the clock has been set since; 0 if nobody can know
        if _set_era(utc):
            return utc
        if seq >= self.first_seq and self.shift:
            return utc + self.shift
        return 0
