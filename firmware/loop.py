# The cooperative, deadline-driven main loop: each turn runs what is due, then
# asks the board to wait until the next deadline or input. No threads.
import time

from micropython import const

_IDLE = const(-1)  # no deadline: wait for input
# a timer is a list [fn, due ticks, armed]: lighter in the heap than an object
_FN = const(0)
_DUE = const(1)
_ARMED = const(2)


def _hears_nothing():
    return 0


class Loop:
    def __init__(self, board):
        self.board = board
        self._timers = []
        self._pollers = []
        self.hears = _hears_nothing  # the application's: what the board must hear while it waits

    def poll(self, fn):
        # fn(now) runs every turn (to drain ports).
        self._pollers.append(fn)

    def timer(self, fn):
        # fn(now) runs once when the timer is due after arm()
        t = [fn, 0, False]
        self._timers.append(t)
        return t

    def arm(self, timer, delay_ms):
        timer[_DUE] = time.ticks_add(self.board.ticks_ms(), delay_ms)
        timer[_ARMED] = True

    def disarm(self, timer):
        timer[_ARMED] = False

    def run(self):
        board = self.board
        while board.running():
            now = board.ticks_ms()
            for fn in self._pollers:
                fn(now)
            for t in self._timers:
                if t[_ARMED] and time.ticks_diff(t[_DUE], now) <= 0:
                    t[_ARMED] = False
                    t[_FN](now)  # may arm any timer, this one or one already passed
            wait = _IDLE  # the next deadline, once every timer is as the turn left it
            for t in self._timers:
                if t[_ARMED]:
                    left = time.ticks_diff(t[_DUE], now)
                    if wait < 0 or left < wait:
                        wait = left if left > 0 else 0
            hears = self.hears()
            board.feed()  # a whole turn done: the watchdog waits again (the board sleeps less than it allows)
            board.wait(wait, hears)
