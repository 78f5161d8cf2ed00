# Adaptive sampling: the GNSS receiver is powered only as often as the wearer's
# distance from the nearest zone demands. Far from every zone (or at home) it
# sleeps until the wearer, at the fastest a person moves, could have come within
# reach of a zone's warning ring, and never longer than the statutory fix
# interval; near a zone, or moving fast towards one, it stays on at 1 Hz. The
# link's reporting period follows the same distance (breaches still go at once).
from micropython import const

_ON_MIN_S = const(8)  # after waking: time to a hot-start fix and a few confirming fixes


class DutyCycle:
    # nearest_ring_m(): metres to the nearest zone in force's warning ring (0: in
    # it or the zone; -1: no zone in force); place: its at_home(); link: its
    # report_every(s), the reporting period (None: no link)
    def __init__(self, board, loop, nearest_ring_m, place, link):
        self._board = board
        self._loop = loop
        self._nearest_ring_m = nearest_ring_m
        self._place = place
        self._link = link
        self.on = True
        self.on_since = 0
        self.sleeps = 0
        self._wake = loop.timer(self._wake_up)
        board.gnss_power(True)

    def configure(self, s):
        # kept, not copied into attributes: the settings in force are in the heap anyway
        self._s = s
        if self._link is not None:
            self._link.report_every(s["report_period_s"])  # until the next fix says how far the zones are

    def hold(self, home):
        # the home unit heard (GNSS off until it is not) or lost
        if not self._s["adaptive"]:
            return
        if home and self.on:
            self._loop.disarm(self._wake)
            self._sleep()
        elif not home and not self.on:
            self._wake_up(0)

    def _sleep(self):
        self.on = False
        self.sleeps += 1
        self._board.gnss_power(False)

    def after_fix(self, utc, speed_cms):
        # Called with every accepted fix: sleep now, and for how long?
        s = self._s
        if not s["adaptive"] or not self.on:
            return
        if not self.on_since:
            self.on_since = utc
        if utc - self.on_since < _ON_MIN_S:
            return
        sleep = self._sleep_for(s, speed_cms)
        if self._link is not None:  # breadcrumbs go up less often when nothing is near
            if sleep <= 0:
                self._link.report_every(s["report_period_s"])
            elif sleep == s["home_fix_interval_s"]:
                self._link.report_every(s["home_report_period_s"])
            else:
                self._link.report_every(s["far_report_period_s"])
        if sleep <= 0:
            return
        self._sleep()
        self._loop.arm(self._wake, sleep * 1000)

    def _sleep_for(self, s, speed_cms):
        nearest = self._nearest_ring_m()
        near_m = s["near_zone_m"]
        if 0 <= nearest < near_m:
            return 0
        if self._place.at_home() and speed_cms < 50:
            return s["home_fix_interval_s"]
        if nearest < 0:
            return s["max_fix_interval_s"]
        # the wearer cannot reach the ring before the next fix, at the fastest anyone moves
        reach_s = (nearest - near_m // 2) // s["max_speed_mps"]
        return max(0, min(s["max_fix_interval_s"], reach_s))

    def _wake_up(self, now):
        self.on = True
        self.on_since = 0
        self._board.gnss_power(True)
