# The ESP32 port's esp32 module, as far as the board's wake sources use it.
import machine

WAKEUP_ALL_LOW = 0
WAKEUP_ANY_HIGH = 1


def wake_on_ext0(pin, level):
    machine.CALLS.append(("ext0", pin.args[0], level))


def wake_on_ext1(pins, level):
    machine.CALLS.append(("ext1", tuple(p.args[0] for p in pins or ()), level))


def wake_on_gpio(pins, level):
    machine.CALLS.append(("gpio", tuple(p.args[0] for p in pins), level))
