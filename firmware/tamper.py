# Strap and case tamper: a break is time-stamped on the turn it is seen (the loop
# turns at least once a second), stored, sent at once, and latched on flash: it
# never clears itself, only by an authenticated command or a technician's re-fit.
import counter
from micropython import const

# events this module sends (docs/frames.md)
_EV_TAMPER_STRAP = const(20)
_EV_TAMPER_CASE = const(21)

_FILE = "/tamper.state"


class Tamper:
    def __init__(self, board, record):
        self.board = board
        self._record = record  # record(kind, utc): store the event and send it
        self.path = board.storage + _FILE
        self.strap = self.case = False  # latched
        try:
            with open(self.path, "rb") as f:
                data = f.read(2)
            self.strap, self.case = data[0] == 1, data[1] == 1
        except (OSError, IndexError):
            pass

    def poll(self, now):
        b = self.board
        if not self.strap and b.has_strap and not b.strap_closed():
            self.strap = True
            self._latch(_EV_TAMPER_STRAP)
        if not self.case and b.has_case and not b.case_closed():
            self.case = True
            self._latch(_EV_TAMPER_CASE)

    def _latch(self, kind):
        self._save()
        self._record(kind, self.board.utc())

    def clear(self):
        # a re-fit: only for a strap and case that are whole again (those the board has)
        b = self.board
        if (not b.has_strap or b.strap_closed()) and (not b.has_case or b.case_closed()):
            self.strap = self.case = False
            self._save()
            return True
        return False

    def _save(self):
        counter.atomic_write(self.path, bytes((1 if self.strap else 0, 1 if self.case else 0)))
