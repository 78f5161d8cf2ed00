"""The watchdog, as the chip's: a tag whose loop blocks is reset by it (the host
board's model of machine.WDT), boots again saying why, loses nothing it had stored,
and goes on deciding."""

import dataclasses

from host_sim.judge import verdict
from host_sim.paths import ROOT
from host_sim.run import sim
from host_sim.run.lockstep import POWER_ON, WATCHDOG
from host_sim.world import scenario

HANG = ROOT / "scenarios" / "hang-on-the-way.yaml"
WATCHDOG_S = 60  # boards/host.json


def test_a_hung_tag_is_reset_by_its_watchdog_and_says_so() -> None:
    sc = scenario.load(HANG)
    (hang_s,) = sc.tag_hangs
    run = sim.execute(sc, keep_nmea=False)
    (reset_s,) = run.resets
    assert hang_s + WATCHDOG_S - 1 <= reset_s <= hang_s + WATCHDOG_S + 2  # a minute of nothing, then the bite
    boots = [(r["depth_m"], r["utc"] - sc.start_utc) for r in run.stored if r["kind"] == 11]
    assert [cause for cause, _ in boots] == [POWER_ON, WATCHDOG]
    assert abs(boots[1][1] - reset_s) <= 2  # stamped when it happened (restamped once the clock is set)
    assert verdict.score(run).passed  # the breach after it still caught


def test_nothing_stored_before_the_hang_is_lost() -> None:
    sc = scenario.load(HANG)
    (hang_s,) = sc.tag_hangs
    hung = sim.execute(sc, keep_nmea=False)
    whole = sim.execute(dataclasses.replace(sc, tag_hangs=[]), keep_nmea=False)
    assert whole.resets == []

    def before(run: sim.Run) -> list[tuple[int, int, int]]:
        return [(r["seq"], r["kind"], r["utc"]) for r in run.stored if r["utc"] - sc.start_utc < hang_s]

    assert len(before(whole)) >= 10 and before(hung) == before(whole)
