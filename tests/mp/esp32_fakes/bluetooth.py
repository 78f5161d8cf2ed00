# The ESP32 port's bluetooth module, as far as the board's radio uses it: what it is
# asked to do is recorded in machine.CALLS.
import machine


class BLE:
    def active(self, *on):
        return True

    def irq(self, handler):
        self.handler = handler

    def gap_advertise(self, interval_us, adv_data=None, connectable=True):
        machine.CALLS.append(("advertise", interval_us))

    def gap_scan(self, duration_ms, interval_us=1280000, window_us=11250):
        machine.CALLS.append(("scan", duration_ms, interval_us, window_us) if duration_ms is not None else ("scan",))
