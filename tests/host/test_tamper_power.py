"""Tamper and battery: latched, time-stamped within 5 s, at the centre within 3
minutes, still latched after a reboot; the battery curve and its warnings."""

from hypothesis import given
from hypothesis import strategies as st

from host_sim.device import mp
from host_sim.judge import verdict
from host_sim.paths import ROOT
from host_sim.run import sim, tag_rig
from host_sim.run.home_unit import tag_id
from host_sim.world import scenario


def test_strap_cut_stamped_delivered_and_latched_across_a_reboot() -> None:
    sc = scenario.load(ROOT / "scenarios/strap-cut.yaml")
    cut_at = next(p.at_s for p in sc.inputs if p.name == "strap")
    run = sim.execute(sc, keep_nmea=False, cuts=[tag_rig.PowerCut(cut_at + 60, 20)])
    result = verdict.score(run)
    assert result.passed, result.missed
    strap = [r for r in run.stored if r["kind"] == 20]
    assert len(strap) == 1  # latched: the reboot raised no second one
    assert 0 <= strap[0]["utc"] - (sc.start_utc + cut_at) <= 5
    assert strap[0]["received_ms"] - strap[0]["utc"] * 1000 <= 180_000
    assert run.counters["strap_tamper"] == 1 and run.counters["case_tamper"] == 1
    kinds = [r["kind"] for r in run.stored]
    assert kinds.index(30) < kinds.index(31) < kinds.index(32)  # low, critical, then on charge
    assert all(r["battery"] <= 20 for r in run.stored if r["kind"] in (30, 31))


@given(st.integers(2500, 4400), st.integers(2500, 4400))
def test_battery_curve_is_monotonic_and_bounded(fw: mp.Service, a: int, b: int) -> None:
    pa, pb = fw.call("power_probe", "percent", a), fw.call("power_probe", "percent", b)
    assert 0 <= pa <= 100 and 0 <= pb <= 100
    if a <= b:
        assert pa <= pb
    assert fw.call("power_probe", "percent", 4200) == 100 and fw.call("power_probe", "percent", 3300) == 0


def test_the_centre_clears_a_tamper_with_an_authenticated_order() -> None:
    sc = scenario.load(ROOT / "scenarios/strap-cut.yaml")
    sc.inputs = [scenario.Input(120, "strap", True), scenario.Input(300, "strap", False)]  # cut, then re-fitted
    run = sim.execute(sc, keep_nmea=False, orders=[sim.Order(600, 2, sc.zones, {"clear_tamper": True})])
    kinds = [r["kind"] for r in run.stored]
    assert 20 in kinds and 22 in kinds and kinds.index(20) < kinds.index(22)  # tamper, then cleared
    assert run.counters["strap_tamper"] == 0


def test_a_tag_without_power_for_40_minutes_raises_a_comms_loss_alert() -> None:
    """The battery out for 40 min: the centre raises one silence 30 min after it last heard
    the tag, and it ends when the tag, powered again, calls in."""
    sc = scenario.load(ROOT / "scenarios" / "day-in-the-life-24h.yaml")
    cut_at, off_s = 3 * 3600, 2400
    result = verdict.score(sim.execute(sc, keep_nmea=False, cuts=[tag_rig.PowerCut(cut_at, off_s)]))
    (quiet,) = [q for q in result.silences if q["device"] == tag_id(sc)]
    assert cut_at - 900 <= quiet["silent_from_s"] <= cut_at  # its last call before the cut
    assert 1800 <= quiet["raised_s"] - quiet["silent_from_s"] <= 1860  # checked once a minute
    assert cut_at + off_s <= quiet["ended_s"] <= cut_at + off_s + 120
    assert result.passed
