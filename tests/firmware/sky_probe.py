# Firmware-side helper for the tag's location watch: fed epochs one second apart
# (jamming and spoofing), or its last fix judged when the home unit is heard (unit
# moved); with fakes for the board, the loop, the modem and the tag's parts.
import fixfilter
import gnss
import locwatch


class _Board:
    def __init__(self):
        self.now = 0

    def utc(self):
        return self.now


class _Loop:
    def timer(self, fn):
        return fn

    def arm(self, timer, delay_ms):
        pass


class _Modem:
    up = True

    def session_up(self):
        return self.up


def run(epochs, home, link):
    # epochs: [valid, sats_used, sats_view, snr_max, low] a second apart from 1000; the
    # watch checked every 10 s. Returns (second, event) recorded and the seconds whose
    # fix was not believed.
    board, modem, said, doubted = _Board(), _Modem(), [], []
    settings = {"location_lost_s": 100000, "home": [0, 0, 100] if home else []}
    w = locwatch.LocationWatch(board, _Loop(), lambda kind, utc: said.append([utc, kind]),
                               lambda: home, lambda: 32768, modem if link is not None else None)
    w.configure(settings)
    fix = gnss.Fix()
    for k, (valid, used, view, snr, low) in enumerate(epochs):
        board.now = 1000 + k
        modem.up = link is None or link[k]
        fix.valid, fix.sats_used, fix.sats_view, fix.snr_max, fix.low = valid, used, view, snr, low
        if w.judge(fix, board.now):
            doubted.append(board.now)
        if k % 10 == 9:
            w._check(0)
    return said, doubted



class _Tag:
    # what tag.App._home asks of the application: its duty cycle, store, power and
    # home beacon are this one fake, which keeps what they were told
    link = None

    def __init__(self, board, watch, home):
        self.board, self.locwatch, self.cfg = board, watch, {"home": home}
        self.duty = self.store = self.power = self.home_beacon = self
        self.pct, self.depth, self.judged, self.held = 50, -1, None, None

    def hold(self, home):
        self.held = home

    def append(self, kind, utc, lat, lon, flags, depth, pct):
        self.depth = depth


def unit_moved(home, fix, age_s, fresh):
    # home: [lat_e7, lon_e7, radius m]; fix: [lat_e7, lon_e7], taken age_s before the
    # tag hears its unit (fresh: the first fix beside it since). The tag's own rule
    # (tag.App._home) on fakes; returns the depth of the "unit moved" it raises (-1
    # none), whether the unit's place stands judged, and what GNSS was told to hold.
    import tag

    board = _Board()
    w = locwatch.LocationWatch(board, _Loop(), None, None, lambda: fixfilter.cos_q15(fix[0]), None)
    w.configure({"home": home})
    w.fix_utc, w.lat, w.lon = 1000000000, fix[0], fix[1]
    board.now = w.fix_utc + age_s
    app = _Tag(board, w, home)
    tag.App._home(app, True, fresh)
    return app.depth, app.judged, app.held
