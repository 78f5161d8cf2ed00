"""The home unit's rules from the centre and its guard, through the simulator: each
scenario fails when the part that catches it is taken away, so it shows that part."""

from dataclasses import replace

import pytest

from host_sim.centre.server import Centre
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


def test_without_the_tags_word_a_moved_unit_fails_its_scenario() -> None:
    run = sim.execute(_load("curfew-unit-moved"), keep_nmea=False)
    said = [r for r in run.stored if r["kind"] == Kind.UNIT_MOVED]
    assert len(said) == 1 and said[0]["depth_m"] > 1000  # 1.4 km from the registered home
    assert verdict.score(run).passed
    run.stored = [r for r in run.stored if r["kind"] != Kind.UNIT_MOVED]
    result = verdict.score(run)
    assert not result.passed and result.missed == [
        {"curfew": "unit_moved", "breach_s": result.missed[0]["breach_s"], "why": "no unit moved alert"}]


def test_the_units_case_tamper_is_required() -> None:
    run = sim.execute(_load("curfew-unit-case-opened"), keep_nmea=False)
    assert verdict.score(run).passed
    run.unit_stored = [r for r in run.unit_stored if r["kind"] != Kind.TAMPER_CASE]
    result = verdict.score(run)
    assert not result.passed and result.missed[0]["tamper"] == "unit case"
