"""The oracle's rules, and scenario inputs by file (GPX route, GeoJSON zone)."""

import json
from datetime import UTC
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim.judge import oracle, verdict
from host_sim.run import sim
from host_sim.world import scenario, trace
from host_sim.world.scenario import Oracle
from host_sim.world.zones import Zone


def _reference_musts(depth: list[float], active: list[bool], o: Oracle) -> list[tuple[int, int, int]]:
    """(entry, deep start, end) by the definition, the slow way."""
    n = len(depth)
    out: list[tuple[int, int, int]] = []
    t = 0
    while t < n:
        run = 0
        while t + run < n and active[t + run] and depth[t + run] >= o.must_depth_m:
            run += 1
        if run >= o.must_duration_s:
            entry = t
            while entry > 0 and active[entry - 1] and depth[entry - 1] > 0:
                entry -= 1
            if out and out[-1][2] >= entry:
                out[-1] = (out[-1][0], out[-1][1], t + run - 1)
            else:
                out.append((entry, t, t + run - 1))
            t += run
        else:
            t += max(run, 1)
    return out


class _Sc:
    def __init__(self, o: Oracle) -> None:
        self.oracle = o


@given(st.lists(st.floats(-60, 60), min_size=1, max_size=300), st.data(), st.integers(1, 30),
       st.floats(0, 40))
@settings(max_examples=300)
def test_must_alert_intervals(depth: list[float], data: st.DataObject, duration: int, must_depth: float) -> None:
    active = data.draw(st.lists(st.booleans(), min_size=len(depth), max_size=len(depth)))
    o = Oracle(must_depth_m=must_depth, must_duration_s=duration)
    zt = oracle.ZoneTruth(Zone("z", "exclusion", None), np.array(depth), np.array(active))
    got = [(m.entry_t, m.deep_t, m.end_t) for m in oracle.must_alerts(_Sc(o), [zt])]  # type: ignore[arg-type]
    assert got == _reference_musts(depth, active, o)


def test_gpx_route_and_geojson_zone(tmp_path: Path) -> None:
    """A walk given as a GPX track into a zone given as a GeoJSON file: detected."""
    import gpxpy.gpx

    g = gpxpy.gpx.GPX()
    seg = gpxpy.gpx.GPXTrackSegment()
    from datetime import datetime, timedelta

    t0 = datetime(2026, 12, 3, 18, 10, tzinfo=UTC)
    for k in range(0, 601, 10):  # 600 s walking north at 1.4 m/s, then the track ends
        seg.points.append(gpxpy.gpx.GPXTrackPoint(52.4400 + k * 1.4 / 111_250, -1.9365,
                                                  time=t0 + timedelta(seconds=k)))
    track = gpxpy.gpx.GPXTrack()
    track.segments.append(seg)
    g.tracks.append(track)
    (tmp_path / "walk.gpx").write_text(g.to_xml())
    (tmp_path / "zone.geojson").write_text(json.dumps({"type": "Feature", "properties": {"radius_m": 150},
                                                       "geometry": {"type": "Point",
                                                                    "coordinates": [-1.9365, 52.4460]}}))
    (tmp_path / "s.yaml").write_text(
        'name: gpx-walk\nstart: "2026-12-03 18:10"\nduration: 15m\nseed: 3\n'
        'zones:\n  - {name: victim, geojson: zone.geojson}\nroute: {gpx: walk.gpx}\n')
    sc = scenario.load(tmp_path / "s.yaml")
    points = trace.synthesise(sc)
    assert len(points) == 901 and abs(points[300].speed_mps - 1.4) < 0.05
    result = verdict.score(sim.execute(sc, keep_nmea=False))
    assert result.must_alert == 1 and result.passed, result
