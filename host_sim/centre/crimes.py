"""Trails against reported crimes (docs/trails.md): crimes imported from a police CSV,
matched against every tag's breadcrumbs, evidence for one tag and one crime, the
retention purge and the audit of every query. Whether a tag could have been at a crime
is reach.judge's to say; here the indexes choose which tags it judges.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numba
import numpy as np
from pyproj import Transformer

from host_sim import wire
from host_sim.centre.db import SQLITE
from host_sim.centre.reach import (
    CRUMB,
    GAP_S,
    MAX_SPEED_MPS,
    NEAR,
    NO_DATA,
    PATH,
    RANK,
    STRONG,
    Crime,
    Hit,
    Trails,
    judge,
)
from host_sim.centre.server import Centre
from host_sim.centre.views import iso
from host_sim.exits import CliError
from host_sim.world.scenario import LONDON, in_uk, london_minute, off_uk

__all__ = ["GAP_S", "MAX_SPEED_MPS", "NEAR", "NO_DATA", "PATH", "RANK", "STRONG", "Crime", "Hit"]

BNG = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)  # British National Grid to WGS84
RADIUS_M = 100.0
COLUMNS = ("reference", "offence", "lat", "lon", "easting", "northing", "from", "to", "radius_m")


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
        chosen = set(refs)
        got = [c for c in got if c.ref in chosen]
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


def window_crumbs(centre: Centre, c: Crime, device: str, margin_s: int = GAP_S) -> list[Crumb]:
    """The tag's breadcrumbs from margin_s before the crime's window to margin_s after."""
    rows = centre.db.execute(
        "SELECT device, seq, utc, lat_e7, lon_e7, accuracy_m FROM events WHERE device = ? AND kind = ? "
        "AND utc BETWEEN ? AND ? ORDER BY utc, seq",
        (device, wire.Kind.POSITION, c.from_utc - margin_s, c.to_utc + margin_s))
    return [Crumb(d, s, u, la / 1e7, lo / 1e7, float(acc)) for d, s, u, la, lo, acc in rows]


def assess(c: Crime, crumbs: list[Crumb], max_speed: float = MAX_SPEED_MPS) -> Hit | None:
    """One tag's place in the crime's window from its breadcrumbs about it (window_crumbs):
    None if it could not have been there and has no gap in which it could."""
    got = np.array([(k.utc, round(k.lat * 1e7), round(k.lon * 1e7), k.unc_m, k.seq) for k in crumbs], CRUMB)
    hits = judge([c], np.zeros(1, np.int64), np.zeros(1, np.int64),
                 Trails.of([crumbs[0].device if crumbs else ""], [got]), max_speed)
    return hits[0] if hits else None


OPEN_END = 1 << 62  # a gap's end when no breadcrumb has come since
STREAM = 100_000  # events read at a time as the trail is indexed: bounded memory however many are new
_DEVICE = operator.itemgetter(0)
BUCKET_S = 3600  # the trail is indexed an hour of a tag's breadcrumbs at a time
BATCH = 512  # crimes judged together: fewer calls into the compiled loops, a bounded stretch of trail in memory
_M_PER_DEG_LAT = 110_000.0  # fewer than the ellipsoid's least (110,574): boxes err wide
_M_PER_DEG_LON = 111_319.0  # at the equator, times cos(latitude): wide again


def index(centre: Centre) -> int:
    """Bring the trail's indexes up to date with the breadcrumbs stored since the last
    call, off the path that acknowledges frames: for each tag, its new breadcrumbs
    merged with those it had indexed from the hour of its last one before them (_merge),
    those hours boxed again (_hours) and its gaps found again. The events are read in
    the order they were stored, STREAM rows at a time, never by time: the centre keeps
    no index of them by time, which would slow every frame stored. The count indexed."""
    db, rowid = centre.db, centre.rowid
    n = 0
    with db.transaction():
        mark = db.execute("SELECT mark FROM trail_mark").fetchone()[0]
        top = db.execute(f"SELECT coalesce(max({rowid}), 0) FROM events").fetchone()[0]
        for rows in db.stream(f"SELECT device, utc, lat_e7, lon_e7, accuracy_m, seq FROM events WHERE kind = 10 AND "
                              f"{rowid} > ? AND {rowid} <= ?", (mark, top), STREAM):
            rows.sort(key=_DEVICE)
            for device, group in itertools.groupby(rows, _DEVICE):
                new = np.array([r[1:] for r in group], CRUMB)
                before, crumbs = _merge(centre, device, new)
                start = -1 if before is None else before
                db.execute("DELETE FROM gaps WHERE device = ? AND t0 >= ?", (device, start))
                utc = crumbs["utc"]
                times = np.concatenate([[0 if before is None else before], np.unique(utc[utc > start]), [OPEN_END]])
                far = np.flatnonzero(np.diff(times) > GAP_S)
                db.executemany("INSERT INTO gaps (device, t0, t1) VALUES (?, ?, ?)",
                               [(device, int(times[k]), int(times[k + 1])) for k in far])
                _hours(centre, device, crumbs)
            n += len(rows)
        db.execute("UPDATE trail_mark SET mark = ?", (top,))
    return n


def reindex(centre: Centre) -> int:
    """The trail's indexes built again from the events: after events were changed other
    than by storing frames or the purge. The count indexed."""
    with centre.db.transaction():
        for table in (["trail"] if centre.db.kind == SQLITE else []) + ["trail_crumbs", "gaps"]:
            centre.db.execute(f"DELETE FROM {table}")
        centre.db.execute("UPDATE trail_mark SET mark = 0")
    return index(centre)


def _merge(centre: Centre, device: str, new: np.ndarray) -> tuple[int | None, np.ndarray]:
    """The tag's last indexed breadcrumb's time before the first of new (None if it has
    none), and its breadcrumbs from that one's hour on, the indexed and the new, in
    order of time and sequence number. The indexed ones come from its hours: the last
    hour before the first new one's, and every hour from there."""
    first = int(new["utc"].min())
    hour = first // BUCKET_S
    blobs = [bytes(r[0]) for r in centre.db.execute(
        "SELECT crumbs FROM trail_crumbs WHERE device = ? AND bucket >= coalesce((SELECT max(bucket) FROM "
        "trail_crumbs WHERE device = ? AND bucket < ?), ?) ORDER BY bucket", (device, device, hour, hour))]
    old = np.frombuffer(b"".join(blobs), CRUMB)
    earlier = old["utc"][old["utc"] < first]
    before = int(earlier.max()) if len(earlier) else None
    since = first if before is None else before - before % BUCKET_S
    crumbs = np.concatenate([old[old["utc"] >= since], new])
    return before, crumbs[np.lexsort((crumbs["seq"], crumbs["utc"]))]


def _hours(centre: Centre, device: str, crumbs: np.ndarray) -> None:
    """The tag's breadcrumbs from the first given on, an hour at a time (trail_crumbs),
    each hour boxed in space and time (the R*Tree trail on SQLite, GiST on PostgreSQL).
    The box holds the hour's fixes and the next hour's first when no gap lies between,
    widened by how far the wearer could have strayed between two fixes of the hour at
    MAX_SPEED_MPS, and by the fixes' uncertainty: a tag that could have been at a crime
    has a box about the scene in its window."""
    db = centre.db
    if len(crumbs) == 0:
        return
    first_hour = int(crumbs["utc"][0]) // BUCKET_S
    if db.kind == SQLITE:
        db.execute("DELETE FROM trail WHERE id IN (SELECT id FROM trail_crumbs WHERE device = ? AND bucket >= ?)",
                   (device, first_hour))
    db.execute("DELETE FROM trail_crumbs WHERE device = ? AND bucket >= ?", (device, first_hour))
    utc, n = crumbs["utc"], len(crumbs)
    lat, lon, unc = crumbs["lat_e7"].astype(np.int64), crumbs["lon_e7"].astype(np.int64), crumbs["unc_m"]
    hour = utc // BUCKET_S
    starts = np.flatnonzero(np.r_[True, hour[1:] != hour[:-1]])
    ends = np.r_[starts[1:], n]
    step = np.r_[np.diff(utc), GAP_S + 1]  # to the next fix; none after the last
    linked = step[ends - 1] <= GAP_S  # the next hour's first fix is reached without a gap
    nxt = np.minimum(ends, n - 1)
    strays = np.maximum.reduceat(np.where(step <= GAP_S, step, 0), starts) * MAX_SPEED_MPS / 2
    reach_m = 1.01 * (strays + np.maximum(np.maximum.reduceat(unc, starts), np.where(linked, unc[nxt], 0))) + 1
    lat0 = np.minimum(np.minimum.reduceat(lat, starts), np.where(linked, lat[nxt], lat[starts]))
    lat1 = np.maximum(np.maximum.reduceat(lat, starts), np.where(linked, lat[nxt], lat[starts]))
    lon0 = np.minimum(np.minimum.reduceat(lon, starts), np.where(linked, lon[nxt], lon[starts]))
    lon1 = np.maximum(np.maximum.reduceat(lon, starts), np.where(linked, lon[nxt], lon[starts]))
    dlat, dlon = (np.ceil(d * 1e7) for d in _degrees(reach_m, np.maximum(np.abs(lat0), np.abs(lat1)) / 1e7))
    t1 = np.where(linked, utc[nxt], utc[ends - 1])
    rows = [(device, int(hour[a]), int(utc[a]), int(t1[k]), *_e7_box(lat0[k] - dlat[k], lat1[k] + dlat[k],
                                                                     lon0[k] - dlon[k], lon1[k] + dlon[k]),
             crumbs[a:e].tobytes()) for k, (a, e) in enumerate(zip(starts, ends, strict=True))]
    db.executemany("INSERT INTO trail_crumbs (device, bucket, t0, t1, lat0, lat1, lon0, lon1, crumbs) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    if db.kind == SQLITE:
        db.execute("INSERT INTO trail (id, lat0, lat1, lon0, lon1, t0, t1, device) SELECT id, lat0, lat1, lon0, lon1, "
                   "t0, t1, device FROM trail_crumbs WHERE device = ? AND bucket >= ?", (device, first_hour))


def _degrees(reach_m: Any, abs_lat: Any) -> tuple[Any, Any]:
    """reach_m as degrees north and east, erring wide, from a latitude of abs_lat
    (degrees from the equator) or nearer it."""
    dlat = reach_m / _M_PER_DEG_LAT
    return dlat, reach_m / (_M_PER_DEG_LON * np.cos(np.radians(np.minimum(89.0, abs_lat + dlat))))


def _e7_box(lat0: float, lat1: float, lon0: float, lon1: float) -> tuple[int, int, int, int]:
    """A box in integer degrees e7, rounded outwards and kept on the globe."""
    return (max(-900_000_000, math.floor(lat0)), min(900_000_000, math.ceil(lat1)),
            max(-1_800_000_000, math.floor(lon0)), min(1_800_000_000, math.ceil(lon1)))


def gapped(centre: Centre, c: Crime) -> set[str]:
    """Tags with a gap in the crime's window and a breadcrumb from a gap before it to a
    gap after it: a gap starting or ending there."""
    lo, hi = c.from_utc - GAP_S, c.to_utc + GAP_S
    return {r[0] for r in centre.db.execute(
        "SELECT device FROM gaps WHERE t0 >= ? AND t0 < ? AND t1 > ? "
        "UNION SELECT device FROM gaps WHERE t1 > ? AND t1 <= ? AND t0 < ?",
        (lo, c.to_utc, c.from_utc, c.from_utc, hi, c.to_utc))}


def _scene(c: Crime, max_speed: float) -> tuple[int, int, int, int, int, int]:
    """The box an hour's box (_hours) must meet for its tag to have been at the crime:
    the scene and its radius in its window, in integer degrees e7 and Unix seconds. A
    speed above the one the hours' boxes were drawn for widens it by the difference
    over half a gap."""
    reach_m = 1.01 * (c.radius_m + max(0.0, max_speed - MAX_SPEED_MPS) * GAP_S / 2) + 1
    dlat, dlon = _degrees(reach_m, abs(c.lat))
    return (*_e7_box((c.lat - dlat) * 1e7, (c.lat + dlat) * 1e7, (c.lon - dlon) * 1e7, (c.lon + dlon) * 1e7),
            c.from_utc, c.to_utc)


def near(centre: Centre, c: Crime, max_speed: float) -> set[str]:
    """Tags with an hour's box about the scene, through the spatial index."""
    box = _scene(c, max_speed)
    test = "lat1 >= ? AND lat0 <= ? AND lon1 >= ? AND lon0 <= ? AND t1 >= ? AND t0 <= ?"
    if centre.db.kind == SQLITE:
        rows = centre.db.execute(f"SELECT DISTINCT device FROM trail WHERE {test}", box)
    else:  # the GiST index's boxes are rounded outwards: the integer test decides
        rows = centre.db.execute(f"SELECT DISTINCT device FROM trail_crumbs WHERE box && ST_MakeEnvelope(?, ?, ?, ?, "
                                 f"4326) AND {test}", (box[2] / 1e7, box[0] / 1e7, box[3] / 1e7, box[1] / 1e7, *box))
    return {r[0] for r in rows}


@dataclass
class Hours:
    """Tags' indexed hours from one time to another: their breadcrumbs, and each hour's
    box, as the rows tag, t0, t1, lat0, lat1, lon0, lon1 (columns in order of t0)."""
    trails: Trails
    boxes: np.ndarray

    def near(self, scenes: np.ndarray) -> list[set[str]]:
        """near() for each scene (_scene), from these boxes instead of the spatial index."""
        found: list[set[str]] = [set() for _ in scenes]
        tag, t0, t1, lat0, lat1, lon0, lon1 = self.boxes
        met = _meet(tag, t0, t1, lat0, lat1, lon0, lon1, scenes, len(self.trails.devices))
        for k, t in zip(met[0].tolist(), met[1].tolist(), strict=True):
            found[k].add(self.trails.devices[t])
        return found


@numba.njit(cache=True)
def _meet(tag, t0, t1, lat0, lat1, lon0, lon1, scenes, tags):  # type: ignore[no-untyped-def]
    """(scene, tag) once for each tag with a box meeting each scene."""
    last = np.full(tags, -1)
    out = np.empty((2, len(scenes) * tags), np.int64)
    n = 0
    for k in range(len(scenes)):
        s_lat0, s_lat1, s_lon0, s_lon1, s_t0, s_t1 = scenes[k]
        j = np.searchsorted(t0, s_t0 - BUCKET_S - GAP_S)  # no box lasts longer: an hour, and a link
        while j < len(t0) and t0[j] <= s_t1:
            if (last[tag[j]] != k and t1[j] >= s_t0 and lat1[j] >= s_lat0 and lat0[j] <= s_lat1
                    and lon1[j] >= s_lon0 and lon0[j] <= s_lon1):
                last[tag[j]] = k
                out[0, n], out[1, n] = k, tag[j]
                n += 1
            j += 1
    return out[0, :n], out[1, :n]


def hours(centre: Centre, devices: list[str], t0: int, t1: int) -> Hours:
    """The tags' indexed hours from t0 to t1."""
    blobs, boxes = [], []
    for k, device in enumerate(devices):
        rows = centre.db.execute("SELECT crumbs, t0, t1, lat0, lat1, lon0, lon1 FROM trail_crumbs WHERE device = ? "
                                 "AND bucket BETWEEN ? AND ? ORDER BY bucket",
                                 (device, t0 // BUCKET_S, t1 // BUCKET_S)).fetchall()
        if rows:
            crumbs, *box = zip(*rows, strict=True)
            blobs.append(np.frombuffer(b"".join(crumbs), CRUMB))
            boxes.append(np.vstack([np.full(len(rows), k), box]))
        else:
            blobs.append(np.zeros(0, CRUMB))
    got = np.hstack(boxes) if boxes else np.zeros((7, 0), np.int64)
    return Hours(Trails.of(devices, blobs), np.ascontiguousarray(got[:, np.argsort(got[1], kind="stable")]))


SCAN_PER_TAG = 10  # an R*Tree query costs about as much as reading ten tags' hours (docs/trails.md)


def match(centre: Centre, refs: list[str] | None, who: str, max_speed: float = MAX_SPEED_MPS,
          progress: Callable[[int, int], None] | None = None, scan_per_tag: float = SCAN_PER_TAG) -> list[Hit]:
    """For each crime, every tag that could have been there, and those with no data then,
    in the crimes' order and each crime's tags by name. A batch of crimes finds its tags
    through the spatial index, or, when it has as many crimes as the tags over
    scan_per_tag, by reading every tag's hours about it. progress(done, of) after each batch."""
    wanted = crimes(centre, refs)
    index(centre)
    tags = [r[0] for r in centre.db.execute("SELECT device FROM devices ORDER BY device")]
    hits = []
    for k in range(0, len(wanted), BATCH):
        batch = wanted[k:k + BATCH]
        t0, t1 = min(c.from_utc for c in batch) - GAP_S, max(c.to_utc for c in batch) + GAP_S
        read = hours(centre, tags, t0, t1) if len(batch) * scan_per_tag >= len(tags) else None
        found = read.near(np.array([_scene(c, max_speed) for c in batch], np.int64)) if read else [
            near(centre, c, max_speed) for c in batch]
        # any other tag with a breadcrumb about the window was beyond reach throughout,
        # and without a gap in which it could have come: judge would say nothing of it
        chosen = [sorted(f | gapped(centre, c)) for f, c in zip(found, batch, strict=True)]
        if read is None:
            read = hours(centre, sorted(set().union(*chosen)), t0, t1)
        at = {d: i for i, d in enumerate(read.trails.devices)}
        crime = np.array([i for i, ds in enumerate(chosen) for _ in ds], np.int64)
        tag = np.array([at[d] for ds in chosen for d in ds], np.int64)
        hits += judge(batch, crime, tag, read.trails, max_speed)
        if progress:
            progress(k + len(batch), len(wanted))
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
        _forget_hours(centre, cutoff)
        centre.db.execute("DELETE FROM gaps WHERE t1 < ?", (cutoff,))
        # a join, not NOT EXISTS: SQLite then indexes events' frame_id for the query,
        # where it would scan every event for each frame
        centre.db.execute("DELETE FROM frames WHERE id IN (SELECT f.id FROM frames f LEFT JOIN events e "
                          "ON e.frame_id = f.id WHERE e.frame_id IS NULL)")
    record(centre, who, "purge", [], {"breadcrumbs_removed": gone, "before": iso(cutoff)})
    return int(gone)


def _forget_hours(centre: Centre, cutoff: int) -> None:
    """The trail's indexed hours before cutoff gone, and the hour it falls in cut there
    (its box, a little wide now, still holds what is left)."""
    db, hour = centre.db, cutoff // BUCKET_S
    if db.kind == SQLITE:
        db.execute("DELETE FROM trail WHERE id IN (SELECT id FROM trail_crumbs WHERE bucket < ?)", (hour,))
    db.execute("DELETE FROM trail_crumbs WHERE bucket < ?", (hour,))
    for row_id, blob in db.execute("SELECT id, crumbs FROM trail_crumbs WHERE bucket = ?", (hour,)).fetchall():
        left = np.frombuffer(bytes(blob), CRUMB)
        left = left[left["utc"] >= cutoff]
        if len(left):
            db.execute("UPDATE trail_crumbs SET crumbs = ? WHERE id = ?", (left.tobytes(), row_id))
            continue
        if db.kind == SQLITE:
            db.execute("DELETE FROM trail WHERE id = ?", (row_id,))
        db.execute("DELETE FROM trail_crumbs WHERE id = ?", (row_id,))


def record(centre: Centre, who: str, action: str, refs: list[str], detail: dict[str, Any]) -> None:
    with centre.db.transaction():
        centre.db.execute("INSERT INTO audit (at_ms, who, action, crimes, detail) VALUES (?, ?, ?, ?, ?)",
                          (centre.clock(), who, action, json.dumps(refs), json.dumps(detail, sort_keys=True)))


def audit(centre: Centre) -> list[dict[str, Any]]:
    return [{"at_ms": r[0], "who": r[1], "action": r[2], "crimes": json.loads(r[3]), "detail": json.loads(r[4])}
            for r in centre.db.execute(f"SELECT at_ms, who, action, crimes, detail FROM audit ORDER BY at_ms, "
                                       f"{centre.rowid}")]
