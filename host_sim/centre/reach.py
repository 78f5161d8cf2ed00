"""Could a tag's wearer have been at a crime? Judged for many (crime, tag) pairs at
once, in numpy, from the tags' breadcrumbs about each crime's window (docs/trails.md).

Between two breadcrumbs a and b (t_a < t), the wearer at t lies within v (t - t_a) + u_a
of a and within v (t_b - t) + u_b of b (v the largest plausible speed, u a fix's
uncertainty): the space-time prism. Its distance from the crime is at least the larger
of the two discs' distances from it, and that bound is what is compared with the
radius, so no tag that could have been there is left out. Breadcrumbs further apart than
the gap limit bound nothing: that stretch is "no data", reported as such and never read
as absence.

Distances are taken on a plane at the scene, degrees scaled by the WGS84 ellipsoid's
metres per degree there: off the geodesic by under 6e-8 d^2 m at d m in the UK (5 cm at
1 km, 1.4 m at 5 km, 21 m at 20 km; tests/host/test_crimes.py holds it to pyproj), and a
straight walk between two fixes stays straight on it, so its closest approach and its
time inside the radius are solved rather than sampled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np

from host_sim.centre.views import iso

MAX_SPEED_MPS = 30.0  # a car in town, hurried: further than this in the time is not plausible
GAP_S = 600  # breadcrumbs further apart than this bound nothing between them
STRONG, NEAR, PATH, NO_DATA = "fix inside", "fix near", "path through", "no data"
RANK = {STRONG: 0, NEAR: 1, PATH: 2, NO_DATA: 3}
_NONE = 9  # no rank: could not have been there
_INSIDE, _NEAR, _PATH, _GAP_ONLY = RANK[STRONG], RANK[NEAR], RANK[PATH], RANK[NO_DATA]
_WGS84_A, _WGS84_E2 = 6378137.0, 6.69437999014e-3
# a breadcrumb as the trail's hours keep it; its sequence number (32 bits, as sent) orders two of a second
CRUMB = np.dtype([("utc", "<i8"), ("lat_e7", "<i4"), ("lon_e7", "<i4"), ("unc_m", "<i4"), ("seq", "<u4")])


@dataclass(frozen=True)
class Crime:
    ref: str
    offence: str
    lat: float
    lon: float
    from_utc: int
    to_utc: int
    radius_m: float


@dataclass(slots=True)
class Hit:
    ref: str
    device: str
    strength: str  # STRONG: a fix within the radius, its uncertainty too; NEAR: a fix whose
    # uncertainty reaches it; PATH: only the trail between fixes could pass; NO_DATA: a gap
    closest_m: float  # the nearest the likely path came: a fix, less its uncertainty, or straight between fixes
    closest_utc: int
    inside_s: int  # how long a straight walk between the fixes stays within the radius
    gaps: list[tuple[int, int]] = field(default_factory=list)  # no data, inside the window

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "device": self.device, "strength": self.strength,
                "closest_m": None if math.isnan(self.closest_m) else round(self.closest_m, 1),
                "closest_time": iso(self.closest_utc),
                "inside_s": self.inside_s, "gaps": [[iso(a), iso(b)] for a, b in self.gaps]}


def metres_per_degree(lat: Any) -> tuple[Any, Any]:
    """The plane at a latitude (degrees): metres per degree north, and east, on WGS84."""
    s = np.sin(np.radians(lat))
    w = np.sqrt(1 - _WGS84_E2 * s * s)
    return np.radians(1.0) * _WGS84_A * (1 - _WGS84_E2) / w ** 3, np.radians(1.0) * _WGS84_A / w * np.cos(
        np.radians(lat))


@dataclass
class Trails:
    """Tags' breadcrumbs, one array each, sorted by tag, time and sequence number;
    tag k's are [start[k], start[k + 1])."""
    devices: list[str]
    start: np.ndarray
    crumbs: np.ndarray  # of CRUMB

    @classmethod
    def of(cls, devices: list[str], per_device: Sequence[np.ndarray]) -> Trails:
        sizes = [len(a) for a in per_device]
        return cls(devices, np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]),
                   np.concatenate(per_device) if per_device else np.zeros(0, CRUMB))


def judge(wanted: Sequence[Crime], crime: np.ndarray, tag: np.ndarray, trails: Trails,
          max_speed: float = MAX_SPEED_MPS) -> list[Hit]:
    """Each pair (wanted[crime[i]], trails' tag[i]) judged from the tag's breadcrumbs from
    GAP_S before the crime's window to GAP_S after: a Hit, in the pairs' order, for each
    tag that could have been there or has a gap in which it could; nothing for a tag
    with no breadcrumb about the window."""
    c_lat = np.array([c.lat for c in wanted], float)
    c_lon = np.array([c.lon for c in wanted], float)
    c_from = np.array([c.from_utc for c in wanted], np.int64)
    c_to = np.array([c.to_utc for c in wanted], np.int64)
    per_lat, per_lon = metres_per_degree(c_lat)
    k = trails.crumbs
    rank, m, at, secs, g_pair, g_lo, g_hi = _judge(
        crime, tag, trails.start, c_lat, c_lon, np.array([c.radius_m for c in wanted], float), c_from, c_to,
        per_lat, per_lon, k["utc"], k["lat_e7"] / 1e7, k["lon_e7"] / 1e7, k["unc_m"].astype(float), float(max_speed))
    gaps: dict[int, list[tuple[int, int]]] = {}
    for p, a, b in zip(g_pair.tolist(), g_lo.tolist(), g_hi.tolist(), strict=True):
        gaps.setdefault(p, []).append((a, b))
    names = list(RANK)
    found = np.flatnonzero(rank != _NONE)
    hits = []
    for i, c, t, r, near_m, near_at, inside in zip(found.tolist(), crime[found].tolist(), tag[found].tolist(),
                                                 rank[found].tolist(), m[found].tolist(), at[found].tolist(),
                                                 secs[found].tolist(), strict=True):
        g = gaps.get(i, [])
        when = g[0][0] if r == _GAP_ONLY else near_at
        hits.append(Hit(wanted[c].ref, trails.devices[t], names[r], near_m, when, inside, g))
    return hits


@numba.njit(cache=True)
def _judge(crime, tag, start, c_lat, c_lon, c_r, c_from, c_to, per_lat, per_lon, utc, lat, lon, unc, v):  # type: ignore[no-untyped-def]
    """judge's loops: each pair's rank (_NONE if no hit), closest approach, its time and
    the seconds inside; and the gaps in the windows, as (pair, from, to), in order."""
    pairs = len(crime)
    s, e = np.empty(pairs, np.int64), np.empty(pairs, np.int64)
    for p in range(pairs):  # the tag's breadcrumbs about the window
        a, b = start[tag[p]], start[tag[p] + 1]
        s[p] = a + np.searchsorted(utc[a:b], c_from[crime[p]] - GAP_S, "left")
        e[p] = a + np.searchsorted(utc[a:b], c_to[crime[p]] + GAP_S, "right")
    rank = np.full(pairs, _NONE, np.int64)
    best_m, best_at, secs = np.full(pairs, np.nan), np.zeros(pairs, np.int64), np.zeros(pairs, np.int64)
    room = int(np.sum(np.maximum(e - s, 0))) + 2 * pairs
    g_pair, g_lo, g_hi = np.empty(room, np.int64), np.empty(room, np.int64), np.empty(room, np.int64)
    gaps = 0
    for p in range(pairs):
        if e[p] <= s[p]:
            continue
        c = crime[p]
        lo_w, hi_w, r = c_from[c], c_to[c], c_r[c]
        ky, kx = per_lat[c], per_lon[c]
        near_m, near_at, inside, found, gap_reached = np.inf, 0, 0, _NONE, False
        hi = min(utc[s[p]], hi_w)
        if lo_w < hi:  # the window opens before the first fix
            g_pair[gaps], g_lo[gaps], g_hi[gaps] = p, lo_w, hi
            gaps += 1
            gap_reached = True
        for k in range(s[p], e[p]):
            xa, ya = (lon[k] - c_lon[c]) * kx, (lat[k] - c_lat[c]) * ky
            da = math.sqrt(xa * xa + ya * ya)
            if lo_w <= utc[k] <= hi_w:
                if da + unc[k] <= r:
                    found = min(found, _INSIDE)
                elif da - unc[k] <= r:
                    found = min(found, _NEAR)
                fix_m = max(0.0, da - unc[k])
                if fix_m < near_m:
                    near_m, near_at = fix_m, utc[k]
            if k + 1 == e[p]:
                break
            ta, tb = utc[k], utc[k + 1]
            lo, hi = max(ta, lo_w), min(tb, hi_w)
            if lo > hi:
                continue
            xb, yb = (lon[k + 1] - c_lon[c]) * kx, (lat[k + 1] - c_lat[c]) * ky
            # the prism: the larger of the two discs' distances, lowest where they cross
            fa, fb = da - unc[k], math.sqrt(xb * xb + yb * yb) - unc[k + 1]
            tc = min(hi, max(lo, np.rint((fa - fb + v * (ta + tb)) / (2 * v))))
            reached = max(0.0, fa - v * (tc - ta), fb - v * (tb - tc)) <= r
            if tb - ta > GAP_S:
                if lo < hi:
                    g_pair[gaps], g_lo[gaps], g_hi[gaps] = p, lo, hi
                    gaps += 1
                    gap_reached |= reached
                continue
            if reached:
                found = min(found, _PATH)
            # the likely path: a steady walk from a to b, over the whole seconds of [lo, hi]
            step = max(1, tb - ta)
            wx, wy = (xb - xa) / step, (yb - ya) / step
            ww, aw, aa = wx * wx + wy * wy, xa * wx + ya * wy, xa * xa + ya * ya
            vertex = ta - aw / ww if ww > 0 else float(lo)
            early, late = min(hi, max(lo, math.floor(vertex))), min(hi, max(lo, math.ceil(vertex)))
            d_early = math.hypot(xa + (early - ta) * wx, ya + (early - ta) * wy)
            d_late = math.hypot(xa + (late - ta) * wx, ya + (late - ta) * wy)
            walk_m, walk_at = (d_late, late) if d_late < d_early else (d_early, early)
            if walk_m < near_m or walk_m == near_m and walk_at < near_at:
                near_m, near_at = walk_m, walk_at
            if ww > 0:  # within r where ww s^2 + 2 aw s + aa - r^2 <= 0, s the seconds from ta
                disc = aw * aw - ww * (aa - r * r)
                if disc >= 0:
                    first = max(lo, ta + math.ceil((-aw - math.sqrt(disc)) / ww))
                    final = min(hi - 1, ta + math.floor((-aw + math.sqrt(disc)) / ww))
                    inside += max(0, final - first + 1)
            elif aa <= r * r:
                inside += hi - lo
        lo = max(utc[e[p] - 1], lo_w)
        if lo < hi_w:  # the window closes after the last fix
            g_pair[gaps], g_lo[gaps], g_hi[gaps] = p, lo, hi_w
            gaps += 1
            gap_reached = True
        if found != _NONE:
            rank[p], best_m[p], best_at[p], secs[p] = found, near_m, near_at, inside
        elif gap_reached:
            rank[p] = _GAP_ONLY
    return rank, best_m, best_at, secs, g_pair[:gaps], g_lo[:gaps], g_hi[:gaps]
