# Millisecond ticks wrap at 2**30 on the boards (about 12.4 days): timers and the
# modem's registration limit must hold across the wrap. Run inside MicroPython.
import loop
import modem

_WRAP = 1 << 30


class _Uart:
    # a modem that answers every command OK and never registers (searching)
    def __init__(self):
        self.reply = b""

    def write(self, data):
        if bytes(data).endswith(b"\r"):
            head = b"+CREG: 0,2\r\n" if bytes(data).startswith(b"AT+CREG?") else b""
            self.reply += head + b"OK\r\n"
        return len(data)

    def readinto(self, buf):
        n = min(len(buf), len(self.reply))
        buf[:n] = self.reply[:n]
        self.reply = self.reply[n:]
        return n


class _Board:
    # virtual time whose ticks start just before the wrap
    def __init__(self, ticks_left):
        self.elapsed = 0
        self._start = _WRAP - ticks_left
        self.modem = _Uart()
        self.waits = 0
        self.feeds = 0
        self.stop_at = 0

    def ticks_ms(self):
        return (self._start + self.elapsed) & (_WRAP - 1)

    def feed(self):
        self.feeds += 1

    def wait(self, ms, hears):
        self.elapsed += 10 if ms < 0 else max(1, min(ms, 10))
        self.waits += 1

    def running(self):
        return self.elapsed < self.stop_at

    def modem_power(self, on):
        pass

    def modem_sleep(self, on):
        return False  # no DTR line

    def woke(self, source):
        return False  # nothing wakes it: it never sleeps

    def log(self, text):
        pass


def _cfg():
    return {"apn": "apn", "centre_host": "127.0.0.1", "centre_port": 7600}


def test_a_timer_fires_on_time_across_the_wrap():
    board = _Board(2000)
    lp = loop.Loop(board)
    fired = []
    t = lp.timer(lambda now: fired.append(board.elapsed))
    lp.arm(t, 5000)
    board.stop_at = 8000
    lp.run()
    assert fired == [5000], fired
    assert board.ticks_ms() < 10000  # the ticks did wrap
    assert board.feeds == board.waits > 0  # each turn feeds the watchdog before the board sleeps


def test_registration_gives_up_after_its_limit_across_the_wrap():
    board = _Board(30000)  # registration starts before the wrap and runs into it
    lp = loop.Loop(board)
    m = modem.Modem(board, lp, _cfg(), "sim800", lambda utc_ms: None)
    board.stop_at = 120000
    lp.run()
    assert m.failures >= 1, (m.state, m.failures)  # not polling a never-ending registration
