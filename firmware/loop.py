# The cooperative, deadline-driven main loop: each turn runs what is due, then
# asks the board to wait until the next deadline or input. No threads.
import time

_IDLE = -1  # no deadline: wait for input


class Timer:
    def __init__(self, fn):
        self.fn = fn
        self.due = 0
        self.armed = False


class Loop:
    def __init__(self, board):
        self.board = board
        self._timers = []
        self._pollers = []

    def poll(self, fn):
        # fn(now) runs every turn (to drain ports).
        self._pollers.append(fn)

    def timer(self, fn):
        t = Timer(fn)
        self._timers.append(t)
        return t

    def arm(self, timer, delay_ms):
        timer.due = time.ticks_add(self.board.ticks_ms(), delay_ms)
        timer.armed = True

    def run(self):
        board = self.board
        while board.running():
            now = board.ticks_ms()
            for fn in self._pollers:
                fn(now)
            wait = _IDLE
            for t in self._timers:
                if not t.armed:
                    continue
                left = time.ticks_diff(t.due, now)
                if left <= 0:
                    t.armed = False
                    t.fn(now)  # may re-arm itself
                    if not t.armed:
                        continue
                    left = time.ticks_diff(t.due, now)
                if wait < 0 or left < wait:
                    wait = left
            board.wait(wait)
