"""Sleep as the boards take it (docs/power.md): the ESP32 board's choice for every
combination of what the firmware must hear, run on the 32-bit interpreter with its
machine module faked; and the host board's own account of its time, which the
energy model integrates, summing to the run."""

import json
import os
import subprocess

import pytest

from host_sim.device import mp
from host_sim.paths import BOARDS, ROOT
from host_sim.run import sim
from host_sim.world import scenario

GNSS, REPLY, CENTRE, LINK, CONSOLE, RADIO = 1, 2, 4, 8, 16, 32  # board.wait()'s hears


@pytest.mark.parametrize("board", ["lilygo_t_a7670e_fase", "lilygo_t_sim7000g", "devkitc_neo_m8n_sim800l"])
def test_the_esp32_board_sleeps_only_when_its_wake_sources_cover_what_must_be_heard(board: str) -> None:
    defn = json.loads((BOARDS / f"{board}.json").read_text())
    env = {**os.environ, "MICROPYPATH": os.pathsep.join(
        [str(ROOT / "tests" / "mp" / "esp32_fakes"), str(BOARDS), str(ROOT / "firmware")])}
    out = subprocess.run([mp.micropython(), str(ROOT / "tests" / "mp" / "esp32_sleep_probe.py"),
                          str(BOARDS / f"{board}.json")], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    ring = defn["modem"].get("ri") is not None
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    cases = [c for c in lines if "hears" in c]
    assert len(cases) == 64
    # woken by the ring line: fetch from the modem; by the console's RX line: a session opens
    woke = {c["why"]: (c["ring"], c["console"]) for c in lines if "why" in c}
    assert woke == {"TIMER_WAKE": (False, False), "EXT0_WAKE": (ring, False), "EXT1_WAKE": (False, False),
                    "PIN_WAKE": (False, True)}
    covered = CENTRE if ring else 0
    for c in cases:
        asleep = not (c["hears"] & ~covered)
        assert c["slept"] == asleep, c
        if asleep:  # the ring line (ext0), the closed strap and case (ext1), the console's RX (GPIO)
            assert c["wakes"] == sorted(["ext1", "gpio", *(["ext0"] if ring else [])]), c
    # the receiver streaming, an answer due, the serial link, a technician's session or a
    # beacon to hear: awake on every board
    for bit in (GNSS, REPLY, LINK, CONSOLE, RADIO):
        assert all(not c["slept"] for c in cases if c["hears"] & bit)
    # a session open with the centre: asleep only with the ring line to wake it
    assert any(c["slept"] for c in cases if c["hears"] == CENTRE) == ring
    # the radio scans (its window and interval the definition's) only while a beacon is
    # listened for, started and stopped as that changes, and never through a light sleep
    scan = [0, defn["ble"]["scan_interval_us"], defn["ble"]["scan_window_us"]]
    was = False
    for c in cases:
        listens = c["hears"] & RADIO != 0
        assert c["scanning"] == listens and not (c["slept"] and c["scanning"]), c
        assert c["scans"] == ([] if listens == was else [scan] if listens else [[]]), c
        was = listens


def test_the_boards_account_of_its_time_sums_to_the_run() -> None:
    sc = scenario.load(ROOT / "scenarios" / "day-in-the-life-24h.yaml")
    run = sim.execute(sc, keep_nmea=False)
    e = run.energy
    assert e is not None
    # the board's waits, told wait by wait and in its own turns' totals, cover the day to the ms
    assert abs(sum(e.mcu_s.values()) - sc.duration_s) < 0.01 and e.mcu_s["off"] < 0.01
    for part in (e.gnss_s, e.modem_s, e.ble_s):
        assert abs(sum(part.values()) - sc.duration_s) < 0.01, part
    assert e.ble_s["scanning"] == 0  # no home unit to listen for: the radio never scans
    # a day mostly far from the zones: the MCU light-sleeps whenever the receiver is off
    assert e.mcu_s["light_sleep"] > 0.8 * e.gnss_s["off"]
    assert e.mcu_s["awake"] + e.mcu_s["active"] >= e.gnss_on_s * 0.99
    assert e.modem_s["sleep"] > 0.9 * sc.duration_s  # in session, asleep on DTR between sends
    assert e.battery_life_h >= 72

