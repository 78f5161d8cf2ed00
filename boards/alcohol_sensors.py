# An alcohol tag's sensors on an ESP32 (docs/alcohol.md): the transdermal fuel
# cell through its amplifier on an ADC pin; a VCNL4040 IR proximity sensor facing
# the skin and two TMP117 thermometers, one on the skin, one in the case, on one
# I2C bus. Loaded only for a definition with "alcohol".
import machine
from micropython import const

_ADC_SAMPLES = const(8)
_VCNL_PS_CONF = const(0x03)  # PS_CONF1/2: 0x0000 powers proximity on
_VCNL_PS_DATA = const(0x08)  # 16 bits, little-endian
_TMP_RESULT = const(0x00)  # 16 bits, big-endian, signed, 7.8125 m°C a count
_TAC_MAX = const(32767)  # what an event's depth holds


class Sensors:
    def __init__(self, spec):
        self._adc = machine.ADC(machine.Pin(spec["tac_adc"]), atten=machine.ADC.ATTN_11DB)
        self._zero_uv = spec["tac_zero_mv"] * 1000
        self._e4_per_v = spec["tac_e4_per_v"]
        bus = spec["i2c"]
        self._i2c = machine.I2C(bus["id"], scl=machine.Pin(bus["scl"]), sda=machine.Pin(bus["sda"]), freq=100000)
        self._ir, self._skin, self._case = spec["ir_addr"], spec["skin_addr"], spec["case_addr"]
        self._i2c.writeto_mem(self._ir, _VCNL_PS_CONF, b"\x00\x00")
        self._buf = bytearray(2)

    def sample(self):
        # (alcohol 1e-4 g/dL, IR counts, skin and case 0.1 °C)
        uv = 0
        for _ in range(_ADC_SAMPLES):
            uv += self._adc.read_uv()
        tac = (uv // _ADC_SAMPLES - self._zero_uv) // 1000 * self._e4_per_v // 1000  # by mV: small ints
        tac = 0 if tac < 0 else _TAC_MAX if tac > _TAC_MAX else tac
        b = self._buf
        self._i2c.readfrom_mem_into(self._ir, _VCNL_PS_DATA, b)
        return tac, b[0] | b[1] << 8, self._temp(self._skin), self._temp(self._case)

    def _temp(self, addr):
        b = self._buf
        self._i2c.readfrom_mem_into(addr, _TMP_RESULT, b)
        raw = b[0] << 8 | b[1]
        if raw & 0x8000:
            raw -= 0x10000
        return raw * 5 // 64  # 0.078125 of 0.1 °C a count
