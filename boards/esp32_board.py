# ESP32-family boards: the ports a board definition (board.json) describes,
# built on machine. The only place the firmware meets real hardware.
import select
import sys
import time

import machine
from micropython import const

_ADC_SAMPLES = const(8)
# of wait()'s hears (docs/power.md): what the ring line covers; what the console's RX
# line wakes the chip for (a session, which then keeps it awake)
_HEAR_CENTRE = const(4)
_HEAR_CONSOLE = const(16)
_HEAR_RADIO = const(32)  # a beacon listened for: the radio scans only then
_AWAKE_MS = const(1000)  # the longest idle wait, well inside the watchdog's timeout
_ADV_EVENT_MS = const(10)  # an advertising event on three channels, with margin, before the radio stops
_IRQ_SCAN_RESULT = const(5)
_HEARD_CAP = const(16)
# the firmware speaks UTC from 1970; the ESP32 ports count from 2000
_EPOCH_S = 946684800 if time.gmtime(0)[0] == 2000 else 0


class Port:
    # A UART as the firmware sees it (the same shape as boards/host_board.Port).
    def __init__(self, spec):
        # pins only where the definition names them: a UART on its default pins (the
        # C3's link on UART0) has none
        pins = {k: spec[k] for k in ("tx", "rx") if spec.get(k) is not None}
        self._uart = machine.UART(spec["uart"], baudrate=spec["baud"], rxbuf=spec["rxbuf"], timeout=0, **pins)

    def any(self):
        return self._uart.any()

    def readinto(self, buf):
        return self._uart.readinto(buf) or 0

    def write(self, data):
        return self._uart.write(data) or 0


class Radio:
    # BLE through MicroPython's bluetooth module: adverts out, scan results in a
    # short queue (the IRQ's memoryviews are copied; they do not outlive it).
    def __init__(self, spec):
        import bluetooth

        self._adv_ms = spec.get("adv_interval_ms", 0)  # 0: one advert per payload
        self._heard = []
        self.dropped = 0
        self.on_air = False
        self._ble = bluetooth.BLE()
        self._ble.active(True)
        self._ble.irq(self._irq)
        self._scan = (spec["scan_interval_us"], spec["scan_window_us"])
        self.scanning = False

    def _irq(self, event, data):
        if event == _IRQ_SCAN_RESULT:
            if len(self._heard) < _HEARD_CAP:
                self._heard.append((data[3], bytes(data[4])))
            else:
                self.dropped += 1

    def advertise(self, adv, interval_ms):
        self._ble.gap_advertise((self._adv_ms or interval_ms) * 1000, adv, connectable=False)
        self.on_air = True

    def stop(self):
        # Before light sleep, which stops the controller anyway: the advert just started
        # goes out first; the next payload starts advertising again. (Nothing is being
        # scanned for: the board would not sleep.)
        if self.on_air:
            time.sleep_ms(_ADV_EVENT_MS)
            self._ble.gap_advertise(None)  # type: ignore[arg-type]  # None stops it; the stubs miss it
            self.on_air = False

    def listen(self, on):
        # Scan only while the firmware listens for a beacon: through its window the
        # radio draws 80-90 mA, for nothing on a tag with no home unit.
        on = bool(on) and self._scan[1] > 0
        if on != self.scanning:
            self.scanning = on
            if on:
                self._ble.gap_scan(0, self._scan[0], self._scan[1])
            else:
                self._ble.gap_scan(None)  # type: ignore[arg-type]  # None stops it; the stubs miss it

    def recv(self):
        return self._heard.pop(0) if self._heard else None


def _input(spec, level):
    # (the pin, its value when the switch is at that level), or (None, None) without one
    if not spec:
        return None, None
    return machine.Pin(spec["pin"], machine.Pin.IN, machine.Pin.PULL_UP), spec[level]


class Console:
    # The USB serial console (the REPL's UART): the technician's diagnostics.
    def __init__(self):
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)

    def any(self):
        return 1 if self._poll.poll(0) else 0

    def readinto(self, buf):
        n = 0
        while n < len(buf) and self._poll.poll(0):
            buf[n] = ord(sys.stdin.read(1))
            n += 1
        return n

    def write(self, data):
        sys.stdout.write(data.decode())
        return len(data)


class Board:
    def __init__(self, defn):
        # what the firmware needs of the definition, taken now: the parsed whole is not kept
        self.name, self.role, self.chip = defn["name"], defn["role"], defn["chip"]
        gnss = defn.get("gnss")
        modem = defn.get("modem")
        self.dialect = modem["dialect"] if modem else None
        self._power = (modem["power_on"], modem["power_off"]) if modem else ((), ())
        dtr, ri = (modem.get("dtr"), modem.get("ri")) if modem else (None, None)
        self._dtr = machine.Pin(dtr, machine.Pin.OUT, value=0) if dtr is not None else None
        self._ri = machine.Pin(ri, machine.Pin.IN, machine.Pin.PULL_UP) if ri is not None else None
        rx = defn.get("console_rx")
        self._console_rx = machine.Pin(rx) if rx is not None else None  # as it is: UART0 keeps it
        self._wakes = _HEAR_CENTRE if ri is not None else 0  # what a wake source covers
        self._woke = 0
        self.naps = 0  # light sleeps taken: the technician sees the board sleep (diag)
        for pin in (modem or {}).get("hold_high", ()):
            machine.Pin(pin, machine.Pin.OUT, value=1)  # e.g. T-A7670 POWERON: at once, or it resets
        self.modem = Port(modem) if modem else None
        self.gnss = Port(gnss) if gnss and gnss["source"] == "uart" else None
        self.link = Port(defn["link"]) if defn.get("link") else None
        self.console = Console()
        self.radio = Radio(defn["ble"]) if defn.get("ble") else None
        self.has_strap, self.has_case = bool(defn.get("strap")), bool(defn.get("case"))
        self._strap, self._strap_closed = _input(defn.get("strap"), "closed")
        self._case, self._case_closed = _input(defn.get("case"), "closed")
        self._tamper_pins = [p for p, c in ((self._strap, self._strap_closed), (self._case, self._case_closed))
                             if p is not None and c == 0]  # closed low: opening wakes (ext1, any high)
        self._mains, self._mains_present = _input(defn.get("mains"), "present")
        bat = defn.get("battery")
        self._adc = machine.ADC(machine.Pin(bat["adc"]), atten=machine.ADC.ATTN_11DB) if bat else None
        self._divider = bat["divider"] if bat else 1
        led = defn.get("led")
        if led and not led.get("neopixel"):  # held dark: a lit tag draws current and eyes
            machine.Pin(led["pin"], machine.Pin.OUT, value=1 if led.get("active_low") else 0)
        if defn.get("alcohol"):  # an alcohol tag's sensors, their driver (boards/alcohol_sensors.py) only then
            self.alcohol = __import__(defn["alcohol"]["driver"]).Sensors(defn["alcohol"])
        self.storage = "/data"
        self._rtc = machine.RTC()
        # armed from here on, and never stopped: the loop feeds it each completed turn
        self._wdt_ms = defn["watchdog_s"] * 1000
        self._wdt = machine.WDT(timeout=self._wdt_ms)

    def ticks_ms(self):
        return time.ticks_ms()

    def utc(self):
        return time.time() + _EPOCH_S

    def utc_ms(self):
        return time.time_ns() // 1000000 + _EPOCH_S * 1000

    def set_utc_ms(self, ms):
        # the RTC counts from the port's epoch (2000 on the ESP32 ports); it keeps
        # time through soft and watchdog resets and deep sleep, not a power-on
        t = time.gmtime(ms // 1000 - _EPOCH_S)
        self._rtc.datetime((t[0], t[1], t[2], t[6], t[3], t[4], t[5], ms % 1000 * 1000))

    def feed(self):
        self._wdt.feed()

    def reset_cause(self):
        return machine.reset_cause()

    def reset(self):
        # a restart asked for by the firmware (a new pairing): flash and the RTC kept
        machine.reset()

    def sleeps(self, hears):
        # Light sleep only if every part the firmware must hear can wake the chip: the
        # UARTs do not receive in light sleep, and the radio neither scans nor advertises.
        return not (hears & ~self._wakes)

    def wait(self, ms, hears=0):
        if self.radio is not None:
            self.radio.listen(hears & _HEAR_RADIO)
        if ms == 0:  # a deadline now: no sleep at all
            return
        if not self.sleeps(hears):
            # awake: the UARTs keep receiving into their IRQ-driven buffers meanwhile
            time.sleep_ms(_AWAKE_MS if ms < 0 or ms > _AWAKE_MS else ms)
            return
        if self.radio is not None:
            self.radio.stop()
        self._arm_wakes()
        nap = self._wdt_ms // 2  # the longest sleep: the watchdog's timer runs on through it
        machine.lightsleep(nap if ms < 0 or ms > nap else ms)
        self.naps += 1
        why = machine.wake_reason()
        if why == machine.EXT0_WAKE:
            self._woke |= self._wakes & _HEAR_CENTRE
        elif why not in (machine.TIMER_WAKE, machine.EXT1_WAKE):  # the console's RX line (GPIO)
            self._woke |= _HEAR_CONSOLE

    def _arm_wakes(self):
        # RTC pins only (docs/power.md): the ring line low (ext0); a strap or case that
        # opens (ext1, any high), counting only those closed now, or an open one would
        # wake the chip at once
        import esp32

        if self._ri is not None:
            esp32.wake_on_ext0(self._ri, esp32.WAKEUP_ALL_LOW)
        closed = [p for p in self._tamper_pins if p.value() == 0]
        esp32.wake_on_ext1(closed or None, esp32.WAKEUP_ANY_HIGH)
        if self._console_rx is not None:  # a start bit; the characters before the clocks are back are lost
            esp32.wake_on_gpio((self._console_rx,), esp32.WAKEUP_ALL_LOW)

    def woke(self, source):
        # whether that wake source (a bit of wait()'s hears) woke the chip since last asked
        w = self._woke & source
        self._woke &= ~source
        return w != 0

    def running(self):
        return True

    def strap_closed(self):
        return self._strap is not None and self._strap.value() == self._strap_closed

    def case_closed(self):
        return self._case is not None and self._case.value() == self._case_closed

    def mains_present(self):
        return self._mains is None or self._mains.value() == self._mains_present

    def battery_mv(self):
        if self._adc is None:
            return 0
        uv = 0
        for _ in range(_ADC_SAMPLES):
            uv += self._adc.read_uv()
        return int(uv * self._divider) // (1000 * _ADC_SAMPLES)

    def modem_sleep(self, on):
        # DTR high: the modem sleeps (once told AT+CSCLK=1); False without the line
        if self._dtr is None:
            return False
        self._dtr.value(1 if on else 0)
        return True

    def modem_power(self, on):
        for pin, level, ms in self._power[0 if on else 1]:
            machine.Pin(pin, machine.Pin.OUT, value=level)
            if ms:
                time.sleep_ms(ms)

    def heap_peak(self):
        return -1  # the ESP32 port keeps no peak

    def gnss_power(self, on):
        # The boards defined so far have no switch for the receiver's supply (the
        # modem-GNSS boards would send AT+CGNSPWR through the modem); nothing to do yet.
        pass

    def log(self, text):
        print(text)

    def close(self):
        pass
