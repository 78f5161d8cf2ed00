"""RF curfews in the simulator: the scenario keys, the curfew oracle's rules as
properties, the library's curfew scenarios, and the home unit's firmware on the
ESP32-C3 gate."""

import ast
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim.device import boards, mp, mpy_gate
from host_sim.judge import curfew_oracle
from host_sim.paths import BUILD, FIRMWARE, ROOT
from host_sim.world import scenario
from host_sim.world.zones import Window

CURFEW_SCENARIOS = {  # name: required alerts the oracle must find (each also must pass: test_sim)
    "curfew-late-return-short-grace": 1, "curfew-return-within-grace": 0, "curfew-garden-and-doorstep": 0,
    "curfew-out-at-2am": 1, "curfew-replay-device": 2, "curfew-clock-change-october": 2,
    "curfew-clock-change-march": 1, "curfew-unit-power-loss": 1,
    "curfew-unit-smashed": 0,  # the unit says nothing: the centre's comms-loss alert is scored in verdict.score
    "curfew-order-moves-start": 1, "curfew-unit-reboot-wearer-in": 0, "curfew-unit-reboot-replay": 2,
    "curfew-unit-case-opened": 0,  # the case tamper is scored as a tag's is, in verdict.score
    "curfew-unit-moved": 0,  # the tag's "unit moved" is scored in curfew_score
}


def test_scenario_defaults_are_the_firmwares(fw: mp.Service) -> None:
    got = fw.call("rf_probe", "defaults", ["late_return_grace_s", "early_leave_grace_s", "absence_timeout_s"])
    assert got == [scenario.LATE_RETURN_GRACE_S, scenario.EARLY_LEAVE_GRACE_S, scenario.ABSENCE_TIMEOUT_S]


@pytest.mark.parametrize("name", sorted(CURFEW_SCENARIOS))
def test_the_oracle_requires_what_each_curfew_scenario_stages(name: str) -> None:
    from host_sim.world import trace

    sc = scenario.load(ROOT / "scenarios" / f"{name}.yaml")
    assert sc.curfew is not None and not sc.zones
    ct = curfew_oracle.truth(sc, trace.synthesise(sc))
    assert len(curfew_oracle.required(sc, ct)) == CURFEW_SCENARIOS[name]


def _curfew(timeout: int) -> scenario.Curfew:
    return scenario.Curfew([Window(0x7F, 19 * 60, 7 * 60)], (52.4, -1.5), absence_timeout_s=timeout)


class _Sc:
    def __init__(self, c: scenario.Curfew) -> None:
        self.curfew = c


@given(st.lists(st.tuples(st.booleans(), st.integers(1, 2000)), min_size=1, max_size=12),
       st.lists(st.tuples(st.booleans(), st.integers(1, 3000)), min_size=1, max_size=6),
       st.sampled_from([120, 300, 600]))
@settings(max_examples=200)
def test_required_absences_are_real_and_complete(where: list[tuple[bool, int]], when: list[tuple[bool, int]],
                                                 timeout: int) -> None:
    away = np.concatenate([np.full(n, a) for a, n in where])
    enforced = np.resize(np.concatenate([np.full(n, e) for e, n in when]), len(away))
    ct = curfew_oracle.CurfewTruth(enforced, ~away, away, np.where(away, 500.0, 5.0))
    sc = _Sc(_curfew(timeout))
    reqs = curfew_oracle.required(sc, ct)  # type: ignore[arg-type]
    for r in reqs:
        b = r.breach_t
        slack = curfew_oracle.SLACK_S
        assert away[b - timeout:b + slack + 1].all() and enforced[b:b + slack + 1].all()
        # an alert when it is due is never also a false one
        assert not any(curfew_oracle.false_absence(sc, ct, t)  # type: ignore[arg-type]
                       for t in range(b, b + curfew_oracle.SLACK_S + 1))
    # completeness: any second away for timeout + slack, enforced for slack before it, is under a requirement
    two = 2 * curfew_oracle.SLACK_S
    for t in range(timeout + two, len(away)):
        if away[t - timeout - two:t + 1].all() and enforced[t - two:t + 1].all():
            assert any(r.from_t <= t <= r.until_t for r in reqs), t


def _imports(module: str, seen: set[str]) -> set[str]:
    path = FIRMWARE / f"{module}.py"
    if module in seen or not path.exists():
        return seen
    seen.add(module)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                _imports(alias.name, seen)
    return seen


def test_the_home_unit_firmware_passes_the_esp32c3_gate() -> None:
    modules = _imports("hmu", set())
    assert {"hmu", "presence", "curfew", "beacon", "advertiser", "link", "store", "counter", "ukclock"} <= modules
    assert mpy_gate.main(["--out", str(BUILD / "mpy")]) == 0
    for m in modules:
        mpy = BUILD / "mpy" / "rv32imc" / f"{m}.mpy"
        assert mpy.exists() and mpy.read_bytes()[:2] == b"M\x06", m


def test_the_tag_holds_gnss_off_while_it_hears_its_home_unit() -> None:
    from host_sim.run import sim

    sc = scenario.load(ROOT / "scenarios" / "curfew-out-at-2am.yaml")  # home, out 30 min from 02:00, home
    run = sim.execute(sc, keep_nmea=False)
    start = sc.start_utc
    marks = [(r["kind"], r["utc"] - start) for r in run.stored if r["kind"] in (56, 57, 40)]
    kinds = [k for k, _ in marks]
    assert kinds[:3] == [56, 57, 56] and 40 not in kinds  # home, away, home; never "location lost"
    home_at, away_at, back_at = (t for _, t in marks[:3])
    assert home_at < 30 and 1800 < away_at < 1800 + 120 and back_at > 3500
    switches = [(ms // 1000 - start, on) for ms, on in run.gnss_switches]
    assert switches[0] == (home_at, False)  # GNSS off as soon as the unit is heard
    on_while_away = [t for t, on in switches if on and away_at <= t <= away_at + 5]
    assert on_while_away  # and on again when it is not
    assert run.radio["heard_by_tag"] > 0 and run.radio["heard_by_unit"] > 0
    # listening for its unit in windows, the tag's radio scans a part of the run, and pays for it
    e = run.energy
    assert e is not None and 0 < e.ble_s["scanning"] < 0.4 * sc.duration_s
    scan = boards.load("host")["ble"]  # at 85 mA through each of the board definition's windows
    duty = scan["scan_window_us"] / scan["scan_interval_us"]
    assert e.mah_by_state()["ble.scanning"] == pytest.approx(e.ble_s["scanning"] * 85.0 * duty / 3600)


def test_on_its_backup_battery_the_unit_scans_a_small_part_of_the_time_and_misses_nothing(tmp_path: Path) -> None:
    import json

    from host_sim.judge import maps, verdict
    from host_sim.run import sim

    sc = scenario.load(ROOT / "scenarios" / "curfew-unit-power-loss.yaml")  # mains off from 30 min to 1 h 30
    assert sc.curfew is not None and sc.curfew.mains_off == [(1800, 5400)]
    run = sim.execute(sc, keep_nmea=False)
    result = verdict.score(run)
    assert result.passed and result.false_alerts == 0, result.missed
    r = run.radio
    assert r["backup_s"] == 3600
    # resting a fifth of the absence timeout after each advert it hears: a few seconds a minute
    assert 0 < r["scanning_s_on_backup"] < 0.15 * r["backup_s"]
    assert r["scanning_s_on_mains"] >= sc.duration_s - r["backup_s"] - 10  # on mains, all the time
    maps.write(run, result, tmp_path)  # the map and the timeline show the spell on the backup battery
    feats = json.loads((tmp_path / f"{sc.name}.geojson").read_text())["features"]
    shaded = [(f["properties"]["what"], f["properties"]["from_s"], f["properties"]["to_s"]) for f in feats
              if f["properties"]["role"] == "shaded"]
    assert ("unit on its backup battery", 1800, 5400) in shaded


def test_a_unit_without_power_is_noticed_by_the_centre_and_only_then() -> None:
    from host_sim.judge import verdict
    from host_sim.run import home_unit, sim

    sc = scenario.load(ROOT / "scenarios" / "curfew-unit-smashed.yaml")
    assert sc.curfew is not None and sc.curfew.unit_off == [(3600, 10800)]
    result = verdict.score(sim.execute(sc, keep_nmea=False))
    assert result.passed and result.must_alert == result.detected == 1, result.missed
    (quiet,) = result.silences
    assert quiet["device"] == home_unit.unit_id(sc)
    assert 3600 - 120 <= quiet["silent_from_s"] <= 3600  # its last call before the power went
    assert 3600 + verdict.SILENCE_S <= quiet["raised_s"] <= 3600 + verdict.SILENCE_S + verdict.COMMS_SLACK_S
    assert 10800 <= quiet["ended_s"] <= 10800 + 120  # it called in once powered again
    quiet_run = verdict.score(sim.execute(scenario.load(ROOT / "scenarios" / "curfew-unit-power-loss.yaml"),
                                      keep_nmea=False))
    assert quiet_run.silences == []  # on its backup battery it keeps calling: no silence


def test_without_the_silence_watch_a_smashed_unit_fails_its_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    from host_sim.centre.server import Centre
    from host_sim.judge import verdict
    from host_sim.run import sim

    monkeypatch.setattr(Centre, "check_silence", lambda self, limit_s=0: [])
    result = verdict.score(sim.execute(scenario.load(ROOT / "scenarios" / "curfew-unit-smashed.yaml"), keep_nmea=False))
    assert not result.passed and [m.get("comms_lost") for m in result.missed] == ["home unit"]
