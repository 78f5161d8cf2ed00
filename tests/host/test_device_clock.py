"""Time on the device: the host board powers on with its RTC at 2000 and its ticks
five minutes before the wrap, as an ESP32 does, and the firmware sets the clock
itself (firmware/clock.py). Without that, the fault it had: every fix judged
stale, and a breach never raised."""

import shutil
from pathlib import Path
from typing import Any

import pytest

from host_sim import device_image, mpy_gate, scenario, sim
from host_sim.paths import FIRMWARE, ROOT

BREACH = ROOT / "scenarios" / "direct-approach.yaml"


def _without_clock_setting(tmp_path: Path) -> Path:
    """clock.py compiled for the host with _set doing nothing: the RTC never set, as before."""
    src = (FIRMWARE / "clock.py").read_text()
    head = "    def _set(self, utc_ms):\n"
    assert head in src
    folder = tmp_path / "fw"
    folder.mkdir()
    (folder / "clock.py").write_text(src.replace(head, head + "        return\n"))
    assert not mpy_gate.compile_arch([folder], tmp_path / "mpy", mpy_gate.HOST_ARCH)
    return tmp_path / "mpy" / mpy_gate.HOST_ARCH / "clock.mpy"


def test_without_the_clock_set_a_breach_is_missed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = _without_clock_setting(tmp_path)
    build = device_image.build

    def with_broken_clock(dest: Path, *args: Any, **kwargs: Any) -> Path:
        folder = build(dest, *args, **{**kwargs, "rom": False})
        shutil.copyfile(broken, folder / "clock.mpy")
        return folder

    monkeypatch.setattr(device_image, "build", with_broken_clock)
    # loose modules load into the heap, not run from ROMFS: room for them, beyond the budget
    result = sim.score(sim.execute(scenario.load(BREACH), keep_nmea=False, heap="256K"))
    assert not result.passed and result.detected == 0 and result.must_alert == 1  # every fix judged stale


def test_with_the_clock_set_the_same_breach_is_caught() -> None:
    result = sim.score(sim.execute(scenario.load(BREACH), keep_nmea=False))
    assert result.passed and result.detected == result.must_alert == 1


def test_an_event_stamped_before_the_clock_was_set_is_restamped(tmp_path: Path) -> None:
    """The tag boots indoors: its boot event is stamped by an unset clock, and reaches
    the centre with its true time, never a 2000 date."""
    run = sim.execute(scenario.load(ROOT / "scenarios" / "indoors-reappears-inside.yaml"), keep_nmea=False)
    start = run.scenario.start_utc
    boot = [r for r in run.stored if r["kind"] == 11]
    assert boot and all(start - 2 <= r["utc"] <= start + 2 for r in boot), boot
    assert all(r["utc"] >= start - 2 for r in run.stored)
