"""Every alert the centre holds is in the verdict, classified against the oracle:
required (with latency), acceptable, or false. Runs are built from a scenario's true
trace and alerts as the centre would hold them, so each rule is tried on its own."""

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim.judge import curfew_oracle, oracle, verdict
from host_sim.paths import ROOT
from host_sim.run.home_unit import tag_id, unit_id
from host_sim.run.sim import Event, Run
from host_sim.wire import ALERTS, Kind
from host_sim.world import scenario, trace

# victim-8's home off Leek Road, Stoke: a 150 m circle; its edge is 53.007348 N on this meridian
ZONE = "zones: [{name: victim-8-home, kind: exclusion, circle: {lat: 53.00600, lon: -2.17000, radius_m: 150}}]\n"
M_LAT = 1 / 111_250  # degrees of latitude per metre here


def _scenario(tmp_path: Path, legs: str, extra: str = "") -> scenario.Scenario:
    path = tmp_path / "s.yaml"
    path.write_text('name: staged\nstart: "2026-12-10 19:30"\nduration: 30m\nseed: 5\n' + ZONE
                    + "route:\n  start: {lat: 53.00900, lon: -2.17000}\n  legs:\n" + legs + extra)
    return scenario.load(path)


def _walk_to_depth(depth_m: float, stay: str) -> str:
    lat = 53.007348 - depth_m * M_LAT
    return (f"    - {{to: {{lat: {lat:.6f}, lon: -2.17000}}, mode: walk}}\n    - {{dwell: {stay}}}\n"
            "    - {to: {lat: 53.00900, lon: -2.17000}, mode: walk}\n")


def _row(sc: scenario.Scenario, device: str, seq: int, kind: int, at_s: int, delay_s: int = 5) -> dict[str, Any]:
    utc = sc.start_utc + at_s
    return {"device": device, "seq": seq, "utc": utc, "kind": kind, "received_ms": (utc + delay_s) * 1000,
            "lat_e7": 0, "lon_e7": 0, "accuracy_m": 5, "depth_m": 0, "battery": 80, "zone_id": ""}


def _run(sc: scenario.Scenario, stored: list[dict[str, Any]], unit_stored: list[dict[str, Any]] | None = None
         ) -> Run:
    events = [Event(r["kind"], 0, r["utc"], r["utc"], r["received_ms"], 0, 0.0, 0.0, r["seq"])
              for r in stored if r["kind"] in (Kind.BREACH, Kind.EXIT, Kind.WARNING)]
    return Run(sc, trace.synthesise(sc), [], b"", events, {}, 0, 0, [], 0.0, stored, unit_stored=unit_stored or [])


def _inside(sc: scenario.Scenario) -> int:
    """The first second the wearer is inside the zone, by the oracle's geometry."""
    depth = oracle.truths(sc, trace.synthesise(sc))[0].depth_m
    return int((depth > 0).argmax())


def test_a_ten_minute_stay_15_m_inside_requires_and_credits_its_alert(tmp_path: Path) -> None:
    """Was: required 0, detected 0, and the alert nowhere in the report."""
    sc = _scenario(tmp_path, _walk_to_depth(16, "10m"))
    at = _inside(sc) + 60
    result = verdict.score(_run(sc, [_row(sc, tag_id(sc), 7, Kind.BREACH, at)]))
    assert (result.must_alert, result.detected, result.passed) == (1, 1, True)
    (alert,) = result.alerts
    assert alert["kind"] == "breach" and alert["zone"] == "victim-8-home" and alert["class"] == "required"
    assert alert["latency_s"] == result.latencies_s[0] > 60


def test_a_shallow_alert_below_the_rule_is_acceptable_not_lost(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, _walk_to_depth(8, "10m"))
    at = _inside(sc) + 90
    result = verdict.score(_run(sc, [_row(sc, tag_id(sc), 3, Kind.BREACH, at), _row(sc, tag_id(sc), 4, Kind.EXIT,
                                                                                    at + 700)]))
    assert (result.must_alert, result.false_alerts, result.passed) == (0, 0, True)
    assert [(a["kind"], a["class"]) for a in result.alerts] == [("breach", "acceptable"), ("exit", "acceptable")]
    assert result.as_dict()["acceptable"] == 2


def test_a_breach_unseen_in_a_tunnel_requires_and_credits_location_lost(tmp_path: Path) -> None:
    """Was: a missed breach, and the location-unavailable alert the tag raised uncredited."""
    legs = _walk_to_depth(60, "12m")
    tunnel = "gnss: {default: open_sky, environment: [{from: 20s, to: 28m, env: tunnel}]}\n"
    sc = _scenario(tmp_path, legs, tunnel)
    lost = _row(sc, tag_id(sc), 9, Kind.LOCATION_LOST, 20 + oracle.LOCATION_LOST_S + 3)
    result = verdict.score(_run(sc, [lost]))
    assert result.passed and result.must_alert == 1, result.missed
    assert result.required[0]["kind"] == "location_lost" and result.required[0]["latency_s"] == 8
    assert result.alerts[0]["class"] == "required"
    silent = verdict.score(_run(sc, []))
    assert not silent.passed and "no location-unavailable alert" in silent.missed[0]["why"]


def test_an_incursion_seen_in_part_is_a_breach_to_alert(tmp_path: Path) -> None:
    """Under the open sky for the stay, in a tunnel only on the way in: the breach rule stands."""
    sc = _scenario(tmp_path, _walk_to_depth(60, "5m"),
                   "gnss: {default: open_sky, environment: [{from: 20s, to: 2m, env: tunnel}]}\n")
    (m,) = oracle.must_alerts(sc, oracle.truths(sc, trace.synthesise(sc)))
    assert m.kind == "breach"


def test_curfew_latency_is_signed(tmp_path: Path) -> None:
    """Was: an alert 103 s before the rule's due time read as 0 s."""
    sc = scenario.load(ROOT / "scenarios" / "curfew-out-at-2am.yaml")
    truth = trace.synthesise(sc)
    (req,) = [r for r in curfew_oracle.required(sc, curfew_oracle.truth(sc, truth)) if r.kind == "absence"]
    early = _row(sc, unit_id(sc), 40, Kind.CURFEW_ABSENT, req.breach_t - 103, delay_s=0)
    result = verdict.score(_run(sc, [], [early]))
    (absence,) = [r for r in result.required if r["kind"] == "absence"]
    assert absence["latency_s"] == -103 and absence["detected"] and "absence timeout" in absence["rule"]
    assert [(a["class"], a["latency_s"]) for a in result.alerts] == [("required", -103)]


ALERT_KINDS = sorted(int(k) for k in ALERTS)


@given(st.lists(st.tuples(st.sampled_from(ALERT_KINDS), st.integers(0, 1799), st.booleans()), max_size=25))
@settings(max_examples=40, deadline=None)
def test_every_alert_appears_once_with_one_class(alerts: list[tuple[int, int, bool]]) -> None:
    sc = scenario.load(ROOT / "scenarios" / "curfew-unit-case-opened.yaml")
    tag, unit = [], []
    for seq, (kind, at, on_unit) in enumerate(alerts, 1):
        (unit if on_unit else tag).append(_row(sc, unit_id(sc) if on_unit else tag_id(sc), seq, kind, at))
    result = verdict.score(_run(sc, tag, unit))
    given_keys = sorted((r["device"], r["seq"]) for r in tag + unit)
    assert sorted((a["device"], a["seq"]) for a in result.alerts) == given_keys
    classes = [a["class"] for a in result.alerts]
    assert set(classes) <= {"required", "acceptable", "false"}
    assert classes.count("false") == result.false_alerts
    assert classes.count("required") == sum(r["detected"] for r in result.required)
    assert all(("latency_s" in a) == (a["class"] == "required") for a in result.alerts)
