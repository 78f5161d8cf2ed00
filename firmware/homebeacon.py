# The tag hears its home unit's signed beacon (verified as the unit verifies the
# tag's). While it does, the wearer is at home: GNSS may stay off (duty.py) and
# no fix is a lost location; arriving and leaving are recorded. The tag's own
# beacon goes out meanwhile (advertiser.py), for the unit's curfew.
# It listens in windows, not all the time: a scanning radio draws 85 mA through its
# scan window and keeps the chip out of light sleep. A window opens every two of the
# unit's longest intervals between adverts and closes at the first authentic one.
# At home it stays open until one comes, and home_lost_s without one is the wearer
# gone; away it closes after the unit's longest interval, and a little more.
import time

import beacon
from micropython import const

_EV_HOME = const(56)  # the tag hears its home unit (docs/frames.md)
_EV_AWAY = const(57)  # no longer hears it
_HEAR_RADIO = const(32)  # of board.wait()'s hears (docs/power.md): the radio scans
_SLACK_MS = const(2000)  # beyond the unit's longest interval: its advert's own event, and the clocks' drift


class HomeBeacon:
    # on_home(home): told when the wearer arrives home (True) or leaves (False)
    def __init__(self, board, loop, key, s, record, on_home):
        self._board = board
        self._loop = loop
        self._record = record
        self._on_home = on_home
        self.verifier = beacon.Verifier(key, beacon.HMU, int(s["hmu_beacon_id"], 16), s["beacon_mac_len"],
                                        s["beacon_fresh_s"])
        self.every_ms = 2 * s["beacon_max_ms"]
        self.lost_ms = s["home_lost_s"] * 1000
        self.away_ms = s["beacon_max_ms"] + _SLACK_MS
        self.home = False
        self.judged = False  # where the unit stands, since arriving (tag.py)
        self.listening = True  # a window open: the radio scans (the tag's hears say so)
        self._opened = board.ticks_ms()
        loop.poll(self._listen)
        self._turn = loop.timer(self._window)
        loop.arm(self._turn, self.away_ms)

    def hears(self):
        # what the board must hear while it waits: the beacon, while a window is open
        return _HEAR_RADIO if self.listening else 0

    def _listen(self, now):
        radio = self._board.radio
        while True:
            got = radio.recv()
            if got is None:
                return
            utc = self._board.utc()
            if self.verifier.verify(got[1], utc) == beacon.ACCEPT:
                if self.listening:  # heard: the window closes until the next
                    self.listening = False
                    self._next(now)
                if not self.home:
                    self._change(True, utc)

    def _window(self, now):
        if not self.listening:
            self.listening = True
            self._opened = now
            self._loop.arm(self._turn, self.lost_ms if self.home else self.away_ms)
            return
        self.listening = False  # a window that heard nothing
        if self.home:
            self._change(False, self._board.utc())
        self._next(now)

    def _next(self, now):
        # a cadence after this window opened, or after now if it outlasted the cadence
        left = self.every_ms - time.ticks_diff(now, self._opened)
        self._loop.arm(self._turn, left if left > 0 else self.every_ms)

    def _change(self, home, utc):
        self.home = home
        self._record(_EV_HOME if home else _EV_AWAY, utc, priority=False)
        self._on_home(home)
