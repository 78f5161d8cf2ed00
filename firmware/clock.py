# The board's real-time clock as the firmware keeps it. An ESP32 powers on with
# its RTC at 2000-01-01 (a brown-out or a flat battery does the same), so the
# firmware sets it: the tag from a valid GNSS fix, either device from the centre's
# authenticated acknowledgement or the cell's time through the modem; a better
# source corrects what a worse one set, never the other way. Events this
# boot stamped before it was set are restamped as they are sent; an unset stamp
# from an earlier boot goes as 0, "time unknown", and the centre stamps it on
# receipt (docs/frames.md). Never a 2000 date at the centre.
from micropython import const

_SET_DAY = const(19723)  # 2024-01-01: a clock that reads earlier was never set
_SLACK_MS = const(1000)  # a better source corrects the clock only when it is this far off
# the sources, worst first: each corrects what a worse one set
_NONE = const(0)
_CELL = const(1)  # the network's time (NITZ) through the modem: a second or two off
_CENTRE = const(2)  # the centre's authenticated acknowledgement: good to a link's latency
_GNSS = const(3)


def _set_era(utc):
    return utc // 86400 >= _SET_DAY


class Clock:
    def __init__(self, board, first_seq):
        self._board = board
        self.first_seq = first_seq  # the first event this boot stamped
        self.shift = 0  # seconds the clock moved when this boot first set it
        # a clock set before this boot (a soft reset keeps the RTC): no better than the cell's
        self._source = _CELL if self.is_set() else _NONE

    def is_set(self):
        return _set_era(self._board.utc())

    def from_gnss(self, utc_ms):
        self._offer(utc_ms, _GNSS, "gnss")

    def from_centre(self, utc_ms):
        self._offer(utc_ms, _CENTRE, "centre")

    def from_cell(self, utc_ms):
        self._offer(utc_ms, _CELL, "cell")

    def _offer(self, utc_ms, source, name):
        # a time from a source at least as good as the one that set the clock: taken when
        # the clock is unset or this far off
        if source < self._source or not _set_era(utc_ms // 1000):
            return
        self._source = source
        if not self.is_set():
            self.shift = utc_ms // 1000 - self._board.utc()
            self._board.log("clock set from " + name)
            self._board.set_utc_ms(utc_ms)
            return
        off = self._board.utc_ms() - utc_ms
        if off > _SLACK_MS or -off > _SLACK_MS:
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
