# Adaptive sampling: the GNSS receiver is powered only as often as the wearer's
# distance from the nearest zone demands. Far from every zone (or at home) it
# sleeps until the wearer, at the fastest a person moves, could have come within
# reach of a zone's warning ring, and never longer than the statutory fix
# interval; near a zone, or moving fast towards one, it stays on at 1 Hz. The
# link's reporting period follows the same distance (breaches still go at once).
from micropython import const

_ON_MIN_S = const(8)  # after waking: time to a hot-start fix and a few confirming fixes


class DutyCycle:
    def __init__(self, app):
        self.app = app
        cfg = app.base_cfg
        self.enabled = cfg["adaptive"]
        self.max_sleep_s = cfg["max_fix_interval_s"]
        self.home_sleep_s = cfg["home_fix_interval_s"]
        self.near_m = cfg["near_zone_m"]
        self.near_period_ms = cfg["report_period_s"] * 1000
        self.far_period_ms = cfg["far_report_period_s"] * 1000
        self.home_period_ms = cfg["home_report_period_s"] * 1000
        self.speed_cms = cfg["max_speed_mps"] * 100
        self.on = True
        self.on_since = 0
        self.sleeps = 0
        self.held = False  # the home unit is heard: GNSS off until it is not
        self._wake = app.loop.timer(self._wake_up)
        app.board.gnss_power(True)

    def hold(self, home):
        if not self.enabled:
            return
        self.held = home
        if home and self.on:
            self.app.loop.disarm(self._wake)
            self._sleep()
        elif not home and not self.on:
            self._wake_up(0)

    def _sleep(self):
        self.on = False
        self.sleeps += 1
        self.app.board.gnss_power(False)

    def after_fix(self, utc, speed_cms):
        # Called with every accepted fix: sleep now, and for how long?
        if not self.enabled or not self.on:
            return
        if not self.on_since:
            self.on_since = utc
        if utc - self.on_since < _ON_MIN_S:
            return
        sleep = self._sleep_for(speed_cms)
        lk = self.app.link
        if lk is not None:  # breadcrumbs go up less often when nothing is near
            lk.period_ms = (self.near_period_ms if sleep <= 0 else
                            self.home_period_ms if sleep == self.home_sleep_s else self.far_period_ms)
        if sleep <= 0:
            return
        self._sleep()
        self.app.loop.arm(self._wake, sleep * 1000)

    def _sleep_for(self, speed_cms):
        app = self.app
        nearest = None  # metres to the nearest active zone's warning ring (0: in it)
        for w in app.watches:
            if w.state != 0:
                return 0  # inside a zone or its ring: watch every second
            d = max(0, (-w.depth_cm - w.warn_cm) // 100)
            if nearest is None or d < nearest:
                nearest = d
        if nearest is not None and nearest < self.near_m:
            return 0
        if app.locwatch.at_home() and speed_cms < 50:
            return self.home_sleep_s
        if nearest is None:
            return self.max_sleep_s
        # the wearer cannot reach the ring before the next fix, at the fastest anyone moves
        reach_s = (nearest - self.near_m // 2) * 100 // self.speed_cms
        return max(0, min(self.max_sleep_s, reach_s))

    def _wake_up(self, now):
        self.on = True
        self.on_since = 0
        self.app.board.gnss_power(True)
