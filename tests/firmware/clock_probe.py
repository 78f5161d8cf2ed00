# Firmware-side helper for the clock tests (called through tests/mp/service.py): a
# board with an RTC that starts where it is told, and offers of time from sources.
import clock


class _Board:
    def __init__(self, rtc_ms):
        self.rtc_ms = rtc_ms
        self.logs = []

    def utc(self):
        return self.rtc_ms // 1000

    def utc_ms(self):
        return self.rtc_ms

    def set_utc_ms(self, ms):
        self.rtc_ms = ms

    def log(self, text):
        self.logs.append(text)


def offers(rtc_ms, steps):
    # steps: [source, utc_ms, advance_ms]; each offer made, then the RTC runs on.
    # Returns the RTC after each step and the log.
    board = _Board(rtc_ms)
    c = clock.Clock(board, 1)
    after = []
    for source, utc_ms, advance_ms in steps:
        getattr(c, "from_" + source)(utc_ms)
        after.append(board.rtc_ms)
        board.rtc_ms += advance_ms
    return {"after": after, "logs": board.logs, "shift": c.shift}
