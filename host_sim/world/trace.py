"""The wearer's true position, second by second, from a scenario's route."""

from __future__ import annotations

import math
from dataclasses import dataclass

import gpxpy
from pyproj import Geod

from host_sim.world.scenario import Scenario, ScenarioError

GEOD = Geod(ellps="WGS84")
BUS_STOP_EVERY_M = 400.0
BUS_STOP_S = 20


@dataclass(frozen=True)
class TruePoint:
    t: int  # seconds from the scenario start
    lat: float
    lon: float
    speed_mps: float
    course_deg: float
    env: str | None = None  # the leg's own sky, if it names one


def synthesise(sc: Scenario) -> list[TruePoint]:
    """One true point per second from 0 to the duration, deterministic."""
    if sc.gpx is not None:
        return _from_gpx(sc)
    assert sc.route_start is not None
    lat, lon = sc.route_start
    points: list[TruePoint] = []
    t = 0
    course = 0.0
    for leg in sc.legs:
        if leg.to is None:
            for _ in range(leg.dwell_s):
                points.append(TruePoint(t, lat, lon, 0.0, course, leg.env))
                t += 1
            continue
        az, _, dist = GEOD.inv(lon, lat, leg.to[1], leg.to[0])
        course = az % 360
        travelled = 0.0
        next_stop = BUS_STOP_EVERY_M if leg.mode == "bus" else math.inf
        while travelled < dist:
            lon2, lat2, _ = GEOD.fwd(lon, lat, az, travelled)
            points.append(TruePoint(t, lat2, lon2, leg.speed_mps, course, leg.env))
            t += 1
            travelled += leg.speed_mps
            if travelled >= next_stop and travelled < dist:  # a bus calls at its stops
                lon3, lat3, _ = GEOD.fwd(lon, lat, az, travelled)
                for _ in range(BUS_STOP_S):
                    points.append(TruePoint(t, lat3, lon3, 0.0, course, leg.env))
                    t += 1
                next_stop += BUS_STOP_EVERY_M
        lat, lon = leg.to
    while t <= sc.duration_s:
        points.append(TruePoint(t, lat, lon, 0.0, course))
        t += 1
    return points[: sc.duration_s + 1]


def _from_gpx(sc: Scenario) -> list[TruePoint]:
    assert sc.gpx is not None
    try:
        gpx = gpxpy.parse(sc.gpx.read_text())
    except (OSError, gpxpy.gpx.GPXException) as e:
        raise ScenarioError(f"{sc.gpx}: not a readable GPX file ({e})") from None
    track = [p for trk in gpx.tracks for seg in trk.segments for p in seg.points]
    if len(track) < 2 or any(p.time is None for p in track):
        raise ScenarioError(f"{sc.gpx}: needs a track of at least two timed points")
    t0 = track[0].time
    assert t0 is not None
    stamped = [((p.time - t0).total_seconds(), p.latitude, p.longitude) for p in track if p.time]
    points = []
    j = 0
    for t in range(sc.duration_s + 1):
        while j + 1 < len(stamped) - 1 and stamped[j + 1][0] <= t:
            j += 1
        (ta, la, lo), (tb, lb, lob) = stamped[j], stamped[j + 1]
        f = min(1.0, max(0.0, (t - ta) / (tb - ta))) if tb > ta else 1.0
        az, _, dist = GEOD.inv(lo, la, lob, lb)
        lon, lat, _ = GEOD.fwd(lo, la, az, dist * f)
        speed = dist / (tb - ta) if tb > ta and t <= tb else 0.0
        points.append(TruePoint(t, lat, lon, speed, az % 360))
    return points
