"""Ground truth from the TRUE trace and the zones, by independent geometry
(pyproj's geodesic and azimuthal equidistant projections, shapely). It never
calls firmware code and never looks at the reported fixes.

For each zone, second by second, the violation depth (metres into the forbidden
side: inside an exclusion zone, outside an inclusion zone), whether the zone's
schedule has it in force, and what the sky let a receiver see (a fix at all; an
open sky's metre-level fix). From those, for each spell on the forbidden side
with the zone in force (docs/breach-policy.md, What must be alerted):
- a breach alert is required when, with fixes possible, the wearer stayed at
  least must_depth_m deep for must_duration_s, or under an open sky at least
  shallow_depth_m deep for shallow_duration_s; latency counts from the spell's
  first second;
- a spell that would need one but that no true fix could see (all of it in a
  tunnel, under a jammer, or while a spoofer's false positions drown the real
  ones) requires a location-unavailable alert instead (location lost, shielding,
  jamming or spoofing suspected), once per outage, when the outage lasts the tag's
  LOCATION_LOST_S: due then;
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

from host_sim.world.gnss_model import SKIES, env_at
from host_sim.world.scenario import LONDON, Scenario
from host_sim.world.trace import TruePoint
from host_sim.world.zones import Window, Zone

GEOD = Geod(ellps="WGS84")
SCHEDULE_GRACE_S = 60
LOCATION_LOST_S = 600  # the tag's location_lost_s (docs/config.md): no fix this long raises location lost


@dataclass
class MustAlert:
    zone: int
    entry_t: int  # seconds from the start: the wearer crossed into the zone
    deep_t: int  # first second of the stay that met the rule; for location lost, when it is due
    end_t: int  # last second of the spell; for location lost, of the outage
    kind: str = "breach"  # or "location_lost": the spell unseen, inside an outage from outage_t
    outage_t: int = -1


@dataclass
class ZoneTruth:
    zone: Zone
    depth_m: np.ndarray  # violation depth per second
    active: np.ndarray  # bool per second
    seen: np.ndarray | None = None  # bool per second: a fix possible (None: everywhere)
    clear: np.ndarray | None = None  # bool per second: an open sky (None: everywhere)

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
    skies = [env_at(sc, p.t, p.env) for p in trace]
    faked = np.array([sc.faked(p.t) is not None for p in trace], dtype=bool)  # a jammer's or a spoofer's
    seen = np.array([SKIES[e].fix_prob > 0 for e in skies], dtype=bool) & ~faked
    clear = np.array([e == "open_sky" for e in skies], dtype=bool) & ~faked
    out = []
    for z in sc.zones:
        d = signed_depth(z, lats, lons)
        out.append(ZoneTruth(z, d if z.kind == "exclusion" else -d, active_mask(z, sc.start_utc, len(trace)),
                             seen, clear))
    return out


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) second of each run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _stay(mask: np.ndarray, at_least: int) -> int | None:
    """The first second of the first run of True at least at_least long."""
    return next((a for a, b in runs(mask) if b - a + 1 >= at_least), None)


def must_alerts(sc: Scenario, zt: list[ZoneTruth]) -> list[MustAlert]:
    out: list[MustAlert] = []
    o = sc.oracle
    for k, z in enumerate(zt):
        n = len(z.depth_m)
        seen = np.ones(n, dtype=bool) if z.seen is None else z.seen
        clear = np.ones(n, dtype=bool) if z.clear is None else z.clear
        for a, b in runs((z.depth_m > 0) & z.active):
            d, s, c = z.depth_m[a:b + 1], seen[a:b + 1], clear[a:b + 1]
            deep, shallow = d >= o.must_depth_m, d >= o.shallow_depth_m
            met = [t for t in (_stay(deep & s, o.must_duration_s), _stay(shallow & c, o.shallow_duration_s))
                   if t is not None]
            if met:
                out.append(MustAlert(k, a, a + min(met), b))
            elif not s.any() and (_stay(deep, o.must_duration_s) is not None
                                  or _stay(shallow, o.shallow_duration_s) is not None):
                o0 = a
                while o0 > 0 and not seen[o0 - 1]:
                    o0 -= 1
                o1 = b
                while o1 + 1 < n and not seen[o1 + 1]:
                    o1 += 1
                known = any(m.kind == "location_lost" and m.outage_t == o0 for m in out)
                if o1 - o0 + 1 >= LOCATION_LOST_S and not known:
                    out.append(MustAlert(k, a, o0 + LOCATION_LOST_S, o1, "location_lost", o0))
    return out
