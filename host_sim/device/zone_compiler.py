"""Compile zones for the tag's geofence kernel (firmware/geofence.py, firmware/zone.py).

Each zone gets its own integer grid: origin at the centre of its bounding box,
unit 5, 10 or 20 cm (the finest that holds the zone, its warning ring and its
reach). Every grid coordinate lies in [-GRID, GRID], so the kernel's arithmetic
fits a signed 32-bit word on the ESP32. Zones that do not fit, or have too many
edges, are refused with the reason.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from host_sim.world.zones import Zone, ZoneError

GRID = 11585
UNIT = 32768  # edge unit directions in Q15
EDGE_WORDS = 7
UNITS_CM = (5, 10, 20)
MAX_EDGES = 512
REACH_MARGIN_M = 250  # beyond the warning ring, distances stay exact this far out
HEAD = "<2sBBBBHHHH8siiqqqB"
VERSION = 1
KINDS = {"exclusion": 0, "inclusion": 1}

_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)


def constants(lat0_e7: int, unit_cm: int) -> tuple[int, int, int]:
    """KY, KX0, KXD of firmware/geoproj.py, from the WGS84 radii in floating point."""
    units_per_m = 100 // unit_cm
    phi = math.radians(lat0_e7 / 1e7)
    w = 1 - _E2 * math.sin(phi) ** 2
    n = _A / math.sqrt(w)
    m = _A * (1 - _E2) / w**1.5
    rad_e7 = math.radians(1e-7)
    dmx = -n * math.sin(phi) * (1 - _E2) / w * rad_e7 * rad_e7
    return (
        round(m * rad_e7 * units_per_m * 2**32),
        round(n * math.cos(phi) * rad_e7 * units_per_m * 2**32),
        round(dmx * units_per_m * 2**63),
    )


def project(dlat: int, dlon: int, ky: int, kx0: int, kxd: int) -> tuple[int, int]:
    """Grid point of an offset in 1e-7 degrees: the tag's own formula, exactly."""
    kx = kx0 + ((dlat * kxd) >> 32)
    return (dlon * kx + (1 << 31)) >> 32, (dlat * ky + (1 << 31)) >> 32


def e7(degrees: float) -> int:
    return round(degrees * 1e7)


@dataclass
class CompiledZone:
    zone: Zone
    zone_id: bytes
    unit_cm: int
    lat0: int
    lon0: int
    ky: int
    kx0: int
    kxd: int
    reach: int
    radius: int
    edges: list[tuple[int, int, int, int]]  # ax, ay, bx, by, centred grid units
    blob: bytes

    def kernel_words(self) -> list[int]:
        """The words firmware/zone.py hands to the viper kernel: header, then edges."""
        n = len(self.edges)
        body = self.blob[len(self.blob) - (8 + 4 * EDGE_WORDS * n):]
        return [n, *struct.unpack_from("<HHHH", body), self.reach,
                *struct.unpack_from(f"<{EDGE_WORDS * n}I", body, 8)]

    def grid(self, lat: float, lon: float) -> tuple[int, int]:
        return project(e7(lat) - self.lat0, e7(lon) - self.lon0, self.ky, self.kx0, self.kxd)


def zone_id(seed: str, index: int) -> bytes:
    """An 8-byte identifier derived from the order's seed: says nothing of the place."""
    return hashlib.sha256(f"{seed}/{index}".encode()).digest()[:8]


def _rings(zone: Zone) -> list[list[tuple[float, float]]]:
    geom = zone.geometry
    assert geom is not None
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    rings = []
    for p in polys:
        for ring in [p.exterior, *p.interiors]:
            rings.append([(x, y) for x, y, *_ in ring.coords])
    return rings


def _grid_rings(zone: Zone, lat0: int, lon0: int, k: tuple[int, int, int]) -> list[list[tuple[int, int]]]:
    out = []
    for ring in _rings(zone):
        pts: list[tuple[int, int]] = []
        for lon, lat in ring:
            p = project(e7(lat) - lat0, e7(lon) - lon0, *k)
            if not pts or pts[-1] != p:
                pts.append(p)
        if pts[0] == pts[-1]:
            pts.pop()
        out.append(pts)
    return out


def compile_zone(zone: Zone, ident: bytes, reach_margin_m: int = REACH_MARGIN_M) -> CompiledZone:
    where = f"zone {zone.name!r}"
    west, south, east, north = zone.lonlat_bounds()
    lat0, lon0 = e7((south + north) / 2), e7((west + east) / 2)
    reach_m = zone.warning_m + reach_margin_m
    for unit in UNITS_CM:
        k = constants(lat0, unit)
        reach = math.ceil(reach_m * 100 / unit)
        if zone.is_circle:
            radius = round(zone.radius_m * 100 / unit)
            if radius + reach <= GRID:
                break
        else:
            rings = _grid_rings(zone, lat0, lon0, k)
            extent = max(max(abs(x), abs(y)) for ring in rings for x, y in ring)
            if extent + reach <= GRID:
                break
    else:
        span = GRID * UNITS_CM[-1] // 100
        raise ZoneError(f"{where}: too large for one grid: with its warning ring and {reach_margin_m} m "
                        f"of reach it must lie within {span} m of its centre; split it into smaller zones")
    edges: list[tuple[int, int, int, int]] = []
    if not zone.is_circle:
        for i, ring in enumerate(rings):
            if len(ring) < 3:
                raise ZoneError(f"{where}: ring {i} collapses to fewer than 3 points on a {unit} cm grid")
            edges += [(*ring[j], *ring[(j + 1) % len(ring)]) for j in range(len(ring))]
        if len(edges) > MAX_EDGES:
            raise ZoneError(f"{where}: {len(edges)} edges; the tag takes at most {MAX_EDGES}: simplify it")
    radius = round(zone.radius_m * 100 / unit) if zone.is_circle else 0
    blob = _pack(zone, ident, unit, lat0, lon0, k, reach, radius, edges)
    return CompiledZone(zone, ident, unit, lat0, lon0, *k, reach, radius, edges, blob)


def _pack(zone: Zone, ident: bytes, unit: int, lat0: int, lon0: int, k: tuple[int, int, int],
          reach: int, radius: int, edges: list[tuple[int, int, int, int]]) -> bytes:
    head = struct.pack(HEAD, b"EZ", VERSION, KINDS[zone.kind], 1 if zone.is_circle else 0, unit,
                       len(edges), zone.warning_m, reach, radius, ident, lat0, lon0, *k,
                       len(zone.schedule))
    windows = b"".join(struct.pack("<BHH", w.days, w.start_min, w.end_min) for w in zone.schedule)
    if edges:
        xs = [v for e in edges for v in (e[0], e[2])]
        ys = [v for e in edges for v in (e[1], e[3])]
        bbox = struct.pack("<HHHH", min(xs) + GRID, min(ys) + GRID, max(xs) + GRID, max(ys) + GRID)
    else:
        bbox = struct.pack("<HHHH", 0, 0, 0, 0)
    words = []
    for ax, ay, bx, by in edges:
        ex, ey = bx - ax, by - ay
        length = math.hypot(ex, ey)
        words += [ax + GRID, ay + GRID, bx + GRID, by + GRID, ex * ex + ey * ey,
                  round(ex / length * UNIT) + UNIT, round(ey / length * UNIT) + UNIT]
    return head + windows + bbox + struct.pack(f"<{len(words)}I", *words)


def compile_zones(zones: Sequence[Zone], seed: str) -> tuple[list[CompiledZone], bytes]:
    """Every zone of an order, and the zones file the tag loads (b"EZS", count, zones)."""
    if len(zones) > 255:
        raise ZoneError(f"{len(zones)} zones: the tag takes at most 255")
    compiled = [compile_zone(z, zone_id(seed, i)) for i, z in enumerate(zones)]
    return compiled, b"EZS" + bytes([len(compiled)]) + b"".join(c.blob for c in compiled)
