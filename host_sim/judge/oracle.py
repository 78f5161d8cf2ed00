"""Ground truth from the TRUE trace and the zones, by independent geometry
(pyproj's geodesic and azimuthal equidistant projections, shapely). It never
calls firmware code and never looks at the reported fixes.

For each zone, second by second, the violation depth (metres into the forbidden
side: inside an exclusion zone, outside an inclusion zone) and whether the zone's
schedule has it in force. From those:
- must-alert intervals: in force and at least must_depth_m deep for at least
  must_duration_s; the breach began when that spell inside began;
- false-alert times: the wearer at least safe_distance_m clear of the forbidden
  side, or the zone out of force (beyond a minute's grace either side);
- everything else is grey: an alert there is neither required nor false.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from pyproj import Geod, Transformer

from host_sim.world.scenario import LONDON, Scenario
from host_sim.world.trace import TruePoint
from host_sim.world.zones import Window, Zone

GEOD = Geod(ellps="WGS84")
SCHEDULE_GRACE_S = 60


@dataclass
class MustAlert:
    zone: int
    entry_t: int  # seconds from the start: the wearer crossed into the zone
    deep_t: int  # first second at must_depth_m
    end_t: int  # last second of the spell


@dataclass
class ZoneTruth:
    zone: Zone
    depth_m: np.ndarray  # violation depth per second
    active: np.ndarray  # bool per second

    def false_at(self, t: int, safe_m: float) -> bool:
        lo, hi = max(0, t - SCHEDULE_GRACE_S), min(len(self.active), t + SCHEDULE_GRACE_S + 1)
        if not self.active[lo:hi].any():
            return True
        return bool(self.depth_m[t] <= -safe_m)


def project(geometry: Any, transformer: Transformer) -> Any:
    """A shapely geometry through a pyproj transformer (x = lon, y = lat in degrees)."""
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def signed_depth(zone: Zone, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Metres inside the zone (negative outside), geodesically."""
    if zone.is_circle:
        assert zone.centre is not None
        clon, clat = zone.centre
        _, _, dist = GEOD.inv(np.full_like(lons, clon), np.full_like(lats, clat), lons, lats)
        return zone.radius_m - np.asarray(dist)
    assert zone.geometry is not None
    c = zone.geometry.centroid
    aeqd = Transformer.from_crs("EPSG:4326", f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +ellps=WGS84",
                                always_xy=True)
    shape = project(zone.geometry, aeqd)
    x, y = aeqd.transform(lons, lats)
    points = shapely.points(np.asarray(x), np.asarray(y))
    d = shapely.distance(shape.boundary, points)
    return np.where(shapely.contains(shape, points), d, -d)


def active_mask(zone: Zone, start_utc: int, n: int) -> np.ndarray:
    return schedule_mask(zone.schedule, start_utc, n) if zone.schedule else np.ones(n, dtype=bool)


def schedule_mask(schedule: list[Window], start_utc: int, n: int) -> np.ndarray:
    """Per second from start_utc: inside one of the weekly windows, in London time."""
    out = np.zeros(n, dtype=bool)
    for t in range(0, n, 60):  # windows are whole minutes
        local = datetime.fromtimestamp(start_utc + t, UTC).astimezone(LONDON)
        wd, minute = local.weekday(), local.hour * 60 + local.minute
        on = False
        for w in schedule:
            if w.start_min < w.end_min:
                on = on or bool(w.days >> wd & 1 and w.start_min <= minute < w.end_min)
            else:
                on = on or bool((w.days >> wd & 1 and minute >= w.start_min)
                                or (w.days >> ((wd + 6) % 7) & 1 and minute < w.end_min))
        out[t:t + 60] = on
    return out


def truths(sc: Scenario, trace: list[TruePoint]) -> list[ZoneTruth]:
    lats = np.array([p.lat for p in trace])
    lons = np.array([p.lon for p in trace])
    out = []
    for z in sc.zones:
        d = signed_depth(z, lats, lons)
        out.append(ZoneTruth(z, d if z.kind == "exclusion" else -d, active_mask(z, sc.start_utc, len(trace))))
    return out


def must_alerts(sc: Scenario, zt: list[ZoneTruth]) -> list[MustAlert]:
    out: list[MustAlert] = []
    o = sc.oracle
    for k, z in enumerate(zt):
        deep = (z.depth_m >= o.must_depth_m) & z.active
        inside = (z.depth_m > 0) & z.active
        t, n = 0, len(deep)
        while t < n:
            if not deep[t]:
                t += 1
                continue
            start = t
            while t < n and deep[t]:
                t += 1
            if t - start >= o.must_duration_s:
                entry = start
                while entry > 0 and inside[entry - 1]:
                    entry -= 1
                if out and out[-1].zone == k and out[-1].end_t >= entry:
                    out[-1].end_t = t - 1  # the same spell inside, deep twice
                else:
                    out.append(MustAlert(k, entry, start, t - 1))
    return out
