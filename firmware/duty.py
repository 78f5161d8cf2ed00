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
    # it or the zone; -1: no zone in force); at_home(): the wearer is at home;
    # set_report_s(s): the link's reporting period (None: no link)
    def __init__(self, board, loop, nearest_ring_m, at_home, set_report_s):
        self._board = board
        self._loop = loop
        self._nearest_ring_m = nearest_ring_m
        self._at_home = at_home
        self._set_report_s = set_report_s
        self.on = True
        self.on_since = 0
        self.sleeps = 0
        self.held = False  # the home unit is heard: GNSS off until it is not
        self._wake = loop.timer(self._wake_up)
        board.gnss_power(True)

    def configure(self, s):
        self.enabled = s["adaptive"]
        self.max_sleep_s = s["max_fix_interval_s"]
        self.home_sleep_s = s["home_fix_interval_s"]
        self.near_m = s["near_zone_m"]
        self.near_report_s = s["report_period_s"]
        self.far_report_s = s["far_report_period_s"]
        self.home_report_s = s["home_report_period_s"]
        self.speed_cms = s["max_speed_mps"] * 100
        if self._set_report_s is not None:
            self._set_report_s(self.near_report_s)  # until the next fix says how far the zones are

    def hold(self, home):
        if not self.enabled:
            return
        self.held = home
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
        if not self.enabled or not self.on:
            return
        if not self.on_since:
            self.on_since = utc
        if utc - self.on_since < _ON_MIN_S:
            return
        sleep = self._sleep_for(speed_cms)
        if self._set_report_s is not None:  # breadcrumbs go up less often when nothing is near
            self._set_report_s(self.near_report_s if sleep <= 0 else
                               self.home_report_s if sleep == self.home_sleep_s else self.far_report_s)
        if sleep <= 0:
            return
        self._sleep()
        self._loop.arm(self._wake, sleep * 1000)

    def _sleep_for(self, speed_cms):
        nearest = self._nearest_ring_m()
        if 0 <= nearest < self.near_m:
            return 0
        if self._at_home() and speed_cms < 50:
            return self.home_sleep_s
        if nearest < 0:
            return self.max_sleep_s
        # the wearer cannot reach the ring before the next fix, at the fastest anyone moves
        reach_s = (nearest - self.near_m // 2) * 100 // self.speed_cms
        return max(0, min(self.max_sleep_s, reach_s))

    def _wake_up(self, now):
        self.on = True
        self.on_since = 0
        self._board.gnss_power(True)
