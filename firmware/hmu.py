# The home monitoring unit application. For now: a heartbeat with mains and
# battery state on its console; beacon scanning and curfews come with the RF work.
import loop


class App:
    def __init__(self, board, cfg):
        self.board = board
        self.cfg = cfg
        self.loop = loop.Loop(board)
        self._beat = self.loop.timer(self._heartbeat)
        self.loop.arm(self._beat, 0)

    def run(self):
        self.board.log("emtag hmu %s on %s" % (self.cfg["device_id"], self.board.name))
        self.loop.run()

    def _heartbeat(self, now):
        b = self.board
        if b.console is not None:
            b.console.write(b"BEAT %d mains=%d battery_mv=%d\n" % (b.utc(), b.mains_present(), b.battery_mv()))
        self.loop.arm(self._beat, self.cfg["heartbeat_period_s"] * 1000)
