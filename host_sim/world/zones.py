"""Zones as an operator draws them: GeoJSON features (RFC 7946, lon/lat order).

A zone is a Feature whose geometry is a Polygon (holes allowed) or MultiPolygon,
or a Point with a `radius_m` property for a circle. Properties:

  kind        "exclusion" (default) or "inclusion"
  warning_m   width of the warning ring outside an exclusion zone (default 0)
  schedule    optional weekly windows in Europe/London time, each
              {"days": "Mon-Fri" | "Sat,Sun" | "daily", "start": "08:00", "end": "18:00"};
              an end not after the start runs overnight
  name        the operator's label; never sent to the tag
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.validation import explain_validity

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


class ZoneError(ValueError):
    """A zone that cannot be used, with what is wrong and how to fix it."""


@dataclass(frozen=True)
class Window:
    days: int  # bit 0 Monday .. bit 6 Sunday
    start_min: int
    end_min: int


@dataclass
class Zone:
    name: str
    kind: str
    geometry: Polygon | MultiPolygon | None  # None for a circle
    warning_m: int = 0
    centre: tuple[float, float] | None = None  # lon, lat of a circle
    radius_m: int = 0
    schedule: list[Window] = field(default_factory=list)

    @property
    def is_circle(self) -> bool:
        return self.geometry is None

    def lonlat_bounds(self) -> tuple[float, float, float, float]:
        if self.geometry is not None:
            b = self.geometry.bounds
            return (b[0], b[1], b[2], b[3])
        assert self.centre is not None
        return (self.centre[0], self.centre[1], self.centre[0], self.centre[1])


def _days(text: str, where: str) -> int:
    text = text.strip()
    if text.lower() == "daily":
        return 0x7F
    mask = 0
    for part in text.split(","):
        ends = [p.strip().title()[:3] for p in part.split("-")]
        if any(e not in DAYS for e in ends) or len(ends) > 2:
            raise ZoneError(f"{where}: days {text!r}: expected e.g. 'Mon-Fri', 'Sat,Sun' or 'daily'")
        a, b = DAYS.index(ends[0]), DAYS.index(ends[-1])
        for d in range(a, (b if b >= a else b + 7) + 1):
            mask |= 1 << (d % 7)
    return mask


def _minute(text: str, where: str) -> int:
    if not isinstance(text, str) or not _TIME.match(text):
        raise ZoneError(f"{where}: time {text!r}: expected HH:MM (00:00 to 24:00)")
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def parse_schedule(items: Any, where: str) -> list[Window]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise ZoneError(f"{where}: schedule must be a list of windows")
    windows = []
    for i, w in enumerate(items):
        at = f"{where}: schedule[{i}]"
        if not isinstance(w, dict) or set(w) != {"days", "start", "end"}:
            raise ZoneError(f"{at}: expected {{days, start, end}}")
        start, end = _minute(w["start"], at), _minute(w["end"], at)
        if start == 1440:
            raise ZoneError(f"{at}: a window cannot start at 24:00")
        windows.append(Window(_days(w["days"], at), start, end))
    return windows


def _check_rings(coords: Any, where: str) -> None:
    for k, ring in enumerate(coords):
        if len(ring) < 4:
            raise ZoneError(f"{where}: ring {k} has {len(ring)} positions; a ring needs at least 4")
        if list(ring[0]) != list(ring[-1]):
            raise ZoneError(f"{where}: ring {k} is not closed: its last position must repeat the first "
                            f"{list(ring[0])}")
        for pos in ring:
            lon, lat = pos[0], pos[1]
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ZoneError(f"{where}: position {list(pos)} is not lon, lat in degrees (RFC 7946 order)")


def from_feature(feature: dict[str, Any], where: str = "zone") -> Zone:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ZoneError(f"{where}: expected a GeoJSON Feature")
    props = feature.get("properties") or {}
    known = {"kind", "warning_m", "schedule", "name", "radius_m"}
    unknown = set(props) - known
    if unknown:
        raise ZoneError(f"{where}: unknown properties {sorted(unknown)}; known: {sorted(known)}")
    kind = props.get("kind", "exclusion")
    if kind not in ("exclusion", "inclusion"):
        raise ZoneError(f"{where}: kind {kind!r}: expected 'exclusion' or 'inclusion'")
    warning = props.get("warning_m", 0)
    if not isinstance(warning, int) or not 0 <= warning <= 5000:
        raise ZoneError(f"{where}: warning_m must be whole metres, 0 to 5000")
    name = str(props.get("name", where))
    schedule = parse_schedule(props.get("schedule"), where)
    geom = feature.get("geometry") or {}
    gtype = geom.get("type")
    if gtype == "Point":
        radius = props.get("radius_m")
        if not isinstance(radius, int) or radius <= 0:
            raise ZoneError(f"{where}: a Point zone needs radius_m, whole metres above 0")
        lon, lat = geom["coordinates"][:2]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ZoneError(f"{where}: centre {[lon, lat]} is not lon, lat in degrees")
        return Zone(name, kind, None, warning, (lon, lat), radius, schedule)
    if gtype == "Polygon":
        _check_rings(geom["coordinates"], where)
    elif gtype == "MultiPolygon":
        for i, poly in enumerate(geom["coordinates"]):
            _check_rings(poly, f"{where}: polygon {i}")
    else:
        raise ZoneError(f"{where}: geometry {gtype!r}: expected Polygon, MultiPolygon or Point")
    if "radius_m" in props:
        raise ZoneError(f"{where}: radius_m is only for Point zones")
    g = shape(geom)
    if not g.is_valid:
        raise ZoneError(f"{where}: invalid polygon: {explain_validity(g)}")
    assert isinstance(g, (Polygon, MultiPolygon))
    return Zone(name, kind, g, warning, None, 0, schedule)


def to_feature(zone: Zone) -> dict[str, Any]:
    """The zone back as GeoJSON (for maps and reports)."""
    props: dict[str, Any] = {"name": zone.name, "kind": zone.kind, "warning_m": zone.warning_m}
    if zone.is_circle:
        assert zone.centre is not None
        props["radius_m"] = zone.radius_m
        geometry = Point(zone.centre).__geo_interface__
    else:
        assert zone.geometry is not None
        geometry = zone.geometry.__geo_interface__
    if zone.schedule:
        props["schedule"] = [
            {"days": ",".join(d for i, d in enumerate(DAYS) if w.days >> i & 1),
             "start": f"{w.start_min // 60:02d}:{w.start_min % 60:02d}",
             "end": f"{w.end_min // 60:02d}:{w.end_min % 60:02d}"}
            for w in zone.schedule]
    return {"type": "Feature", "geometry": geometry, "properties": props}
