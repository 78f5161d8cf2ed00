"""The oracle's rules, and scenario inputs by file (GPX route, GeoJSON zone)."""

import json
from datetime import UTC
from pathlib import Path
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim.judge import oracle, verdict
from host_sim.run import sim
from host_sim.world import scenario, trace
from host_sim.world.scenario import Oracle
from host_sim.world.zones import Zone

LOST_S = 20  # the tag's location-lost delay, shortened to fit the drawn traces


def _stays(ok: list[bool], a: int, b: int, at_least: int) -> int | None:
    """The first t in [a, b] that starts at_least seconds of ok, counted one by one."""
    for t in range(a, b + 1):
        if t + at_least - 1 <= b and all(ok[t:t + at_least]):
            return t
    return None


def _reference_musts(depth: list[float], active: list[bool], seen: list[bool], clear: list[bool],
                     o: Oracle) -> list[tuple[str, int, int, int]]:
    """(kind, entry, deep start or due time, end) by the definition, the slow way."""
    n = len(depth)
    out: list[tuple[str, int, int, int]] = []
    t = 0
    while t < n:
        if not (active[t] and depth[t] > 0):
            t += 1
            continue
        a = t
        while t < n and active[t] and depth[t] > 0:
            t += 1
        b = t - 1
        deep = [depth[s] >= o.must_depth_m for s in range(n)]
        shallow = [depth[s] >= o.shallow_depth_m for s in range(n)]
        met = [x for x in (_stays([deep[s] and seen[s] for s in range(n)], a, b, o.must_duration_s),
                           _stays([shallow[s] and clear[s] for s in range(n)], a, b, o.shallow_duration_s))
               if x is not None]
        if met:
            out.append(("breach", a, min(met), b))
        elif not any(seen[a:b + 1]) and (_stays(deep, a, b, o.must_duration_s) is not None
                                         or _stays(shallow, a, b, o.shallow_duration_s) is not None):
            o0, o1 = a, b
            while o0 > 0 and not seen[o0 - 1]:
                o0 -= 1
            while o1 + 1 < n and not seen[o1 + 1]:
                o1 += 1
            if o1 - o0 + 1 >= LOST_S and not any(m[0] == "location_lost" and m[2] == o0 + LOST_S for m in out):
                out.append(("location_lost", a, o0 + LOST_S, o1))
    return out


class _Sc:
    def __init__(self, o: Oracle) -> None:
        self.oracle = o


@given(st.lists(st.tuples(st.floats(-60, 60), st.booleans(), st.booleans(), st.booleans()), min_size=1,
                max_size=300),
       st.integers(1, 30), st.floats(0, 40), st.integers(1, 60), st.floats(0, 40))
@settings(max_examples=300)
def test_must_alert_intervals(seconds: list[tuple[float, bool, bool, bool]], duration: int, must_depth: float,
                              shallow_duration: int, shallow_depth: float) -> None:
    depth, active, seen, clear = (list(x) for x in zip(*seconds, strict=True))
    clear = [c and s for c, s in zip(clear, seen, strict=True)]  # an open sky is a sky with fixes
    o = Oracle(must_depth_m=must_depth, must_duration_s=duration, shallow_depth_m=shallow_depth,
               shallow_duration_s=shallow_duration)
    zt = oracle.ZoneTruth(Zone("z", "exclusion", None), np.array(depth), np.array(active), np.array(seen),
                          np.array(clear))
    with mock.patch.object(oracle, "LOCATION_LOST_S", LOST_S):
        got = [(m.kind, m.entry_t, m.deep_t, m.end_t)
               for m in oracle.must_alerts(_Sc(o), [zt])]  # type: ignore[arg-type]
    assert got == _reference_musts(depth, active, seen, clear, o)


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
