"""Time on the device: the host board powers on with its RTC at 2000 and its ticks
five minutes before the wrap, as an ESP32 does, and the firmware sets the clock
itself (firmware/clock.py). Without that, the fault it had: every fix judged
stale, and a breach never raised."""

import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from host_sim.device import device_image, mp, mpy_gate
from host_sim.judge import verdict
from host_sim.paths import FIRMWARE, ROOT
from host_sim.run import sim
from host_sim.world import scenario
from tests.conftest import RV32, X86_32

FW_PLATFORMS = (X86_32, RV32)  # the clock rule on the tag's board and on the home unit's ISA

BREACH = ROOT / "scenarios" / "direct-approach.yaml"


def _without_clock_setting(tmp_path: Path) -> Path:
    """clock.py compiled for the host with _offer doing nothing: the RTC never set, as before."""
    src = (FIRMWARE / "clock.py").read_text()
    head = "    def _offer(self, utc_ms, source, name):\n"
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
    result = verdict.score(sim.execute(scenario.load(BREACH), keep_nmea=False, heap="256K"))
    assert not result.passed and result.detected == 0 and result.must_alert == 1  # every fix judged stale


def test_with_the_clock_set_the_same_breach_is_caught() -> None:
    result = verdict.score(sim.execute(scenario.load(BREACH), keep_nmea=False))
    assert result.passed and result.detected == result.must_alert == 1


def test_an_event_stamped_before_the_clock_was_set_is_restamped(tmp_path: Path) -> None:
    """The tag boots indoors: its boot event is stamped by an unset clock, and reaches
    the centre with its true time, never a 2000 date."""
    run = sim.execute(scenario.load(ROOT / "scenarios" / "indoors-reappears-inside.yaml"), keep_nmea=False)
    start = run.scenario.start_utc
    boot = [r for r in run.stored if r["kind"] == 11]
    assert boot and all(start - 2 <= r["utc"] <= start + 2 for r in boot), boot
    assert all(r["utc"] >= start - 2 for r in run.stored)


def _boots(run: sim.Run) -> list[int]:
    return sorted(r["utc"] - run.scenario.start_utc for r in run.stored if r["kind"] == 11)


def test_a_reboot_mid_day_keeps_true_times_and_catches_the_breach() -> None:
    """A 30 s brown-out on the way: the tag boots again with its RTC at 2000, its second
    boot is stamped in the right minute, nothing at the centre carries a 2000 date, and
    the breach after it is caught."""
    sc = scenario.load(ROOT / "scenarios" / "reboot-mid-day.yaml")
    (off, on), = sc.tag_off
    run = sim.execute(sc, keep_nmea=False)
    first, second = _boots(run)
    assert abs(first) <= 2 and on - 2 <= second <= on + 8, _boots(run)
    assert all(sc.start_utc - 2 <= r["utc"] <= sc.start_utc + sc.duration_s for r in run.stored)
    assert any(r["utc"] - sc.start_utc < off for r in run.stored if r["kind"] == 10)  # crumbs before the cut
    result = verdict.score(run)
    assert result.passed and result.detected == result.must_alert == 1


def test_a_cold_receiver_gives_no_time_then_a_fix_and_the_breach_is_caught() -> None:
    """Switched on in the street with a cold receiver: the first sentences carry no
    time at all (empty fields, as a NEO-6 sends them), the first fix comes tens of
    seconds later, and the tag sets its clock from it and still catches the breach."""
    sc = scenario.load(ROOT / "scenarios" / "cold-boot-in-the-street.yaml")
    assert sc.gnss_start == "cold"
    run = sim.execute(sc)
    first_rmc = next(ln for ln in run.nmea.split(b"\r\n") if ln.startswith(b"$GNRMC"))
    assert first_rmc.startswith(b"$GNRMC,,V,"), first_rmc
    ttff = next(r.t_ms for r in run.reported if r.valid) / 1000
    assert 26 <= ttff <= 110
    boot, = _boots(run)
    assert abs(boot) <= 2  # stamped by an unset clock, restamped once the fix set it
    result = verdict.score(run)
    assert result.passed and result.detected == result.must_alert == 1, (result.missed, result.false)


RANK = {"cell": 1, "centre": 2, "gnss": 3}
SET_MS = 1_704_067_200_000  # 2024-01-01: earlier, the clock was never set
POWER_ON_MS = 946_684_800_000  # 2000-01-01


def _model(rtc_ms: int, steps: list[tuple[str, int, int]]) -> tuple[list[int], list[str]]:
    """The clock's rule, as docs/interpreters.md states it: a source at least as good
    as the one that set the clock is taken when the clock is unset or more than a
    second off; a worse one, or a time before 2024, never."""
    source = 1 if rtc_ms >= SET_MS else 0
    after, logs = [], []
    for name, utc_ms, advance in steps:
        if RANK[name] >= source and utc_ms >= SET_MS:
            source = RANK[name]
            if rtc_ms < SET_MS:
                logs.append(f"clock set from {name}")
                rtc_ms = utc_ms
            elif abs(rtc_ms - utc_ms) > 1000:
                rtc_ms = utc_ms
        after.append(rtc_ms)
        rtc_ms += advance
    return after, logs


TIMES = st.one_of(st.integers(POWER_ON_MS, POWER_ON_MS + 10**9), st.integers(SET_MS - 10**6, SET_MS + 10**12))


@given(rtc=st.one_of(st.just(POWER_ON_MS), TIMES),
       steps=st.lists(st.tuples(st.sampled_from(sorted(RANK)), TIMES, st.integers(0, 5000)), max_size=8),
       drift=st.lists(st.integers(-3000, 3000), min_size=8, max_size=8))
def test_the_clock_takes_each_source_by_its_rank(fw: mp.Service, rtc: int, steps: list[tuple[str, int, int]],
                                                  drift: list[int]) -> None:
    # a source's time near the clock's own reading half the time: the slack matters
    near = [(name, (t if i % 2 else rtc + drift[i]), adv) for i, (name, t, adv) in enumerate(steps)]
    got = fw.call("clock_probe", "offers", rtc, [list(s) for s in near])
    assert (got["after"], got["logs"]) == _model(rtc, near)
