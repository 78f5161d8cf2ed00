"""What a run costs the tag's battery, from the time each part spent in each of its
power states: the MCU's from the board's own account of its waits (boards/host_board.py
says for each wait whether it slept lightly or idled awake), the receiver's and the
modem's from the simulator's parts as the firmware switched them. Each current is the
part maker's figure, cited beside it; the few that are assumptions say so."""

from __future__ import annotations

from dataclasses import dataclass, field

from host_sim.device import boards

BATTERY_MAH = 1200.0  # the pilot tag's cell, as the day-in-the-life figure has always assumed

# ESP32 (ESP-WROOM-32 user manual, table 5 "Power consumption by power modes";
# ../shared/reference/hardware.md, "Power figures", S33)
MCU_AWAKE_MA = 20.0  # modem-sleep, CPU at full speed: stock MicroPython idles in time.sleep_ms this way
MCU_LIGHT_SLEEP_MA = 0.8
BLE_TX_MA = 120.0  # radio transmitting at 0 dBm
BLE_RX_MA = 85.0  # radio listening (80-90 mA), through each scan window
_SCAN = boards.load("host")["ble"]  # the tag boards' scan, as the simulator's board has it
SCAN_DUTY = _SCAN["scan_window_us"] / _SCAN["scan_interval_us"]
MCU_TURN_S = 0.010  # ASSUMPTION: one loop turn on the chip, taken out of the wait around it
ADV_EVENT_S = 0.010  # ASSUMPTION: one advertising event on three channels (the board waits this long)

# u-blox M8 receiver (MAX-M8 data sheet, as quoted by Uputronics' HAB-BO-M8Q3A sheet:
# "Acquire 25mA / Tracking 21mA"); switched off, nothing (its backup supply is ignored)
GNSS_MA = {"off": 0.0, "acquiring": 25.0, "tracking": 21.0}

# SIMCom SIM7000 (SIM7000 Hardware Design, as tabulated in botletics' SIM7000 shield
# wiki "Current Consumption"): powered off 7 uA, PSM 9 uA, sleep mode (DTR, AT+CSCLK=1)
# 1 mA, idle on LTE 11 mA, LTE data 167 mA at 23 dBm
MODEM_MA = {"off": 0.007, "power_saving": 0.009, "sleep": 1.0, "idle": 11.0, "sending": 167.0}
MODEM_SEND_S = 2.0  # ASSUMPTION: radio up for one send with its connected tail (network-set: UNVERIFIED)

MCU_MA = {"active": MCU_AWAKE_MA, "awake": MCU_AWAKE_MA, "light_sleep": MCU_LIGHT_SLEEP_MA, "off": 0.0}
BLE_MA = {"advertising": BLE_TX_MA, "scanning": BLE_RX_MA * SCAN_DUTY, "off": 0.0}


class StateClock:
    """Virtual time one part spends in each of its states."""

    def __init__(self, at_ms: int, state: str) -> None:
        self.ms: dict[str, int] = {}
        self.state, self._since = state, at_ms

    def enter(self, at_ms: int, state: str) -> None:
        self.ms[self.state] = self.ms.get(self.state, 0) + max(0, at_ms - self._since)
        self.state, self._since = state, at_ms

    def close(self, at_ms: int) -> dict[str, int]:
        self.enter(at_ms, self.state)
        return dict(self.ms)


def _carve(states_s: dict[str, float], name: str, seconds: float, out_of: tuple[str, ...]) -> None:
    # a short state (a loop turn, a send) taken out of the longer ones it interrupts
    left = seconds
    for other in out_of:
        take = min(left, states_s.get(other, 0.0))
        states_s[other] = states_s.get(other, 0.0) - take
        left -= take
    states_s[name] = states_s.get(name, 0.0) + seconds - left


@dataclass
class Energy:
    duration_s: float
    mcu_s: dict[str, float]  # active, awake, light_sleep, off: sums to duration_s
    gnss_s: dict[str, float]  # off, acquiring, tracking
    modem_s: dict[str, float]  # off, sleep, idle, sending, power_saving (none of a serial-link tag's)
    ble_s: dict[str, float]  # advertising, scanning, off
    cellular: bool
    turns: int
    gnss_starts: int
    modem_sends: int
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, duration_s: float, waits_ms: dict[str, int], turns: int, gnss_ms: dict[str, int], gnss_starts: int,
           modem_ms: dict[str, int] | None, sends: int, adverts: int, scan_ms: dict[str, int]) -> Energy:
        """From the board's waits, its turns, and the parts' state times (ms); scan_ms: the
        radio's, scanning (while the firmware listens for a beacon) or off."""
        mcu = {k: v / 1000 for k, v in waits_ms.items()}
        mcu["off"] = max(0.0, duration_s - sum(mcu.values()))  # power cuts, and a reset's moment
        _carve(mcu, "active", turns * MCU_TURN_S, ("awake", "light_sleep"))
        modem = {k: v / 1000 for k, v in (modem_ms or {"off": int(duration_s * 1000)}).items()}
        if modem_ms is not None:
            _carve(modem, "sending", sends * MODEM_SEND_S, ("idle", "sleep"))
        scanning = scan_ms.get("scanning", 0) / 1000
        ble = {"scanning": scanning, "off": duration_s - scanning}
        _carve(ble, "advertising", adverts * ADV_EVENT_S, ("off", "scanning"))
        notes = []
        if mcu.get("light_sleep", 0.0) < 0.5 * duration_s:
            notes.append("awake most of the run: the firmware had to hear a part no wake source covers")
        return cls(duration_s, mcu, {k: v / 1000 for k, v in gnss_ms.items()}, modem, ble, modem_ms is not None,
                   turns, gnss_starts, sends, notes)

    def mah_by_state(self) -> dict[str, float]:
        """mAh each part's state cost over the run, as "part.state"."""
        out = {}
        for part, states, currents in (("mcu", self.mcu_s, MCU_MA), ("gnss", self.gnss_s, GNSS_MA),
                                       ("modem", self.modem_s, MODEM_MA), ("ble", self.ble_s, BLE_MA)):
            for state, s in states.items():
                out[f"{part}.{state}"] = s * currents[state] / 3600
        return out

    @property
    def mah(self) -> float:
        return sum(self.mah_by_state().values())

    @property
    def battery_life_h(self) -> float:
        per_hour = self.mah / (self.duration_s / 3600)
        return BATTERY_MAH / per_hour if per_hour else float("inf")

    def costliest(self, n: int = 3) -> list[tuple[str, float]]:
        return sorted(((k, round(v, 1)) for k, v in self.mah_by_state().items() if v > 0),
                      key=lambda kv: -kv[1])[:n]

    @property
    def gnss_on_s(self) -> float:
        return self.duration_s - self.gnss_s.get("off", 0.0)

    def as_dict(self) -> dict[str, object]:
        def r(d: dict[str, float]) -> dict[str, float]:
            return {k: round(v, 1) for k, v in sorted(d.items())}

        return {"mah": round(self.mah, 1), "battery_life_h": round(self.battery_life_h, 1),
                "gnss_on_s": round(self.gnss_on_s), "gnss_starts": self.gnss_starts,
                "modem_sends": self.modem_sends, "mcu_turns": self.turns,
                "states_s": {"mcu": r(self.mcu_s), "gnss": r(self.gnss_s), "modem": r(self.modem_s),
                             "ble": r(self.ble_s)},
                "costliest_mah": [list(kv) for kv in self.costliest()],  # pairs, so the order survives JSON
                "notes": self.notes}
