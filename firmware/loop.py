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
        self._soonest = _IDLE  # ms to the next deadline, as this turn has armed and found them

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
        if self._soonest < 0 or delay_ms < self._soonest:
            self._soonest = delay_ms if delay_ms > 0 else 0

    def disarm(self, timer):
        timer[_ARMED] = False

    def run(self):
        board = self.board
        while board.running():
            now = board.ticks_ms()
            self._soonest = _IDLE
            for fn in self._pollers:
                fn(now)
            # one pass: what is due runs, the rest says how long to wait; a timer
            # armed meanwhile (this one, or one already passed) tells arm() instead
            for t in self._timers:
                if t[_ARMED]:
                    left = time.ticks_diff(t[_DUE], now)
                    if left <= 0:
                        t[_ARMED] = False
                        t[_FN](now)
                    elif self._soonest < 0 or left < self._soonest:
                        self._soonest = left
            hears = self.hears()
            board.feed()  # a whole turn done: the watchdog waits again (the board sleeps less than it allows)
            board.wait(self._soonest, hears)
