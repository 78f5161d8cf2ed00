# The curfew: weekly windows in London local time (ukclock, so both clock changes
# keep their local hours), one-off changes from the configuration that override
# the week ([from UTC, to UTC, 1 in force | 0 lifted]), and grace at both ends:
# enforced from late_return_grace_s after curfew starts until
# early_leave_grace_s before it ends.
import ukclock


class Curfew:
    def __init__(self, cfg):
        self.windows = [tuple(w) for w in cfg["curfew"]]
        self.changes = cfg["curfew_changes"]
        self.late = cfg["late_return_grace_s"]
        self.early = cfg["early_leave_grace_s"]

    def scheduled(self, utc):
        for start, end, in_force in self.changes:
            if start <= utc < end:
                return in_force == 1
        return bool(self.windows) and ukclock.in_windows(self.windows, utc)

    def enforced(self, utc):
        return self.scheduled(utc) and self.scheduled(utc - self.late) and self.scheduled(utc + self.early)
