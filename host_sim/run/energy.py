"""What a scenario costs the tag's battery: current draw per state, integrated
over the run. The figures are typical datasheet values for the parts on the
boards (a u-blox M8-class receiver, an LTE-M/GSM modem with power saving, an
ESP32 in light sleep between loop turns); they are the model's assumptions, not
measurements of a tag."""

from __future__ import annotations

from dataclasses import dataclass

GNSS_TRACKING_MA = 25.0
GNSS_ACQUIRING_MA = 32.0
ACQUIRE_S = 5.0  # after each power-on
MODEM_IDLE_MA = 1.5  # registered, in power saving between sends
MODEM_SEND_MA = 250.0
MODEM_SEND_S = 2.0  # radio up for a send, with its RRC tail
MCU_SLEEP_MA = 0.8
MCU_ACTIVE_MA = 40.0
MCU_TURN_S = 0.010  # one loop turn: parse what arrived, decide, sleep again
BATTERY_MAH = 1200.0


@dataclass
class Energy:
    gnss_on_s: float
    gnss_starts: int
    modem_sends: int
    cellular: bool
    mcu_turns: int
    duration_s: float

    @property
    def mah(self) -> float:
        gnss = (self.gnss_on_s * GNSS_TRACKING_MA
                + self.gnss_starts * ACQUIRE_S * (GNSS_ACQUIRING_MA - GNSS_TRACKING_MA))
        modem = (self.duration_s * MODEM_IDLE_MA + self.modem_sends * MODEM_SEND_S * MODEM_SEND_MA
                 if self.cellular else 0.0)
        mcu = self.duration_s * MCU_SLEEP_MA + self.mcu_turns * MCU_TURN_S * (MCU_ACTIVE_MA - MCU_SLEEP_MA)
        return (gnss + modem + mcu) / 3600

    @property
    def battery_life_h(self) -> float:
        per_hour = self.mah / (self.duration_s / 3600)
        return BATTERY_MAH / per_hour if per_hour else float("inf")

    def as_dict(self) -> dict[str, float]:
        return {"mah": round(self.mah, 1), "battery_life_h": round(self.battery_life_h, 1),
                "gnss_on_s": round(self.gnss_on_s), "gnss_starts": self.gnss_starts,
                "modem_sends": self.modem_sends, "mcu_turns": self.mcu_turns}
