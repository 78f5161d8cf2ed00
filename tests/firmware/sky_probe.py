# Firmware-side helper for the jamming and spoofing tests: the tag's location watch
# fed epochs one second apart, with fakes for the board, the loop and the modem.
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
