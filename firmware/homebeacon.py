# The tag hears its home unit's signed beacon (verified as the unit verifies the
# tag's). While it does, the wearer is at home: GNSS may stay off (duty.py) and
# no fix is a lost location; arriving and leaving are recorded. The tag's own
# beacon goes out meanwhile (advertiser.py), for the unit's curfew.
import beacon
from micropython import const

_EV_HOME = const(56)  # the tag hears its home unit (docs/frames.md)
_EV_AWAY = const(57)  # no longer hears it


class HomeBeacon:
    # on_home(home): told when the wearer arrives home (True) or leaves (False)
    def __init__(self, board, loop, key, s, record, on_home):
        self._board = board
        self._loop = loop
        self._record = record
        self._on_home = on_home
        self.verifier = beacon.Verifier(key, beacon.HMU, int(s["hmu_beacon_id"], 16), s["beacon_mac_len"],
                                        s["beacon_fresh_s"])
        self.lost_s = s["home_lost_s"]
        self.home = False
        self.judged = False  # where the unit stands, since arriving (tag.py)
        loop.poll(self._listen)
        self._lost = loop.timer(self._gone)  # armed from each advert: no turn spent while it comes

    def _listen(self, now):
        radio = self._board.radio
        while True:
            got = radio.recv()
            if got is None:
                return
            utc = self._board.utc()
            if self.verifier.verify(got[1], utc) == beacon.ACCEPT:
                self._loop.arm(self._lost, self.lost_s * 1000)
                if not self.home:
                    self._change(True, utc)

    def _gone(self, now):
        self._change(False, self._board.utc())

    def _change(self, home, utc):
        self.home = home
        self._record(_EV_HOME if home else _EV_AWAY, utc, priority=False)
        self._on_home(home)
