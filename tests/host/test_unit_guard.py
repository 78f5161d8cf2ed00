"""The home unit's rules from the centre and its guard, through the simulator: each
scenario fails when the part that catches it is taken away, so it shows that part."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from host_sim.centre.server import Centre
from host_sim.device import mp
from host_sim.judge import curfew_oracle, verdict
from host_sim.paths import ROOT
from host_sim.run import sim
from host_sim.wire import Kind
from host_sim.world import scenario


def _load(name: str) -> scenario.Scenario:
    return scenario.load(ROOT / "scenarios" / f"{name}.yaml")


def test_an_order_not_delivered_leaves_the_absence_unreported(monkeypatch: pytest.MonkeyPatch) -> None:
    """curfew-order-moves-start passes (test_sim); with the centre's order never issued,
    the unit keeps the 19:00 start and misses the absence the court's 18:00 makes."""
    monkeypatch.setattr(Centre, "order", lambda *a: None)
    result = verdict.score(sim.execute(_load("curfew-order-moves-start"), keep_nmea=False))
    assert not result.passed and [m["curfew"] for m in result.missed] == ["absence"]


def test_the_rules_in_force_follow_the_orders() -> None:
    sc = _load("curfew-order-moves-start")
    c = sc.curfew
    assert c is not None and len(c.orders) == 1
    at, rules = c.orders[0]
    assert c.in_force(at - 1) is c and c.in_force(at) is rules
    assert rules.schedule[0].start_min == 18 * 60 and c.schedule[0].start_min == 19 * 60
    assert rules.absence_timeout_s == c.absence_timeout_s  # what an order does not set stands


def test_unit_moved_is_required_where_the_unit_stands_away_and_false_at_home() -> None:
    moved = _load("curfew-unit-moved")
    assert moved.curfew is not None and curfew_oracle.unit_moved(moved) is True
    at_home = _load("curfew-out-at-2am")
    assert curfew_oracle.unit_moved(at_home) is False
    assert moved.curfew is not None
    grey = replace(moved, curfew=replace(moved.curfew, unit=(moved.home[0] + 0.0036, moved.home[1])))  # type: ignore[index]
    assert curfew_oracle.unit_moved(grey) is None  # 400 m: neither required nor false


@pytest.fixture(scope="module")
def fw() -> mp.Service:
    service = mp.Service([ROOT / "tests" / "firmware"])
    yield service  # type: ignore[misc]
    service.close()


@given(st.floats(50.0, 58.5), st.floats(-5.5, 1.7), st.integers(20, 500), st.floats(0, 360), st.floats(0, 40000),
       st.integers(-60, 900), st.booleans())
@settings(max_examples=300, deadline=None)
def test_the_tag_calls_its_unit_moved_only_where_no_journey_since_its_fix_reaches_home(
        fw: mp.Service, lat: float, lon: float, radius: int, bearing: float, d: float, age: int, fresh: bool) -> None:
    """The tag's rule inside MicroPython against geodesic distance (pyproj). On
    arriving, a unit heard age s after a fix d m from home is called moved only if a
    wearer at up to 180 km/h could not have come within the home's circle and 300 m
    since; and always when he could not by a margin, the fix no older than 600 s (nor
    stamped after the clock's now). Otherwise the first fix beside the unit (fresh,
    age 0) judges again; GNSS is held off after either."""
    flon, flat, _ = Geod(ellps="WGS84").fwd(lon, lat, bearing, d)
    e7 = [round(lat * 1e7), round(lon * 1e7), radius]
    age = 0 if fresh else age
    depth, judged, held = fw.call("sky_probe", "unit_moved", e7, [round(flat * 1e7), round(flon * 1e7)], age, fresh)
    reach = d - 50 * age  # the nearest to home he can be now
    edge = radius + scenario.UNIT_MOVED_M
    tol = 5 + d * 0.004  # the firmware's flat earth, in whole metres
    if depth >= 0:
        assert 0 <= age <= 600 and reach > edge - tol and abs(depth - min(d, 32767)) < tol  # the field holds 32,767 m
    else:
        assert not 0 <= age <= 600 or reach < edge + tol
    assert judged == (fresh or depth >= 0)
    assert held is True  # GNSS held off: on arriving, and after the first fix beside the unit


def test_without_the_tags_word_a_moved_unit_fails_its_scenario() -> None:
    run = sim.execute(_load("curfew-unit-moved"), keep_nmea=False)
    said = [r for r in run.stored if r["kind"] == Kind.UNIT_MOVED]
    assert len(said) == 1 and said[0]["depth_m"] > 1000  # 1.4 km from the registered home
    assert verdict.score(run).passed
    run.stored = [r for r in run.stored if r["kind"] != Kind.UNIT_MOVED]
    result = verdict.score(run)
    assert not result.passed and result.missed == [
        {"curfew": "unit_moved", "breach_s": result.missed[0]["breach_s"], "why": "no unit moved alert"}]


def test_a_wearer_driving_home_between_fixes_has_not_moved_his_unit() -> None:
    """Far from zones the tag fixes about once a minute: the unit is first heard with
    its last fix up the road, past the home's circle and 300 m. The road since that fix
    could cover it; without that allowance this scenario raises a false "unit moved".
    His receiver, asleep when the unit is first heard, wakes once for the fix beside
    the unit and is then held off for the 40 minutes he stays in."""
    sc = _load("curfew-drives-home-between-fixes")
    run = sim.execute(sc, keep_nmea=False)
    assert not [r for r in run.stored if r["kind"] == Kind.UNIT_MOVED]
    marks = [(r["kind"], r["utc"] - sc.start_utc) for r in run.stored if r["kind"] in (Kind.HOME, Kind.AWAY)]
    assert [k for k, _ in marks] == [Kind.HOME]
    home_at = marks[0][1]
    switches = [(ms // 1000 - sc.start_utc, on) for ms, on in run.gnss_switches]
    since = [(t, on) for t, on in switches if t >= home_at]
    assert [on for _, on in since] == [True, False] and since[1][0] - since[0][0] <= 30, since
    assert verdict.score(run).passed


def test_the_units_case_tamper_is_required() -> None:
    run = sim.execute(_load("curfew-unit-case-opened"), keep_nmea=False)
    assert verdict.score(run).passed
    run.unit_stored = [r for r in run.unit_stored if r["kind"] != Kind.TAMPER_CASE]
    result = verdict.score(run)
    assert not result.passed and result.missed[0]["tamper"] == "unit case"


def test_the_units_backup_battery_low_is_required_and_never_early() -> None:
    sc = _load("curfew-unit-backup-low")
    assert sc.curfew is not None
    (low_s,) = curfew_oracle.backup_low(sc.curfew, sc.duration_s)
    assert sc.curfew.backup_mv(low_s) <= curfew_oracle.LOW_MV < sc.curfew.backup_mv(low_s - 60)
    run = sim.execute(sc, keep_nmea=False)
    said = [r for r in run.unit_stored if r["kind"] == Kind.BATTERY_LOW]
    assert len(said) == 1 and 0 <= said[0]["utc"] - sc.start_utc - low_s <= 60  # the unit reads it once a minute
    assert verdict.score(run).passed
    run.unit_stored = [r for r in run.unit_stored if r["kind"] != Kind.BATTERY_LOW]
    missed = verdict.score(run)
    assert not missed.passed and [m["curfew"] for m in missed.missed] == ["battery_low"]
    early = {**said[0], "utc": sc.start_utc + 3600}  # an hour into the night: the backup still near full
    run.unit_stored += [early, said[0]]
    false = verdict.score(run)
    assert not false.passed and [f["curfew"] for f in false.false] == ["battery low while the backup battery was not"]


def test_the_backup_drains_off_the_mains_and_charges_on_it() -> None:
    sc = _load("curfew-unit-backup-low")
    c = sc.curfew
    assert c is not None and c.mains_off == [(1800, 18000)]
    assert c.backup_mv(0) == 3950 and c.backup_mv(1800) == 4100  # charging for its first half hour
    assert c.backup_mv(1800 + 3600) == 3950  # 150 mV an hour off the mains
    assert c.backup_mv(18000) == 3425 and c.backup_mv(18000 + 1800) == 3575  # back on: 300 mV an hour
    full = _load("curfew-unit-power-loss").curfew
    assert full is not None and {full.backup_mv(t) for t in range(0, 3 * 3600, 60)} == {4200}  # by default, no drain
