"""Running ahead: before a quiet time the firmware runs its own deadlines without a
round trip to the simulator (boards/host_board.py, H and N). The same scenario run
both ways must give the same run, turn for turn, with fewer round trips."""

import pytest

from host_sim.paths import ROOT
from host_sim.run import lockstep, sim
from host_sim.world import scenario

# serial and cellular links, a home unit, a power cut, tamper: every source of input
CASES = ["direct-approach", "outage-during-approach", "curfew-out-at-2am", "reboot-mid-day", "strap-cut"]


def _same(run: sim.Run) -> dict[str, object]:
    # everything a run decides; wall time, CPU and round trips aside
    energy = run.energy.as_dict() if run.energy else None
    return {"stored": run.stored, "unit": run.unit_stored, "counters": run.counters, "logs": run.logs,
            "fixes": run.fixes, "switches": run.gnss_switches, "silences": run.silences, "energy": energy,
            "radio": run.radio, "turns": run.turns[0], "link": run.link_stats}


@pytest.mark.parametrize("name", CASES)
def test_running_ahead_changes_nothing_but_the_round_trips(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sc = scenario.load(ROOT / "scenarios" / f"{name}.yaml")
    ahead = sim.execute(sc, keep_nmea=False)
    monkeypatch.setattr(lockstep.Firmware, "RUN_AHEAD", False)
    lockstep_only = sim.execute(sc, keep_nmea=False)
    assert _same(ahead) == _same(lockstep_only)
    assert lockstep_only.turns[1] == lockstep_only.turns[0]  # every turn a round trip
    # each epoch's fix runs ahead; with a home unit, its adverts still come every second
    assert ahead.turns[1] < (0.95 if name.startswith("curfew") else 0.6) * ahead.turns[0]
