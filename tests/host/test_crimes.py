"""Trails against reported crimes: a tag's real trail (the firmware's breadcrumbs
through a real centre on SQLite) matched to crimes imported from CSV, evidence
verified again from the stored frames, the retention purge and the audit."""

import csv
import json
import math
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from host_sim import wire
from host_sim.centre import crimes, reach
from host_sim.centre.db import SQLITE
from host_sim.centre.server import SCHEMA, Centre
from host_sim.exits import CliError
from host_sim.paths import ROOT
from host_sim.run import sim
from host_sim.run.home_unit import tag_id
from host_sim.world import scenario

WALK = """name: trail-walk
start: "2026-12-10 14:00"
duration: 40m
seed: 9
zones: [{name: far, circle: {lat: 52.50, lon: -1.80, radius_m: 100}}]
trail: {}
route:
  start: {lat: 52.4400, lon: -1.9365}
  legs:
    - {to: {lat: 52.4600, lon: -1.9365}, mode: walk}
    - {dwell: 10m}
link: {transport: cellular, dialect: sim7000}
"""
HEADER = ["reference", "offence", "lat", "lon", "easting", "northing", "from", "to", "radius_m"]
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def walked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path | str, str]:
    """A centre database holding a tag's 40 min walk north through Kings Heath, Birmingham:
    a SQLite file, or a database on the test run's PostgreSQL server."""
    folder = tmp_path_factory.mktemp("trail")
    (folder / "walk.yaml").write_text(WALK)
    sc = scenario.load(folder / "walk.yaml")
    db = folder / "centre.db" if request.param == "sqlite" else request.getfixturevalue("postgres").database("walk")
    sim.execute(sc, keep_nmea=False, db=db)
    return db, tag_id(sc)


def test_a_scenarios_trail_mode_is_the_example_trail_tags() -> None:
    example = json.loads((ROOT / "devices" / "example-trail-tag.json").read_text())
    assert scenario.TRAIL_MODE == {k: example[k] for k in scenario.TRAIL_MODE}


def test_in_trail_mode_a_breadcrumb_comes_at_least_every_minute(walked: tuple[Path | str, str]) -> None:
    times = [u for _, u, _, _ in _crumbs(walked[0])]
    assert len(times) > 40 and max(b - a for a, b in zip(times, times[1:], strict=False)) <= 60


@pytest.fixture
def db(walked: tuple[Path | str, str], tmp_path: Path, request: pytest.FixtureRequest) -> Path | str:
    """A copy of the walk's database, for one test to change."""
    if isinstance(walked[0], str):
        return str(request.getfixturevalue("postgres").database(f"t{uuid.uuid4().hex[:16]}", like="walk"))
    with sqlite3.connect(walked[0]) as src, sqlite3.connect(tmp_path / "centre.db") as dst:
        src.backup(dst)  # the write-ahead log's pages too
    return tmp_path / "centre.db"


def _tagsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "host_sim.tagsim", "centre", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, HEADER)
        w.writeheader()
        w.writerows(rows)
    return path


def _crumbs(db: Path | str) -> list[tuple[int, int, int, int]]:
    c = Centre(db)
    try:
        return [tuple(r) for r in c.db.execute("SELECT seq, utc, lat_e7, lon_e7 FROM events WHERE kind = 10 "
                                               "ORDER BY utc").fetchall()]
    finally:
        c.close()


def test_crimes_on_and_off_the_trail(db: Path | str, walked: tuple[Path | str, str], tmp_path: Path) -> None:
    crumbs = _crumbs(db)
    k = max(range(5, 30), key=lambda i: crumbs[i + 1][1] - crumbs[i][1])  # the furthest apart on the walk
    (_, ua, la, oa), (_, ub, lb, ob) = crumbs[k], crumbs[k + 1]
    mid_lat, mid_lon = (la + lb) / 2e7, (oa + ob) / 2e7
    e, n = TO_BNG.transform(-1.9365, 52.4600)
    rows = [
        {"reference": "C1", "offence": "burglary", "lat": "52.4500", "lon": "-1.9365",
         "from": "2026-12-10 14:10", "to": "2026-12-10 14:20"},
        {"reference": "C2", "offence": "burglary", "lat": "52.4500", "lon": "-1.9065",
         "from": "2026-12-10 14:10", "to": "2026-12-10 14:20"},  # 2 km east
        {"reference": "C3", "offence": "theft", "lat": "52.4500", "lon": "-1.9365",
         "from": "2026-12-10 17:00", "to": "2026-12-10 17:30"},  # hours after
        {"reference": "C4", "offence": "robbery", "easting": f"{e:.0f}", "northing": f"{n:.0f}",
         "from": "2026-12-10 14:29", "to": "2026-12-10 14:35", "radius_m": "50"},  # where he waited, on the grid
        {"reference": "C5", "offence": "theft from a vehicle", "lat": f"{mid_lat:.7f}", "lon": f"{mid_lon:.7f}",
         "from": crimes.london(ua + 5), "to": crimes.london(ub + 60), "radius_m": "12"},  # between two crumbs
    ]
    imported = _tagsim("crimes", "import", str(_csv(tmp_path / "c.csv", rows)), "--db", str(db))
    assert imported.returncode == 0 and "5 crimes imported" in imported.stdout, imported.stderr
    again = _tagsim("crimes", "import", str(tmp_path / "c.csv"), "--db", str(db))
    assert again.returncode == 0 and "0 crimes imported, 5 already there" in again.stdout
    out = _tagsim("crimes", "match", "--db", str(db), "--json", "--who", "DC Smith",
                  "--csv", str(tmp_path / "h.csv"), "--geojson", str(tmp_path / "h.geojson"))
    assert out.returncode == 0, out.stderr
    hits = {h["ref"]: h for h in json.loads(out.stdout)}
    assert set(hits) == {"C1", "C4", "C5"}
    assert hits["C1"]["strength"] == crimes.STRONG and hits["C1"]["device"] == walked[1]
    assert hits["C1"]["closest_m"] < 50 and hits["C1"]["inside_s"] > 60
    assert hits["C4"]["strength"] == crimes.STRONG
    assert hits["C5"]["strength"] in (crimes.PATH, crimes.NEAR) and hits["C5"]["closest_m"] <= 12
    assert len(list(csv.reader((tmp_path / "h.csv").open()))) == 4
    scenes = json.loads((tmp_path / "h.geojson").read_text())["features"]
    assert {f["properties"]["ref"] for f in scenes} == {"C1", "C2", "C3", "C4", "C5"}
    table = _tagsim("crimes", "match", "C2", "C3", "--db", str(db))
    assert table.returncode == 0 and "no tag could have been" in table.stdout
    log = json.loads(_tagsim("audit", "--db", str(db), "--json").stdout)
    assert [(q["who"], q["action"], sorted(q["crimes"])) for q in log] == [
        ("DC Smith", "match", ["C1", "C2", "C3", "C4", "C5"]), (log[1]["who"], "match", ["C2", "C3"])]
    assert log[0]["detail"]["hits"] == 3 and "DC Smith" in _tagsim("audit", "--db", str(db)).stdout


def test_a_gap_in_the_window_is_reported_not_read_as_absence(db: Path | str, walked: tuple[Path | str, str]) -> None:
    c = Centre(db)
    crumbs = _crumbs(db)
    gone = [s for s, u, _, _ in crumbs if crumbs[8][1] <= u <= crumbs[22][1]]  # 14 minutes of the trail lost
    with c.db.transaction():
        c.db.executemany("DELETE FROM events WHERE seq = ? AND device = ?", [(s, walked[1]) for s in gone])
    crimes.reindex(c)  # as if never sent
    crimes.store(c, [crimes.Crime("G1", "burglary", 52.4500, -1.9365, crumbs[12][1], crumbs[16][1], 100)])
    (hit,) = crimes.match(c, ["G1"], "test")
    assert hit.strength == crimes.NO_DATA and hit.gaps and math.isnan(hit.closest_m)
    assert json.loads(json.dumps(hit.as_dict(), allow_nan=False))["closest_m"] is None  # strict JSON
    a, b = hit.gaps[0]
    assert a <= crumbs[12][1] and b >= crumbs[16][1]


def test_evidence_verifies_every_breadcrumb_from_its_frame(db: Path | str, walked: tuple[Path | str, str],
                                                           tmp_path: Path) -> None:
    c = Centre(db)
    crimes.store(c, [crimes.Crime("E1", "burglary", 52.4500, -1.9365, 1796911800, 1796912400, 100)])
    out = _tagsim("crimes", "evidence", "E1", walked[1], "--db", str(db), "--out", str(tmp_path / "ev"))
    assert out.returncode == 0, out.stdout + out.stderr
    record = json.loads((tmp_path / "ev" / f"E1-{walked[1]}.json").read_text())
    assert record["all_verified"] and record["sequence"]["complete"] and len(record["breadcrumbs"]) >= 8
    assert record["match"]["strength"] == crimes.STRONG
    assert (tmp_path / "ev" / f"E1-{walked[1]}.png").read_bytes()[:4] == b"\x89PNG"
    # a stored frame altered, and an event lost: both said
    frame_id, raw = c.db.execute("SELECT f.id, f.raw FROM frames f JOIN events e ON e.frame_id = f.id "
                                 "WHERE e.kind = 10 AND e.utc BETWEEN 1796911800 AND 1796912400").fetchone()
    forged = bytearray(raw)
    forged[20] ^= 1
    with c.db.transaction():
        c.db.execute("UPDATE frames SET raw = ? WHERE id = ?", (bytes(forged), frame_id))
        lost = c.db.execute("SELECT seq FROM events WHERE utc BETWEEN 1796911800 AND 1796912400 "
                            "ORDER BY seq LIMIT 1 OFFSET 3").fetchone()[0]
        c.db.execute("DELETE FROM events WHERE seq = ?", (lost,))
    bad = _tagsim("crimes", "evidence", "E1", walked[1], "--db", str(db), "--out", str(tmp_path / "ev2"))
    assert bad.returncode == 1 and "NOT ALL VERIFIED" in bad.stdout
    record = json.loads((tmp_path / "ev2" / f"E1-{walked[1]}.json").read_text())
    assert any(b["check"].startswith("frame fails") for b in record["breadcrumbs"])
    assert record["sequence"]["missing"] == [lost]


def test_purge_removes_old_breadcrumbs_and_is_audited(db: Path | str) -> None:
    later = Centre(db, clock=lambda: (1796911200 + 91 * 86400) * 1000)  # 91 days after the walk
    before = len(_crumbs(db))
    assert crimes.index(later) == before  # indexed, as any match leaves it
    assert before > 30 and crimes.purge(later, 90 * 86400, "retention job") == before
    assert _crumbs(db) == []
    assert later.db.execute("SELECT count(*) FROM trail_crumbs").fetchone()[0] == 0
    if later.db.kind == SQLITE:
        assert later.db.execute("SELECT count(*) FROM trail").fetchone()[0] == 0
    assert later.db.execute("SELECT count(*) FROM frames f WHERE NOT EXISTS "
                            "(SELECT 1 FROM events e WHERE e.frame_id = f.id)").fetchone()[0] == 0
    assert later.db.execute("SELECT count(*) FROM events e LEFT JOIN frames f ON f.id = e.frame_id "
                            "WHERE e.frame_id IS NOT NULL AND f.id IS NULL").fetchone()[0] == 0  # the rest keep theirs
    assert [a["action"] for a in crimes.audit(later)] == ["purge"]
    assert Centre(db, clock=lambda: 1796911200 * 1000).db.execute(
        "SELECT count(*) FROM events WHERE kind = 11").fetchone()[0] >= 1  # other events stay


def test_a_purge_inside_an_hour_keeps_the_rest_of_it_indexed(db: Path | str, walked: tuple[Path | str, str]) -> None:
    crumbs = _crumbs(db)
    cut = crumbs[len(crumbs) // 2][1]
    later = Centre(db, clock=lambda: (cut + 90 * 86400) * 1000)
    crimes.index(later)
    assert crimes.purge(later, 90 * 86400, "retention job") == sum(1 for _, u, _, _ in crumbs if u < cut)
    kept = [int(u) for (blob,) in later.db.execute("SELECT crumbs FROM trail_crumbs ORDER BY bucket")
            for u in np.frombuffer(bytes(blob), reach.CRUMB)["utc"]]
    assert kept == [u for _, u, _, _ in crumbs if u >= cut]
    seq, utc, lat, lon = crumbs[-1]
    crimes.store(later, [crimes.Crime("P1", "theft", lat / 1e7, lon / 1e7, utc - 60, utc, 50)])
    assert [(h.device, h.strength) for h in crimes.match(later, ["P1"], "test")] == [(walked[1], crimes.STRONG)]


def test_bad_crime_lines_are_all_named_and_nothing_is_imported(db: Path | str, tmp_path: Path) -> None:
    rows = [{"reference": "OK1", "offence": "theft", "lat": "52.45", "lon": "-1.93",
             "from": "2026-12-10 14:00", "to": "2026-12-10 15:00"},
            {"reference": "B1", "offence": "theft", "lat": "-1.93", "lon": "52.45",
             "from": "2026-12-10 14:00", "to": "2026-12-10 15:00"},
            {"reference": "B2", "offence": "theft", "lat": "52.45", "lon": "-1.93",
             "from": "10/12/2026 14:00", "to": "2026-12-10 15:00"},
            {"reference": "B3", "offence": "theft", "from": "2026-12-10 14:00", "to": "2026-12-10 15:00"},
            {"reference": "B4", "offence": "theft", "lat": "52.45", "lon": "-1.93",
             "from": "2026-12-10 16:00", "to": "2026-12-10 15:00"},
            {"reference": "OK1", "offence": "theft", "lat": "52.45", "lon": "-1.93",
             "from": "2026-12-10 14:00", "to": "2026-12-10 15:00"}]
    out = _tagsim("crimes", "import", str(_csv(tmp_path / "bad.csv", rows)), "--db", str(db))
    assert out.returncode == 2
    for line, says in ((3, "lat and lon swapped?"), (4, "expected YYYY-MM-DD HH:MM"), (5, "a place is needed"),
                       (6, "is before from"), (7, "reference OK1 given twice")):
        assert any(f"bad.csv:{line}: " in ln and says in ln for ln in out.stderr.splitlines()), out.stderr
    assert "nothing imported" in out.stderr and crimes.crimes(Centre(db)) == []


M_LAT = 1 / 111_250
M_LON = 1 / (111_320 * math.cos(math.radians(52.45)))


@given(st.lists(st.tuples(st.floats(-800, 800), st.floats(-800, 800)), min_size=2, max_size=6),
       st.floats(0.3, 25), st.data())
@settings(max_examples=200, deadline=None)
def test_a_wearer_truly_at_the_scene_is_never_missed(turns: list[tuple[float, float]], speed: float,
                                                     data: st.DataObject) -> None:
    """A true walk (x, y metres) at a steady speed through turning points; breadcrumbs
    at irregular times along it, each displaced within its uncertainty; the scene a
    point the walk passes within the radius, in the window: a hit, always."""
    legs = [math.dist(a, b) for a, b in zip(turns, turns[1:], strict=False)]
    total = sum(legs)
    if total < 1:
        return
    duration = int(total / speed) + 1

    def at(t: float) -> tuple[float, float]:
        d = min(total, t * speed)
        for (a, b), length in zip(zip(turns, turns[1:], strict=False), legs, strict=True):
            if d <= length or length == 0 and d == 0:
                f = d / length if length else 0.0
                return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f
            d -= length
        return turns[-1]

    times = sorted({0, duration, *data.draw(st.lists(st.integers(0, duration), max_size=40))})
    times = [t for k, t in enumerate(times) if k == 0 or t - times[k - 1] <= crimes.GAP_S] if all(
        b - a <= crimes.GAP_S for a, b in zip(times, times[1:], strict=False)) else []
    if len(times) < 2:
        return
    t0 = 1796911200
    crumbs = []
    for k, t in enumerate(times):
        x, y = at(t)
        unc = data.draw(st.floats(3, 30))
        ang = data.draw(st.floats(0, 2 * math.pi))
        off = data.draw(st.floats(0, 1)) * unc * 0.9
        crumbs.append(crimes.Crumb("tag-1", k, t0 + t, 52.45 + (y + off * math.sin(ang)) * M_LAT,
                                   -1.93 + (x + off * math.cos(ang)) * M_LON, unc))
    when = data.draw(st.integers(0, duration))
    sx, sy = at(when)
    radius = data.draw(st.floats(5, 200))
    c = crimes.Crime("X", "theft", 52.45 + sy * M_LAT, -1.93 + sx * M_LON,
                     t0 + max(0, when - data.draw(st.integers(0, 600))), t0 + when + data.draw(st.integers(0, 600)),
                     radius)
    hit = crimes.assess(c, crumbs, speed * 1.02 + 0.05)  # the geodesic and the flat metre differ a little
    assert hit is not None and hit.strength != crimes.NO_DATA, (c, crumbs)


@given(st.lists(st.lists(st.text(max_size=12), min_size=9, max_size=9), max_size=6))
@settings(max_examples=150, deadline=None)
def test_any_csv_is_crimes_or_a_clear_refusal(tmp_path_factory: pytest.TempPathFactory,
                                              rows: list[list[str]]) -> None:
    path = tmp_path_factory.mktemp("csv") / "any.csv"
    _csv(path, [dict(zip(HEADER, r, strict=True)) for r in rows])
    try:
        got = crimes.read_csv(path)
    except CliError as e:
        assert str(e).startswith(str(path)), e
        return
    assert len(got) == len(rows)


def test_an_unreadable_sheet_or_an_unwritable_folder_is_one_line(db: Path | str, walked: tuple[Path | str, str],
                                                                 tmp_path: Path) -> None:
    (tmp_path / "latin1.csv").write_bytes("reference,offence,lat,lon,from,to\nC9,vol à l'étalage,52.45,-1.93,"
                                          "2026-12-10 14:00,2026-12-10 15:00\n".encode("latin-1"))
    sheet = _tagsim("crimes", "import", str(tmp_path / "latin1.csv"), "--db", str(db))
    assert sheet.returncode == 2 and "not UTF-8 text" in sheet.stderr and "Traceback" not in sheet.stderr
    crimes.store(Centre(db), [crimes.Crime("E2", "theft", 52.45, -1.9365, 1796911800, 1796912400, 100)])
    (tmp_path / "afile").write_text("")
    out = _tagsim("crimes", "evidence", "E2", walked[1], "--db", str(db), "--out", str(tmp_path / "afile"))
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [f"tagsim: cannot write {tmp_path / 'afile'}:"
                                                                      " File exists"], out.stderr


KEY = bytes(range(32))
GEOD = Geod(ellps="WGS84")
T0 = 1796911200


@st.composite
def _trails(draw: st.DrawFn) -> tuple[dict[str, list[crimes.Crumb]], list[crimes.Crime]]:
    """Up to four tags wandering within a few km, breadcrumbs 5 s to 2 h apart (gaps
    among them), and crimes around them: scenes on a trail, beside it and far off."""
    trails: dict[str, list[crimes.Crumb]] = {}
    for d in range(draw(st.integers(1, 4))):
        t, y, x, crumbs = T0 + draw(st.integers(0, 3600)), 0.0, 0.0, []
        pace = draw(st.sampled_from([0.0, 0.1, 1.0]))  # at home, strolling, or anywhere a car could go
        for seq in range(1, draw(st.integers(1, 30)) + 1):
            crumbs.append(crimes.Crumb(f"tag-{d}", seq, t, round((52.45 + y * M_LAT) * 1e7) / 1e7,
                                       round((-1.93 + x * M_LON) * 1e7) / 1e7, float(draw(st.integers(3, 1000)))))
            step = draw(st.sampled_from([5, 30, 60, 300, 599, 601, 1800, 7200]))
            t += step
            y += draw(st.floats(-1, 1)) * 30 * min(step, 300) * pace
            x += draw(st.floats(-1, 1)) * 30 * min(step, 300) * pace
        trails[f"tag-{d}"] = crumbs
    every = [k for crumbs in trails.values() for k in crumbs]
    found = []
    for n in range(draw(st.integers(1, 6))):
        k = draw(st.sampled_from(every))
        far = draw(st.sampled_from([0.0, 100.0, 2000.0, 6000.0, 30000.0]))  # 6 km: only a path through a slow hour
        start = k.utc + draw(st.integers(-3600, 3600))
        found.append(crimes.Crime(f"C{n}", "theft", round((k.lat + far * M_LAT * draw(st.floats(-1, 1))) * 1e7) / 1e7,
                                  round((k.lon + far * M_LON * draw(st.floats(-1, 1))) * 1e7) / 1e7, start,
                                  start + draw(st.integers(0, 7200)), float(draw(st.integers(1, 500)))))
    return trails, found


def _hits(hits: list[crimes.Hit]) -> list[dict[str, object]]:
    return sorted((h.as_dict() for h in hits), key=lambda h: (h["ref"], h["device"]))


def _sent(db: Path | str, trails: dict[str, list[crimes.Crumb]]) -> Centre:
    """A centre that has had these breadcrumbs from their tags, as authenticated frames."""
    centre = Centre(db, clock=lambda: T0 * 1000)
    for device, crumbs in trails.items():
        centre.register(device, KEY)
        events = [wire.Event(k.seq, k.utc, wire.Kind.POSITION, 0, round(k.lat * 1e7), round(k.lon * 1e7),
                             int(k.unc_m), 0, 255, bytes(8)) for k in crumbs]
        for i in range(0, len(events), 8):
            assert centre.handle(wire.events_frame(KEY, wire.device_id(device), events[i:i + 8]))
    return centre


def _indexed(centre: Centre) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The trail's hours (their boxes and breadcrumbs; on SQLite the R*Tree's box of each)
    and gaps, as the index holds them."""
    rtree = (", r.lat0, r.lat1, r.lon0, r.lon1, r.t0, r.t1 FROM trail_crumbs h JOIN trail r ON r.id = h.id"
             if centre.db.kind == SQLITE else " FROM trail_crumbs h")
    hours = [tuple(bytes(v) if isinstance(v, bytes | memoryview) else v for v in r) for r in centre.db.execute(
        f"SELECT h.device, h.bucket, h.t0, h.t1, h.lat0, h.lat1, h.lon0, h.lon1, h.crumbs{rtree} "
        "ORDER BY h.device, h.bucket")]
    return hours, centre.db.execute("SELECT device, t0, t1 FROM gaps ORDER BY device, t0").fetchall()


@st.composite
def _pieces(draw: st.DrawFn) -> tuple[list[list[tuple[str, wire.Event]]], int]:
    """Up to three tags' breadcrumbs (some in the same second, some hours apart), in any
    order, cut into pieces stored one after another; and how many events the index reads
    at a time."""
    events = []
    for d in range(draw(st.integers(1, 3))):
        t = T0 + draw(st.integers(0, 7200))
        for seq in range(1, draw(st.integers(1, 25)) + 1):
            events.append((f"tag-{d}", wire.Event(seq, t, wire.Kind.POSITION, 0, 524_500_000 + draw(
                st.integers(-9000, 9000)), -19_300_000 + draw(st.integers(-9000, 9000)), draw(st.integers(3, 900)), 0,
                255, bytes(8))))
            t += draw(st.sampled_from([0, 5, 60, 599, 601, 3600, 9000]))
    order = draw(st.permutations(events))
    cuts = sorted(draw(st.lists(st.integers(0, len(order)), max_size=5)))
    return [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)], draw(st.sampled_from([1, 3,
                                                                                                           100_000]))


@given(_pieces())
@settings(max_examples=30, deadline=None)
def test_a_trail_indexed_piece_by_piece_is_the_trail_indexed_at_once(
        postgres: object, tmp_path_factory: pytest.TempPathFactory,
        case: tuple[list[list[tuple[str, wire.Event]]], int]) -> None:
    """Breadcrumbs arriving in any order, the index brought up to date after each piece
    of them (new ones merged into the hours indexed before, read a few at a time), index
    the trail as indexing every one of them at once does: the same hours, boxes,
    breadcrumbs in order of time and sequence number, and gaps, on both databases."""
    pieces, stream = case
    for db in (tmp_path_factory.mktemp("i") / "centre.db", postgres.database(f"t{uuid.uuid4().hex[:16]}")):  # type: ignore[attr-defined]
        centre = Centre(db, clock=lambda: T0 * 1000)
        for d in {name for piece in pieces for name, _ in piece}:
            centre.register(d, KEY)
        saved, crimes.STREAM = crimes.STREAM, stream
        try:
            for piece in pieces:
                for name in sorted({name for name, _ in piece}):
                    mine = [e for n, e in piece if n == name]
                    for i in range(0, len(mine), 8):
                        assert centre.handle(wire.events_frame(KEY, wire.device_id(name), mine[i:i + 8]))
                crimes.index(centre)
            pieced = _indexed(centre)
            crimes.reindex(centre)
        finally:
            crimes.STREAM = saved
        assert pieced == _indexed(centre), db
        every = sorted((e.utc, e.seq) for piece in pieces for name, e in piece if name == "tag-0")
        held = [(int(k["utc"]), int(k["seq"])) for h in pieced[0] if h[0] == "tag-0"
                for k in np.frombuffer(h[8], reach.CRUMB)]
        assert held == every
        centre.close()


def test_a_tag_at_home_could_have_gone_as_far_as_half_its_fixes_spacing_allows(
        postgres: object, tmp_path: Path) -> None:
    """Breadcrumbs 599 s apart at home leave the wearer free to go 30 m/s x 299.5 s = 9 km
    and be back: a crime 8.5 km away then is a path through, found whichever way the
    tags are chosen; one 9.5 km away is not."""
    home = [crimes.Crumb("home-1", k + 1, T0 + 599 * k, 52.45, -1.93, 5.0) for k in range(8)]
    east = 1 / float(reach.metres_per_degree(52.45)[1])  # degrees a metre
    scenes = [crimes.Crime(ref, "burglary", 52.45, -1.93 + km * 1000 * east, T0 + 1800, T0 + 2400, 100.0)
              for ref, km in (("C-8.5", 8.5), ("C-9.5", 9.5))]
    for db in (tmp_path / "centre.db", postgres.database(f"t{uuid.uuid4().hex[:16]}")):  # type: ignore[attr-defined]
        centre = _sent(db, {"home-1": home})
        crimes.store(centre, scenes)
        for scan_per_tag in (0.0, math.inf):
            got = crimes.match(centre, None, "test", scan_per_tag=scan_per_tag)
            assert [(h.ref, h.strength) for h in got] == [("C-8.5", crimes.PATH)], (db, scan_per_tag)
            assert abs(got[0].closest_m - 8495) < 0.01 and got[0].inside_s == 0  # a fix, less its 5 m
        centre.close()


@pytest.mark.parametrize("version", [7, 8])
def test_a_centre_made_by_an_earlier_version_has_its_trail_indexed_again(postgres: Any, tmp_path: Path,
                                                                         version: int) -> None:
    """Schema 7 indexed each breadcrumb (an R*Tree row on SQLite, a PostGIS point on
    PostgreSQL); schema 8 indexed hours of breadcrumbs without their sequence numbers,
    beside an index of events by time. Breadcrumbs such a centre holds, and had indexed
    its way, are found after the steps, and the index by time is gone."""
    rows = [("old-1", k + 1, T0 + 300 * k, 10, 524_500_000, -19_300_000, 5, 0) for k in range(6)]
    insert = ("INSERT INTO events (device, seq, utc, kind, lat_e7, lon_e7, accuracy_m, received_ms) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    # an hour as version 8 kept it: 20 bytes a breadcrumb, no sequence number
    hour_8 = ("INSERT INTO trail_crumbs (device, bucket, t0, t1, lat0, lat1, lon0, lon1, crumbs) VALUES "
              "('old-1', ?, ?, ?, 524500000, 524500000, -19300000, -19300000, ?)", (
                  T0 // 3600, T0, T0 + 1500, b"".join(np.array([(T0 + 300 * k, 524_500_000, -19_300_000, 5)], np.dtype(
                      [("utc", "<i8"), ("lat_e7", "<i4"), ("lon_e7", "<i4"), ("unc_m", "<i4")])).tobytes()
                      for k in range(6))))
    lite = sqlite3.connect(tmp_path / "centre.db", isolation_level=None)
    lite.executescript("".join(f"BEGIN; {step}; PRAGMA user_version = {v}; COMMIT;"
                               for v, step in enumerate(SCHEMA[:version], 1)))
    lite.executemany(insert, rows)
    lite.execute("INSERT INTO devices (device, key) VALUES (?, ?)", ("old-1", KEY))
    lite.execute("UPDATE trail_mark SET mark = (SELECT max(rowid) FROM events)")  # as the version's index left it
    if version == 8:
        lite.execute(*hour_8)
        lite.execute("INSERT INTO trail (id, lat0, lat1, lon0, lon1, t0, t1, device) SELECT id, lat0, lat1, lon0, "
                     "lon1, t0, t1, device FROM trail_crumbs")
    lite.close()
    url = postgres.database(f"t{uuid.uuid4().hex[:16]}")
    pg = Centre(url)
    with pg.db.transaction():  # back to how the version left it
        pg.db.script("CREATE INDEX events_trail ON events (device, kind, utc); CREATE INDEX events_crumbs_when ON "
                     "events (utc) WHERE kind = 10; " + (
                         "DROP TABLE trail_crumbs; ALTER TABLE events ADD COLUMN geom geometry(Point, 4326) GENERATED "
                         "ALWAYS AS (ST_SetSRID(ST_MakePoint(lon_e7::float8 / 1e7, lat_e7::float8 / 1e7), 4326)) "
                         "STORED; CREATE INDEX events_crumbs_where ON events USING gist (geom) WHERE kind = 10; "
                         if version == 7 else "") + f"UPDATE schema_version SET version = {version}")
        pg.db.executemany(insert, rows)
        pg.db.execute("INSERT INTO devices (device, key) VALUES (?, ?)", ("old-1", KEY))
        pg.db.execute("UPDATE trail_mark SET mark = (SELECT max(id) FROM events)")
        if version == 8:
            pg.db.execute(*hour_8)
    pg.close()
    for db in (tmp_path / "centre.db", url):
        centre = Centre(db)
        assert centre.db.execute("SELECT count(*) FROM trail_crumbs").fetchone()[0] == 0  # indexed at the match
        by_time = ("SELECT count(*) FROM sqlite_master WHERE name = 'events_trail'" if centre.db.kind == SQLITE else
                   "SELECT count(*) FROM pg_indexes WHERE tablename = 'events' AND indexname <> 'events_pkey'")
        assert centre.db.execute(by_time).fetchone()[0] == 0
        crimes.store(centre, [crimes.Crime("C1", "burglary", 52.45, -1.93, T0 + 600, T0 + 900, 100.0)])
        (hit,) = crimes.match(centre, None, "test")
        assert (hit.device, hit.strength) == ("old-1", crimes.STRONG), db
        centre.close()


@given(st.floats(49.9, 60.9), st.floats(-8.2, 1.8), st.floats(0, 360), st.floats(0, 20_000))
@settings(max_examples=300, deadline=None)
def test_the_matchers_metre_is_the_geodesics_to_within_6e_8_d_squared(lat: float, lon: float, bearing: float,
                                                                      d: float) -> None:
    """The plane the judge measures on (reach.metres_per_degree) against pyproj's WGS84
    geodesic, across the UK: 5 cm off at 1 km, 21 m at 20 km."""
    to_lon, to_lat, _ = GEOD.fwd(lon, lat, bearing, d)
    per_lat, per_lon = reach.metres_per_degree(lat)
    flat = math.hypot((to_lon - lon) * per_lon, (to_lat - lat) * per_lat)
    assert abs(flat - d) <= 6e-8 * d * d + 1e-6, (flat, d)


def _reference(c: crimes.Crime, crumbs: list[crimes.Crumb], v: float) -> crimes.Hit | None:
    """The judge written plainly, a breadcrumb and a stretch at a time, the likely path
    sampled second by second: what reach.judge's compiled loops must agree with."""
    per_lat, per_lon = (float(k) for k in reach.metres_per_degree(c.lat))

    def dist(lat: float, lon: float) -> float:
        return math.hypot((lon - c.lon) * per_lon, (lat - c.lat) * per_lat)

    def prism(a: crimes.Crumb, b: crimes.Crumb, lo: int, hi: int) -> float:
        da, db = dist(a.lat, a.lon) - a.unc_m, dist(b.lat, b.lon) - b.unc_m
        t = min(hi, max(lo, round((da - db + v * (a.utc + b.utc)) / (2 * v))))
        return max(0.0, da - v * (t - a.utc), db - v * (b.utc - t))

    rank, closest, inside_s, gaps, gap_reached, walks = None, (math.inf, 0), 0, [], False, []
    for k in crumbs:
        if c.from_utc <= k.utc <= c.to_utc:
            d = dist(k.lat, k.lon)
            closest = min(closest, (max(0.0, d - k.unc_m), k.utc))
            strength = (crimes.STRONG if d + k.unc_m <= c.radius_m else
                        crimes.NEAR if d - k.unc_m <= c.radius_m else None)
            if strength and (rank is None or crimes.RANK[strength] < rank):
                rank = crimes.RANK[strength]
    ends: list[crimes.Crumb | None] = [None, *crumbs, None]
    for a, b in zip(ends, ends[1:], strict=False):
        lo, hi = max(a.utc if a else c.from_utc, c.from_utc), min(b.utc if b else c.to_utc, c.to_utc)
        if lo > hi:
            continue
        if a is None or b is None or b.utc - a.utc > crimes.GAP_S:
            if lo < hi:
                gaps.append((lo, hi))
                gap_reached |= a is None or b is None or prism(a, b, lo, hi) <= c.radius_m
            continue
        if prism(a, b, lo, hi) <= c.radius_m and rank is None:
            rank = crimes.RANK[crimes.PATH]
        walks.append((a, b, lo, hi))
    if rank is None:
        return crimes.Hit(c.ref, crumbs[0].device, crimes.NO_DATA, math.nan, gaps[0][0], 0, gaps) if (
            gap_reached and crumbs) else None
    for a, b, lo, hi in walks:
        ts = np.arange(lo, hi + 1)
        f = (ts - a.utc) / max(1, b.utc - a.utc)
        d = np.hypot((a.lon + (b.lon - a.lon) * f - c.lon) * per_lon, (a.lat + (b.lat - a.lat) * f - c.lat) * per_lat)
        inside_s += int(np.count_nonzero((ts < hi) & (d <= c.radius_m)))
        k = int(np.argmin(d))
        closest = min(closest, (float(d[k]), int(ts[k])))
    return crimes.Hit(c.ref, crumbs[0].device, next(s for s, r in crimes.RANK.items() if r == rank), closest[0],
                      closest[1], inside_s, gaps)


def _same(got: list[crimes.Hit], want: list[crimes.Hit]) -> bool:
    """The same hits, the closest approach to 10 cm: a walk solved and a walk sampled
    second by second round differently."""
    a, b = _hits(got), _hits(want)
    return len(a) == len(b) and all(
        {**x, "closest_m": 0} == {**y, "closest_m": 0} and (x["closest_m"] is None) == (y["closest_m"] is None)
        and abs(float(x["closest_m"] or 0) - float(y["closest_m"] or 0)) <= 0.1 + 1e-9
        for x, y in zip(a, b, strict=True))


@given(_trails())
@settings(max_examples=25, deadline=None)
def test_matching_is_the_brute_force_answer_on_sqlite_and_postgresql(
        postgres: object, tmp_path_factory: pytest.TempPathFactory,
        case: tuple[dict[str, list[crimes.Crumb]], list[crimes.Crime]]) -> None:
    """Breadcrumbs sent as authenticated frames into both databases and matched there
    (the spatial indexes choosing whom to judge, or every tag's hours read) give the
    hits of judging every tag with a breadcrumb near each window from its whole trail,
    plainly and without an index."""
    trails, wanted = case
    want = []
    for c in wanted:
        for crumbs in trails.values():
            seen = [k for k in crumbs if c.from_utc - crimes.GAP_S <= k.utc <= c.to_utc + crimes.GAP_S]
            hit = _reference(c, seen, crimes.MAX_SPEED_MPS) if seen else None
            if hit:
                want.append(hit)
    for db in (tmp_path_factory.mktemp("m") / "centre.db", postgres.database(f"t{uuid.uuid4().hex[:16]}")):  # type: ignore[attr-defined]
        centre = _sent(db, trails)
        crimes.store(centre, wanted)
        for scan_per_tag in (crimes.SCAN_PER_TAG, 0.0, math.inf):  # as chosen; the spatial index; every hour read
            got = crimes.match(centre, None, "test", scan_per_tag=scan_per_tag)
            assert _same(got, want), (db, scan_per_tag, _hits(got), _hits(want))
        centre.close()
