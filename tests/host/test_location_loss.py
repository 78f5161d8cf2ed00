"""Location loss and shielding: GNSS gone while away from home is an event; GNSS
and the cellular link gone together (foil, a jammer) is "shielding suspected";
a tag indoors at home raises neither."""

from pathlib import Path

from host_sim.run import sim
from host_sim.world import scenario

BASE = """name: {name}
start: "2026-12-05 20:00"
duration: 40m
seed: 21
home: {{lat: 52.4534, lon: -1.9110}}
zones: [{{name: far, circle: {{lat: 52.50, lon: -1.80, radius_m: 100}}}}]
route:
  start: {{lat: {lat}, lon: -1.9110}}
  legs: [{{dwell: 40m}}]
gnss:
  default: open_sky
  environment: [{{from: 10m, to: 30m, env: {env}}}]
link: {{transport: cellular, dialect: sim7000}}
{extra}"""


def _run(tmp_path: Path, name: str, lat: float, env: str, extra: str = "") -> sim.Run:
    path = tmp_path / f"{name}.yaml"
    path.write_text(BASE.format(name=name, lat=lat, env=env, extra=extra))
    return sim.execute(scenario.load(path), keep_nmea=False)


def test_foil_away_from_home_is_shielding_then_location_lost(tmp_path: Path) -> None:
    run = _run(tmp_path, "foil", 52.4600, "tunnel", "coverage_gaps: [{from: 10m, to: 30m}]\n")
    start = run.scenario.start_utc
    got = {r["kind"]: r for r in run.stored if r["kind"] in (40, 41)}
    assert set(got) == {40, 41}
    assert 600 + 120 <= got[41]["utc"] - start <= 600 + 200  # both silent two minutes
    # ten minutes after the last fix, which a sleeping receiver took up to a minute before the tunnel
    assert 600 + 600 - 60 <= got[40]["utc"] - start <= 600 + 620
    assert all(r["received_ms"] >= (start + 1800) * 1000 for r in got.values())  # delivered when the link is back


def test_indoors_at_home_is_no_event(tmp_path: Path) -> None:
    run = _run(tmp_path, "home", 52.4534, "indoors")
    assert not [r for r in run.stored if r["kind"] in (40, 41)]


def test_gnss_lost_away_with_the_link_up_is_location_lost_only(tmp_path: Path) -> None:
    run = _run(tmp_path, "tunnel", 52.4600, "tunnel")
    kinds = [r["kind"] for r in run.stored if r["kind"] in (40, 41)]
    assert kinds == [40]
