"""Trails against reported crimes (docs/trails.md): crimes imported from a police CSV,
matched against every tag's breadcrumbs, evidence for one tag and one crime, the
retention purge and the audit of every query.

A tag could have been at a crime when its trail, bounded in space and time, reaches
the crime's radius in the crime's window. Between two breadcrumbs a and b (t_a < t),
the wearer at t lies within v (t - t_a) + u_a of a and within v (t_b - t) + u_b of b
(v the largest plausible speed, u a fix's uncertainty): the space-time prism. Its
distance from the crime is at least the larger of the two discs' distances from it,
and that bound is what is compared with the radius, so no tag that could have been
there is left out. Breadcrumbs further apart than the gap limit bound nothing: that
stretch is "no data", reported as such and never read as absence.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Geod, Transformer

from host_sim import wire
from host_sim.centre.db import SQLITE
from host_sim.centre.server import Centre
from host_sim.centre.views import iso
from host_sim.exits import CliError
from host_sim.world.scenario import LONDON, in_uk, london_minute, off_uk

GEOD = Geod(ellps="WGS84")
BNG = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)  # British National Grid to WGS84
MAX_SPEED_MPS = 30.0  # a car in town, hurried: further than this in the time is not plausible
GAP_S = 600  # breadcrumbs further apart than this bound nothing between them
RADIUS_M = 100.0
COLUMNS = ("reference", "offence", "lat", "lon", "easting", "northing", "from", "to", "radius_m")
STRONG, NEAR, PATH, NO_DATA = "fix inside", "fix near", "path through", "no data"


@dataclass(frozen=True)
class Crime:
    ref: str
    offence: str
    lat: float
    lon: float
    from_utc: int
    to_utc: int
    radius_m: float


@dataclass
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


def london(utc: int) -> str:
    return datetime.fromtimestamp(utc, UTC).astimezone(LONDON).strftime("%Y-%m-%d %H:%M")


# --- import ------------------------------------------------------------------------

def read_csv(path: Path) -> list[Crime]:
    """Every line checked; all the bad ones named (file:line: what), or the crimes."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise CliError(f"{path}: cannot be read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text: save the sheet as CSV UTF-8") from None
    rows = csv.DictReader(text.splitlines())
    missing = {"reference", "offence", "from", "to"} - set(rows.fieldnames or [])
    if missing:
        raise CliError(f"{path}:1: the header needs {', '.join(sorted(missing))} (columns: {', '.join(COLUMNS)})")
    unknown = set(rows.fieldnames or []) - set(COLUMNS)
    if unknown:
        raise CliError(f"{path}:1: unknown column {sorted(unknown)[0]!r} (columns: {', '.join(COLUMNS)})")
    crimes, errors, refs = [], [], set()
    for line, row in enumerate(rows, 2):
        try:
            crime = _crime(row)
            if crime.ref in refs:
                raise ValueError(f"reference {crime.ref} given twice")
            refs.add(crime.ref)
            crimes.append(crime)
        except ValueError as e:
            errors.append(f"{path}:{line}: {e}")
    if errors:
        raise CliError("\n".join(errors) + f"\n{len(errors)} bad line{'s' if len(errors) > 1 else ''}; "
                       "nothing imported")
    return crimes


def _crime(row: dict[str, str]) -> Crime:
    ref, offence = (row.get("reference") or "").strip(), (row.get("offence") or "").strip()
    if not ref or not offence:
        raise ValueError("reference and offence must not be empty")
    given = {k: (row.get(k) or "").strip() for k in ("lat", "lon", "easting", "northing")}
    if given["lat"] or given["lon"]:
        if given["easting"] or given["northing"]:
            raise ValueError("give lat and lon, or easting and northing, not both")
        lat, lon = _number(given["lat"], "lat"), _number(given["lon"], "lon")
    elif given["easting"] and given["northing"]:
        e, n = _number(given["easting"], "easting"), _number(given["northing"], "northing")
        if not (0 <= e <= 700_000 and 0 <= n <= 1_300_000):
            raise ValueError(f"easting {e:g}, northing {n:g} is not on the British National Grid")
        lon, lat = BNG.transform(e, n)
    else:
        raise ValueError("a place is needed: lat and lon (WGS84), or easting and northing (British National Grid)")
    if not in_uk(lat, lon):
        raise ValueError(f"({lat}, {lon}) is outside the UK grid; {off_uk(lat, lon, 'lat and lon swapped?')}")
    t0, t1 = _time(row.get("from", ""), "from"), _time(row.get("to", ""), "to")
    if t1 < t0:
        raise ValueError(f"to {row['to']!r} is before from {row['from']!r}")
    radius = _number(row["radius_m"], "radius_m") if (row.get("radius_m") or "").strip() else RADIUS_M
    if not 1 <= radius <= 5000:
        raise ValueError(f"radius_m {radius:g}: expected 1 to 5000 (metres)")
    return Crime(ref, offence, round(lat, 7), round(lon, 7), t0, t1, radius)


def _number(text: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{what} {text!r} is not a number")
    return v


def _time(text: str, what: str) -> int:
    try:
        return london_minute(text)
    except ValueError:
        raise ValueError(f"{what} {text!r}: expected YYYY-MM-DD HH:MM (London time)") from None


def store(centre: Centre, crimes: list[Crime]) -> tuple[int, int]:
    """The crimes into the centre, all or none: (new, already there). A reference already
    imported with other details is refused, naming it."""
    db, new, same = centre.db, 0, 0
    with db.transaction():
        for c in crimes:
            row = (c.ref, c.offence, round(c.lat * 1e7), round(c.lon * 1e7), c.from_utc, c.to_utc, c.radius_m)
            old = db.execute("SELECT ref, offence, lat_e7, lon_e7, from_utc, to_utc, radius_m FROM crimes "
                             "WHERE ref = ?", (c.ref,)).fetchone()
            if old is None:
                db.execute("INSERT INTO crimes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (*row, centre.clock()))
                new += 1
            elif tuple(old) == row:
                same += 1
            else:
                raise CliError(f"crime {c.ref} is already imported with other details; nothing imported")
    return new, same


def crimes(centre: Centre, refs: list[str] | None = None) -> list[Crime]:
    got = [Crime(r[0], r[1], r[2] / 1e7, r[3] / 1e7, r[4], r[5], r[6]) for r in centre.db.execute(
        "SELECT ref, offence, lat_e7, lon_e7, from_utc, to_utc, radius_m FROM crimes ORDER BY from_utc, ref")]
    if refs:
        unknown = sorted(set(refs) - {c.ref for c in got})
        if unknown:
            raise CliError(f"no crime {unknown[0]} imported (tagsim centre crimes list)")
        got = [c for c in got if c.ref in refs]
    return got


# --- matching -----------------------------------------------------------------------

@dataclass(frozen=True)
class Crumb:
    device: str
    seq: int
    utc: int
    lat: float
    lon: float
    unc_m: float


RANK = {STRONG: 0, NEAR: 1, PATH: 2, NO_DATA: 3}


def window_crumbs(centre: Centre, c: Crime, device: str, margin_s: int = GAP_S) -> list[Crumb]:
    """The tag's breadcrumbs from margin_s before the crime's window to margin_s after."""
    rows = centre.db.execute(
        "SELECT device, seq, utc, lat_e7, lon_e7, accuracy_m FROM events WHERE device = ? AND kind = ? "
        "AND utc BETWEEN ? AND ? ORDER BY utc, seq",
        (device, wire.Kind.POSITION, c.from_utc - margin_s, c.to_utc + margin_s))
    return [Crumb(d, s, u, la / 1e7, lo / 1e7, float(acc)) for d, s, u, la, lo, acc in rows]


OPEN_END = 1 << 62  # a gap's end when no breadcrumb has come since


def index(centre: Centre) -> int:
    """Bring the trail's indexes up to date with the breadcrumbs stored since the last
    call, off the path that acknowledges frames: on SQLite the R*Tree (keyed by the
    event's rowid; PostgreSQL's GiST index keeps itself), and on both each touched tag's
    gaps, recomputed from its last breadcrumb before the earliest new one. The count indexed."""
    db, rowid = centre.db, centre.rowid
    with db.transaction():
        mark = db.execute("SELECT mark FROM trail_mark").fetchone()[0]
        top = db.execute(f"SELECT coalesce(max({rowid}), 0) FROM events").fetchone()[0]
        touched = db.execute(f"SELECT device, min(utc), count(*) FROM events WHERE kind = 10 AND {rowid} > ? "
                             f"AND {rowid} <= ? GROUP BY device", (mark, top)).fetchall()
        if db.kind == SQLITE:
            db.execute("INSERT INTO trail (id, lat0, lat1, lon0, lon1, t0, t1, device, seq) SELECT rowid, lat_e7, "
                       "lat_e7, lon_e7, lon_e7, utc, utc, device, seq FROM events WHERE kind = 10 AND rowid > ? "
                       "AND rowid <= ?", (mark, top))
        for device, first, _ in touched:
            before = db.execute("SELECT max(utc) FROM events WHERE device = ? AND kind = 10 AND utc < ?",
                                (device, first)).fetchone()[0]
            start = -1 if before is None else before
            db.execute("DELETE FROM gaps WHERE device = ? AND t0 >= ?", (device, start))
            times = [0 if before is None else before] + [r[0] for r in db.execute(
                "SELECT DISTINCT utc FROM events WHERE device = ? AND kind = 10 AND utc > ? ORDER BY utc",
                (device, start))] + [OPEN_END]
            db.executemany("INSERT INTO gaps (device, t0, t1) VALUES (?, ?, ?)",
                           [(device, a, b) for a, b in zip(times, times[1:], strict=False) if b - a > GAP_S])
        db.execute("UPDATE trail_mark SET mark = ?", (top,))
    return sum(n for *_, n in touched)


def gapped(centre: Centre, c: Crime) -> set[str]:
    """Tags with a gap in the crime's window and a breadcrumb from a gap before it to a
    gap after it: a gap starting or ending there."""
    lo, hi = c.from_utc - GAP_S, c.to_utc + GAP_S
    return {r[0] for r in centre.db.execute(
        "SELECT device FROM gaps WHERE t0 >= ? AND t0 < ? AND t1 > ? "
        "UNION SELECT device FROM gaps WHERE t1 > ? AND t1 <= ? AND t0 < ?",
        (lo, c.to_utc, c.from_utc, c.from_utc, hi, c.to_utc))}


def near(centre: Centre, c: Crime, max_speed: float) -> set[str]:
    """Tags with a breadcrumb within reach of the scene around its window (the R*Tree's
    box: the radius, as far as anyone goes in a gap, and any fix's uncertainty)."""
    reach_m = c.radius_m + max_speed * GAP_S + 1000
    dlat = reach_m / 111_000
    dlon = reach_m / (111_000 * max(0.1, math.cos(math.radians(c.lat))))
    box = (round((c.lat - dlat) * 1e7), round((c.lat + dlat) * 1e7), round((c.lon - dlon) * 1e7),
           round((c.lon + dlon) * 1e7), c.from_utc - GAP_S, c.to_utc + GAP_S)
    if centre.db.kind == SQLITE:
        rows = centre.db.execute("SELECT DISTINCT device FROM trail WHERE lat1 >= ? AND lat0 <= ? AND lon1 >= ? "
                                 "AND lon0 <= ? AND t1 >= ? AND t0 <= ?", box)
    else:  # the GiST index's boxes are rounded outwards: the integer test decides
        rows = centre.db.execute("SELECT DISTINCT device FROM events WHERE kind = 10 AND geom && ST_MakeEnvelope("
                                 "?, ?, ?, ?, 4326) AND lat_e7 BETWEEN ? AND ? AND lon_e7 BETWEEN ? AND ? "
                                 "AND utc BETWEEN ? AND ?",
                                 (box[2] / 1e7, box[0] / 1e7, box[3] / 1e7, box[1] / 1e7, *box))
    return {r[0] for r in rows}


def _dist(c: Crime, lat: float, lon: float) -> float:
    return float(GEOD.inv(c.lon, c.lat, lon, lat)[2])


def _prism(c: Crime, a: Crumb, b: Crumb, lo: int, hi: int, v: float) -> tuple[float, int]:
    """The least distance from the scene the wearer could have been at, between fixes a
    and b, over [lo, hi], and when: the larger of the two discs' distances, which falls
    as one disc grows and rises as the other shrinks, lowest where they cross."""
    da, db_ = _dist(c, a.lat, a.lon) - a.unc_m, _dist(c, b.lat, b.lon) - b.unc_m
    cross = (da - db_ + v * (a.utc + b.utc)) / (2 * v)
    t = min(hi, max(lo, round(cross)))
    return max(0.0, da - v * (t - a.utc), db_ - v * (b.utc - t)), t


def assess(c: Crime, crumbs: list[Crumb], max_speed: float, within_reach: bool = True) -> Hit | None:
    """One tag's place in the crime's window from its breadcrumbs (window_crumbs); None
    if it could not have been there and has no gap in which it could. within_reach:
    False when no breadcrumb lies in near()'s box, so that only its gaps can matter.
    The strength comes from the fixes and the prism (what was possible); the closest
    approach and the time inside from the likely path, straight between fixes."""
    rank = None  # the strongest found
    closest: tuple[float, int] = (math.inf, 0)  # the likely path's, and when
    inside_s, gaps, reachable_gap = 0, [], False
    walks: list[tuple[Crumb, Crumb, int, int]] = []  # stretches between fixes close enough apart
    for k in crumbs if within_reach else ():
        if c.from_utc <= k.utc <= c.to_utc:
            d = _dist(c, k.lat, k.lon)
            closest = min(closest, (max(0.0, d - k.unc_m), k.utc))
            strength = STRONG if d + k.unc_m <= c.radius_m else NEAR if d - k.unc_m <= c.radius_m else None
            if strength and (rank is None or RANK[strength] < rank):
                rank = RANK[strength]
    ends: list[Crumb | None] = [None, *crumbs, None]
    for a, b in zip(ends, ends[1:], strict=False):
        lo = max(a.utc if a else c.from_utc, c.from_utc)
        hi = min(b.utc if b else c.to_utc, c.to_utc)
        if lo > hi:
            continue
        if a is None or b is None or b.utc - a.utc > GAP_S:
            if lo < hi:  # an instant at a fix is no gap
                gaps.append((lo, hi))
                reachable_gap |= a is None or b is None or _prism(c, a, b, lo, hi, max_speed)[0] <= c.radius_m
            continue
        if not within_reach:
            continue
        if _prism(c, a, b, lo, hi, max_speed)[0] <= c.radius_m and rank is None:
            rank = RANK[PATH]
        walks.append((a, b, lo, hi))
    device = crumbs[0].device if crumbs else ""
    if rank is None:
        return Hit(c.ref, device, NO_DATA, math.nan, gaps[0][0], 0, gaps) if reachable_gap and crumbs else None
    for a, b, lo, hi in walks:  # only for a hit: the likely path, second by second
        seconds, near_here = _straight(c, a, b, lo, hi)
        inside_s += seconds
        closest = min(closest, near_here)
    strength = next(s for s, r in RANK.items() if r == rank)
    return Hit(c.ref, device, strength, closest[0], closest[1], inside_s, gaps)


def _straight(c: Crime, a: Crumb, b: Crumb, lo: int, hi: int) -> tuple[int, tuple[float, int]]:
    """A steady walk from a to b over [lo, hi], each second: the seconds it spends within
    the radius, and its closest approach (m, the earliest when)."""
    ts = np.arange(lo, hi + 1)
    f = (ts - a.utc) / max(1, b.utc - a.utc)
    d = np.asarray(GEOD.inv(np.full(len(ts), c.lon), np.full(len(ts), c.lat), a.lon + (b.lon - a.lon) * f,
                            a.lat + (b.lat - a.lat) * f)[2])
    k = int(np.argmin(d))
    return int(np.count_nonzero((ts < hi) & (d <= c.radius_m))), (float(d[k]), int(ts[k]))


def match(centre: Centre, refs: list[str] | None, who: str, max_speed: float = MAX_SPEED_MPS) -> list[Hit]:
    """For each crime, every tag that could have been there, and those with no data then."""
    wanted = crimes(centre, refs)
    index(centre)
    hits = []
    for c in wanted:
        close = near(centre, c, max_speed)
        # any other tag with a breadcrumb about the window was beyond reach throughout,
        # and without a gap in which it could have come: no hit (assess would say None)
        for device in sorted(close | gapped(centre, c)):
            hit = assess(c, window_crumbs(centre, c, device), max_speed, device in close)
            if hit:
                hits.append(hit)
    record(centre, who, "match", [c.ref for c in wanted], {"hits": len(hits), "max_speed_mps": max_speed})
    return hits


# --- evidence, retention, audit ----------------------------------------------------

def verify(centre: Centre, device: str, c: Crime) -> dict[str, Any]:
    """Every breadcrumb in the window verified again from its stored frame (its HMAC
    under the device's key, and the event in it as stored), and the sequence numbers
    the tag used in the window: complete, or the missing ones listed."""
    key_row = centre.db.execute("SELECT key FROM devices WHERE device = ?", (device,)).fetchone()
    if key_row is None:
        raise CliError(f"no device {device} at this centre")
    key = bytes(key_row[0])
    rows = centre.db.execute(
        "SELECT e.seq, e.utc, e.kind, e.lat_e7, e.lon_e7, e.accuracy_m, f.raw FROM events e LEFT JOIN frames f "
        "ON f.id = e.frame_id WHERE e.device = ? AND e.utc BETWEEN ? AND ? ORDER BY e.seq",
        (device, c.from_utc, c.to_utc)).fetchall()
    checked = []
    for seq, utc, kind, lat, lon, acc, raw in rows:
        verdict = "no stored frame"
        if raw is not None:
            try:
                _, _, payload = wire.open_frame(key, bytes(raw))
                same = [e for e in wire.events_of(payload) if e.seq == seq]
                ok = same and (same[0].utc in (utc, 0) and same[0].kind == kind and same[0].lat_e7 == lat
                               and same[0].lon_e7 == lon and same[0].accuracy_m == acc)
                verdict = "verified" if ok else "frame does not hold this event as stored"
            except wire.WireError as e:
                verdict = f"frame fails: {e}"
        if kind == wire.Kind.POSITION or verdict != "verified":
            checked.append({"seq": seq, "time": iso(utc), "kind": wire.EVENT_NAMES.get(kind, str(kind)),
                            "lat": lat / 1e7, "lon": lon / 1e7, "uncertainty_m": acc, "check": verdict})
    seqs = [r[0] for r in rows]
    missing = sorted(set(range(seqs[0], seqs[-1] + 1)) - set(seqs)) if seqs else []
    return {"device": device, "crime": c.ref, "window": [iso(c.from_utc), iso(c.to_utc)],
            "breadcrumbs": checked, "all_verified": all(b["check"] == "verified" for b in checked),
            "sequence": {"first": seqs[0] if seqs else None, "last": seqs[-1] if seqs else None,
                         "missing": missing, "complete": not missing}}


def purge(centre: Centre, older_than_s: int, who: str) -> int:
    """Breadcrumbs older than the retention period, their index entries and the frames
    that held nothing else kept, gone; the purge itself audited. The count removed."""
    cutoff = centre.clock() // 1000 - older_than_s
    with centre.db.transaction():
        gone = centre.db.execute("DELETE FROM events WHERE kind = ? AND utc < ?",
                                 (wire.Kind.POSITION, cutoff)).rowcount
        if centre.db.kind == SQLITE:  # PostgreSQL's index goes with the rows
            centre.db.execute("DELETE FROM trail WHERE t1 < ?", (cutoff,))
        centre.db.execute("DELETE FROM gaps WHERE t1 < ?", (cutoff,))
        centre.db.execute("DELETE FROM frames WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.frame_id = frames.id)")
    record(centre, who, "purge", [], {"breadcrumbs_removed": gone, "before": iso(cutoff)})
    return int(gone)


def record(centre: Centre, who: str, action: str, refs: list[str], detail: dict[str, Any]) -> None:
    with centre.db.transaction():
        centre.db.execute("INSERT INTO audit (at_ms, who, action, crimes, detail) VALUES (?, ?, ?, ?, ?)",
                          (centre.clock(), who, action, json.dumps(refs), json.dumps(detail, sort_keys=True)))


def audit(centre: Centre) -> list[dict[str, Any]]:
    return [{"at_ms": r[0], "who": r[1], "action": r[2], "crimes": json.loads(r[3]), "detail": json.loads(r[4])}
            for r in centre.db.execute(f"SELECT at_ms, who, action, crimes, detail FROM audit ORDER BY at_ms, "
                                       f"{centre.rowid}")]
