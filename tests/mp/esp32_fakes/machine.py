# Just enough of the ESP32 port's machine module for boards/esp32_board.py to run
# on the 32-bit unix interpreter: what it is asked to do is recorded in CALLS.
CALLS = []
TIMER_WAKE = 4
EXT0_WAKE = 2
EXT1_WAKE = 3
PIN_WAKE = 5
WAKE = [TIMER_WAKE]  # what the next lightsleep() says woke it


class _Any:
    def __init__(self, *args, **kwargs):
        self.args = args

    def __getattr__(self, name):
        return lambda *a, **k: 0


class Pin(_Any):
    IN = OUT = PULL_UP = 0

    def value(self, *v):
        CALLS.append(("pin", self.args[0]) + v)
        return 0


UART = RTC = _Any


class ADC(_Any):
    ATTN_11DB = 3
    UV = [0]  # what read_uv() gives, in turn

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        CALLS.append(("adc", kwargs.get("atten")))
        self._n = 0

    def read_uv(self):
        self._n += 1
        return self.UV[(self._n - 1) % len(self.UV)]


class I2C(_Any):
    MEM = {}  # (address, register) -> the bytes a device holds there

    def writeto_mem(self, addr, reg, data):
        CALLS.append(("i2c_write", addr, reg, bytes(data)))

    def readfrom_mem_into(self, addr, reg, buf):
        if (addr, reg) not in self.MEM:
            raise OSError(19)  # ENODEV: nothing answers at that address, as the ESP32 port says
        buf[:] = self.MEM[(addr, reg)]


class WDT(_Any):
    pass


def lightsleep(ms):
    CALLS.append(("lightsleep", ms))


def wake_reason():
    return WAKE[0]


def reset_cause():
    return 1
