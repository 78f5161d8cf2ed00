"""An order the tag acknowledges takes effect: the settings in force reach every
component (firmware/tag.py App._configure), including those that once read the
deployed configuration and ignored the order (location loss, reporting period)."""

from pathlib import Path
from typing import Any

import pytest

from host_sim.paths import ROOT
from host_sim.run import sim
from host_sim.world import scenario

VICTIM = """zones:
  - {name: victim, kind: exclusion, warning_m: 0, circle: {lat: 52.40780, lon: -1.53000, radius_m: 30}}
"""
# He walks near the victim's street, then goes down into a tunnel for half an hour.
SCENARIO = """name: orders
start: "2026-12-04 16:30"
duration: 45m
seed: 23
""" + VICTIM + """route:
  start: {lat: 52.40900, lon: -1.53300}
  legs: [{to: {lat: 52.40860, lon: -1.53100}, mode: walk}, {dwell: 40m}]
gnss:
  environment: [{from: 10m, to: 45m, env: tunnel}]
"""
ORDER_AT_S = 120


def _run(tmp_path: Path, settings: dict[str, Any] | None) -> sim.Run:
    path = tmp_path / "orders.yaml"
    path.write_text(SCENARIO)
    sc = scenario.load(path)
    orders = [sim.Order(ORDER_AT_S, 2, sc.zones, settings)] if settings is not None else []
    run = sim.execute(sc, keep_nmea=False, orders=orders)
    if settings is not None:
        assert [r["depth_m"] for r in run.stored if r["kind"] == 13] == [2]  # acknowledged: applied
    return run


def _since_start(run: sim.Run, kind: int) -> list[int]:
    return [r["utc"] - run.scenario.start_utc for r in run.stored if r["kind"] == kind]


@pytest.fixture(scope="module")
def unordered(tmp_path_factory: pytest.TempPathFactory) -> sim.Run:
    return _run(tmp_path_factory.mktemp("unordered"), None)


def test_location_lost_after_the_ordered_time(tmp_path: Path, unordered: sim.Run) -> None:
    last_fix = 10 * 60 - 1  # the tunnel from 10 min: no fix after this
    assert _since_start(unordered, 40)[0] >= last_fix + 600  # the deployed 600 s
    ordered = _since_start(_run(tmp_path, {"location_lost_s": 120}), 40)
    assert ordered and last_fix + 120 <= ordered[0] <= last_fix + 120 + 12, ordered  # checked every 10 s


def test_breadcrumbs_and_reports_at_the_ordered_periods(tmp_path: Path, unordered: sim.Run) -> None:
    run = _run(tmp_path, {"breadcrumb_s": 120, "report_period_s": 20})
    crumbs = [t for t in _since_start(run, 10) if ORDER_AT_S + 60 < t < 10 * 60]
    assert crumbs and all(b - a >= 120 for a, b in zip(crumbs, crumbs[1:], strict=False)), crumbs
    before = [t for t in _since_start(unordered, 10) if ORDER_AT_S + 60 < t < 10 * 60]
    assert len(before) >= 2 * len(crumbs) - 1  # a minute apart without the order
    # near the zone the link reports every report_period_s: three times as many frames
    assert run.link_stats["frames"] >= 2 * unordered.link_stats["frames"], (run.link_stats, unordered.link_stats)


def test_an_order_puts_a_tag_far_from_zones_into_trail_mode(tmp_path: Path) -> None:
    """docs/trails.md: breadcrumbs at least a minute apart once ordered, from about one
    a minute and a bit before."""
    path = tmp_path / "trail.yaml"
    path.write_text(SCENARIO.replace(VICTIM, "zones: [{name: far, circle: {lat: 52.50, lon: -1.80, radius_m: 100}}]\n")
                    .replace("{dwell: 40m}", "{to: {lat: 52.43000, lon: -1.53100}, mode: walk}")
                    .replace("  environment: [{from: 10m, to: 45m, env: tunnel}]\n", "  default: open_sky\n"))
    sc = scenario.load(path)

    def gaps(orders: list[sim.Order]) -> list[int]:
        stored = sim.execute(sc, keep_nmea=False, orders=orders).stored
        applied = min([r["utc"] for r in stored if r["kind"] == 13], default=sc.start_utc + ORDER_AT_S)
        crumbs = [r["utc"] for r in stored if r["kind"] == 10 and r["utc"] > applied + 60]
        return [b - a for a, b in zip(crumbs, crumbs[1:], strict=False)]

    before = gaps([])
    after = gaps([sim.Order(ORDER_AT_S, 2, sc.zones, {"breadcrumb_s": 30, "max_fix_interval_s": 40})])
    assert max(before) > 60 and after and max(after) <= 60, (before, after)


def _crumbs_after_order(run: sim.Run) -> list[int]:
    """The uncertainty (m) of each breadcrumb from a minute after the order until the tunnel."""
    return [r["accuracy_m"] for r in run.stored
            if r["kind"] == 10 and ORDER_AT_S + 60 < r["utc"] - run.scenario.start_utc < 10 * 60]


@pytest.mark.parametrize(("settings", "holds"), [
    ({"min_uncertainty_m": 30}, lambda acc: acc and min(acc) >= 30),
    ({"uere_m": 20}, lambda acc: acc and min(acc) >= 2 * 20 * 0.5),  # 2 x HDOP x UERE, HDOP above 0.5
    ({"max_uncertainty_m": 1}, lambda acc: acc == []),  # no fix is that certain: none decides anything
    ({"max_age_s": 0}, lambda acc: acc == []),  # every fix reaches the tag some ms old: none is fresh enough
])
def test_the_ordered_fix_rule_is_the_one_in_force(tmp_path: Path, unordered: sim.Run,
                                                         settings: dict[str, Any], holds: Any) -> None:
    assert not holds(_crumbs_after_order(unordered))  # the deployed rule gives other figures
    assert holds(_crumbs_after_order(_run(tmp_path, settings)))


APPROACH = ROOT / "scenarios" / "direct-approach.yaml"  # walks up to the victim's door and waits there


@pytest.fixture(scope="module")
def approach() -> sim.Run:
    return sim.execute(scenario.load(APPROACH), keep_nmea=False)


def _breach_s(run: sim.Run) -> list[int]:
    return _since_start(run, 1)


@pytest.mark.parametrize(("settings", "holds"), [
    ({"confirm_fixes": 40}, lambda first, ordered: ordered and ordered[0] >= first + 30),  # 40 fixes, not 3
    ({"margin_m": 1000}, lambda first, ordered: ordered == []),  # never that deep: no breach
])
def test_the_ordered_breach_rule_is_the_one_in_force(approach: sim.Run, settings: dict[str, Any],
                                                     holds: Any) -> None:
    sc = scenario.load(APPROACH)
    run = sim.execute(sc, keep_nmea=False, orders=[sim.Order(60, 2, sc.zones, settings)])
    assert [r["depth_m"] for r in run.stored if r["kind"] == 13] == [2]
    (first,) = _breach_s(approach)
    assert holds(first, _breach_s(run)), (first, _breach_s(run))


def test_the_ordered_hysteresis_holds_the_zone_state(tmp_path: Path) -> None:
    """On the boundary he crosses in and out: with the deployed 10 m hysteresis the tag
    sees him leave; ordered to 1,000 m, once in he never counts as out again."""
    sc = scenario.load(ROOT / "scenarios" / "loitering-boundary.yaml")
    deployed = sim.execute(sc, keep_nmea=False)
    ordered = sim.execute(sc, keep_nmea=False, orders=[sim.Order(60, 2, sc.zones, {"hysteresis_m": 1000})])
    assert _since_start(deployed, 2) and _since_start(deployed, 1)
    assert _since_start(ordered, 1)[:1] == _since_start(deployed, 1)[:1]  # entered as before
    assert _since_start(ordered, 2) == [] and len(_since_start(ordered, 1)) == 1  # and never left


def test_the_ordered_settling_applies_from_the_order(tmp_path: Path, unordered: sim.Run) -> None:
    """A new order builds the fix filter afresh: it settles again on settle_fixes
    agreeing fixes, so 90 of them leave the next minute's breadcrumb out."""
    window = range(ORDER_AT_S + 1, ORDER_AT_S + 85)
    assert [t for t in _since_start(unordered, 10) if t in window]
    assert not [t for t in _since_start(_run(tmp_path, {"settle_fixes": 90}), 10) if t in window]


# He waits 800 m from the zone, then drives past it 300 m away.
FAR_THEN_DRIVE = """name: drive-by
start: "2026-12-04 10:00"
duration: 30m
seed: 29
""" + VICTIM + """route:
  start: {lat: 52.41500, lon: -1.53000}
  legs:
    - {dwell: 15m}
    - {to: {lat: 52.41000, lon: -1.53440}, mode: walk}
    - {to: {lat: 52.40800, lon: -1.52000}, mode: car, speed_mps: 13}
    - {to: {lat: 52.41500, lon: -1.50000}, mode: car, speed_mps: 13}
"""


def _drive_by(tmp_path: Path, settings: dict[str, Any] | None) -> sim.Run:
    path = tmp_path / "drive-by.yaml"
    path.write_text(FAR_THEN_DRIVE)
    sc = scenario.load(path)
    return sim.execute(sc, keep_nmea=False, orders=[sim.Order(ORDER_AT_S, 2, sc.zones, settings or {})])


def test_the_ordered_top_speed_sets_how_long_the_receiver_sleeps_far_away(tmp_path: Path) -> None:
    """800 m out, the tag sleeps until the wearer could reach the zone at the fastest
    anyone moves: 10 s at the deployed 50 m/s; ordered to 5 m/s, the longest sleep."""
    def starts(run: sim.Run) -> int:
        t0 = run.scenario.start_utc * 1000
        return sum(on for t, on in run.gnss_switches if (ORDER_AT_S + 60) * 1000 < t - t0 < 15 * 60 * 1000)

    deployed, ordered = starts(_drive_by(tmp_path, None)), starts(_drive_by(tmp_path, {"max_speed_mps": 5}))
    assert deployed >= 10 and ordered <= 0.7 * deployed, (deployed, ordered)


def test_the_ordered_reanchoring_decides_when_a_run_of_jumps_is_believed(tmp_path: Path) -> None:
    """Ordered to believe nobody moves faster than 1 m/s, the tag takes each fix of the
    drive for a jump; after reanchor_fixes of them in a row it believes the new place.
    Ordered never to reanchor, no fix of the drive decides anything: no breadcrumb."""
    def drive_crumbs(run: sim.Run) -> int:
        return len([t for t in _since_start(run, 10) if 20 * 60 < t < 29 * 60])

    reanchoring = drive_crumbs(_drive_by(tmp_path, {"max_speed_mps": 1}))
    never = drive_crumbs(_drive_by(tmp_path, {"max_speed_mps": 1, "reanchor_fixes": 1000}))
    assert reanchoring >= 3 and never == 0, (reanchoring, never)


def test_every_order_key_is_shown_taking_effect() -> None:
    """Each key an order may carry (firmware/config.py ORDER_KEYS) is ordered by a test
    that watches the tag's behaviour change: here, or clear_tamper in test_tamper_power.py."""
    import ast

    tree = ast.parse((ROOT / "firmware" / "config.py").read_text())
    (keys,) = [ast.literal_eval(n.value) for n in ast.walk(tree)
               if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "ORDER_KEYS"]
    here = Path(__file__).read_text() + (Path(__file__).parent / "test_tamper_power.py").read_text()
    assert len(keys) == 15 and [k for k in keys if f'"{k}":' not in here] == []
