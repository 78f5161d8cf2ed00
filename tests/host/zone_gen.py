"""Hypothesis strategies for zones at UK latitudes, and the independent oracle:
pyproj's azimuthal equidistant projection about the zone's origin, and shapely."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from pyproj import Geod, Transformer
from shapely import transform as shapely_transform
from shapely.geometry import MultiPolygon, Point, Polygon, shape

GEOD = Geod(ellps="WGS84")


def offset(lat: float, lon: float, east_m: float, north_m: float) -> tuple[float, float]:
    """lon, lat of a point east_m, north_m from (lat, lon), along geodesics."""
    lon1, lat1, _ = GEOD.fwd(lon, lat, 0, north_m)
    lon2, lat2, _ = GEOD.fwd(lon1, lat1, 90, east_m)
    return lon2, lat2


@st.composite
def centre(draw: st.DrawFn) -> tuple[float, float]:
    """lat, lon: anywhere in Great Britain's latitudes, often at the Greenwich meridian."""
    lat = draw(st.floats(50.0, 58.6))
    lon = draw(st.one_of(st.floats(-5.5, 1.7), st.floats(-0.01, 0.01)))
    return lat, lon


def _ring(lat: float, lon: float, pts_m: list[tuple[float, float]]) -> list[tuple[float, float]]:
    ring = [offset(lat, lon, e, n) for e, n in pts_m]
    return [*ring, ring[0]]


@st.composite
def star_ring(draw: st.DrawFn, r_min: float, r_max: float, convex: bool = False,
              around: bool = False) -> list[tuple[float, float]]:
    """Vertices (east, north metres) of a star-shaped ring about the origin: always
    simple. around=True spreads them evenly, so the ring surely encloses the origin."""
    n = draw(st.integers(8 if around else 3, 64))
    if around:
        angles = [(k + draw(st.floats(0, 0.5))) * 2 * math.pi / n for k in range(n)]
    else:
        slots = sorted(draw(st.lists(st.integers(0, 3599), min_size=n, max_size=n, unique=True)))
        angles = [k * 2 * math.pi / 3600 for k in slots]  # at least 0.1 degree apart
    if convex:
        r = draw(st.floats(r_min, r_max))
        radii = [r] * n
    else:
        radii = draw(st.lists(st.floats(r_min, r_max), min_size=n, max_size=n))
    pts = [(r * math.cos(a), r * math.sin(a)) for a, r in zip(angles, radii, strict=True)]
    if Polygon(pts).area < 1.0:
        pts = [(r_min * math.cos(a), r_min * math.sin(a)) for a in (0, 2.1, 4.2)]
    return pts


@st.composite
def zone_feature(draw: st.DrawFn) -> dict[str, Any]:
    lat, lon = draw(centre())
    form = draw(st.sampled_from(["convex", "star", "holed", "sliver", "staircase", "multi"]))
    size = draw(st.floats(30, 1200))
    if form in ("convex", "star"):
        rings = [_ring(lat, lon, draw(star_ring(size / 4, size, convex=form == "convex")))]
        geometry = {"type": "Polygon", "coordinates": rings}
    elif form == "holed":
        outer = draw(star_ring(size / 2, size, around=True))
        hole = draw(star_ring(size / 10, size / 4.5, around=True))
        geometry = {"type": "Polygon", "coordinates": [_ring(lat, lon, outer), _ring(lat, lon, hole)[::-1]]}
    elif form == "sliver":
        width = draw(st.floats(1.0, 8.0))
        angle = draw(st.floats(0, math.pi))
        c, s = math.cos(angle), math.sin(angle)
        pts = [(-size, -width / 2), (size, -width / 2), (size, width / 2), (-size, width / 2)]
        geometry = {"type": "Polygon",
                    "coordinates": [_ring(lat, lon, [(x * c - y * s, x * s + y * c) for x, y in pts])]}
    elif form == "staircase":
        # vertices on shared parallels and meridians: horizontal edges, collinear runs
        step = size / 4
        pts = [(0, 0), (4 * step, 0), (4 * step, step), (3 * step, step), (3 * step, 2 * step),
               (step, 2 * step), (step, 3 * step), (0, 3 * step)]
        ring = [(round(lon + e / 70000, 4), round(lat + n / 111000, 4)) for e, n in pts]
        geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    else:
        size = min(size, 500)
        a = _ring(lat, lon, [(x - 2.5 * size, y) for x, y in draw(star_ring(size / 4, size))])
        b = _ring(lat, lon, [(x + 2.5 * size, y) for x, y in draw(star_ring(size / 4, size))])
        geometry = {"type": "MultiPolygon", "coordinates": [[a], [b]]}
    assume(shape(geometry).is_valid)  # a few random stars fold over: not zones anyone draws
    warning = draw(st.sampled_from([0, 50, 100, 300]))
    return {"type": "Feature", "geometry": geometry,
            "properties": {"kind": "exclusion", "warning_m": warning, "name": form}}


class Oracle:
    """Signed distance (metres, positive inside) by pyproj + shapely, about a given origin."""

    def __init__(self, geometry: Polygon | MultiPolygon, lat0: float, lon0: float) -> None:
        self.to_m = Transformer.from_crs(
            "EPSG:4326", f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +ellps=WGS84 +units=m", always_xy=True)
        self.shape = shapely_transform(geometry, lambda xy: self._xy(xy))

    def _xy(self, xy: Any) -> Any:
        import numpy as np

        x, y = self.to_m.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    def depth(self, lat: float, lon: float) -> float:
        p = Point(self.to_m.transform(lon, lat))
        d = self.shape.boundary.distance(p)
        return d if self.shape.contains(p) else -d
