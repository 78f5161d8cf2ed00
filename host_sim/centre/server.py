"""The monitoring centre: verifies frames, acknowledges them, stores events exactly
once (by device and sequence) and alerts in SQLite, and sends each tag its newest
order. Bad input is rejected with a logged reason while it keeps serving. A device
heard before and then silent for SILENCE_S raises a comms-loss alert (a silence),
which ends when it is heard again: a tag or home unit destroyed, flat, shielded or
out of coverage.

    tagsim centre serve --db centre.db --port 7600
    tagsim centre events --db centre.db --device tag-0001
    tagsim centre alerts --db centre.db
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import operator
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from host_sim import keys, wire
from host_sim.centre.db import POSTGRESQL, SQLITE, Database, errors, is_url, shown, sqlite_files
from host_sim.exits import BAD_INPUT, ENVIRONMENT, KEY_BYTES, CliError, hex_bytes

# each tag's stretches without a breadcrumb (crimes.index), and how far the index has come
GAPS = """
    CREATE TABLE gaps (device TEXT NOT NULL, t0 BIGINT NOT NULL, t1 BIGINT NOT NULL);
    CREATE INDEX gaps_device ON gaps (device, t0);
    CREATE INDEX gaps_from ON gaps (t0);
    CREATE INDEX gaps_to ON gaps (t1);
    CREATE TABLE trail_mark (mark BIGINT NOT NULL);
    INSERT INTO trail_mark VALUES (0);
"""
# the trail indexed again from the start at the next match
_TRAIL_AGAIN = """
    DELETE FROM trail_crumbs;
    DELETE FROM gaps;
    UPDATE trail_mark SET mark = 0;
"""
SCHEMA = [
    # version 1
    """
    CREATE TABLE devices (device TEXT PRIMARY KEY, key BLOB NOT NULL, config_version INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE events (device TEXT NOT NULL, seq INTEGER NOT NULL, utc INTEGER NOT NULL, kind INTEGER NOT NULL,
        lat_e7 INTEGER, lon_e7 INTEGER, accuracy_m INTEGER, depth_m INTEGER, battery INTEGER, zone_id TEXT,
        received_ms INTEGER NOT NULL, PRIMARY KEY (device, seq));
    CREATE TABLE alerts (device TEXT NOT NULL, seq INTEGER NOT NULL, utc INTEGER NOT NULL, kind TEXT NOT NULL,
        zone_id TEXT, received_ms INTEGER NOT NULL, PRIMARY KEY (device, seq));
    CREATE TABLE configs (device TEXT NOT NULL, version INTEGER NOT NULL, settings TEXT NOT NULL,
        zones BLOB NOT NULL, PRIMARY KEY (device, version));
    CREATE TABLE rejects (at_ms INTEGER NOT NULL, peer TEXT, device TEXT, reason TEXT NOT NULL);
    """,
    # version 2: comms loss
    """
    ALTER TABLE devices ADD COLUMN last_heard_ms INTEGER;
    CREATE TABLE silences (device TEXT NOT NULL, last_heard_ms INTEGER NOT NULL, raised_ms INTEGER NOT NULL,
        ended_ms INTEGER, PRIMARY KEY (device, last_heard_ms));
    """,
    # version 3: frames say when they were sent; the latest, so a replay is no sign of life
    """
    ALTER TABLE devices ADD COLUMN last_sent INTEGER;
    """,
    # version 4: an event a device stamped before its clock was set (time 0 on the wire)
    # is stamped on receipt, and says so
    """
    ALTER TABLE events ADD COLUMN stamped_at_centre INTEGER NOT NULL DEFAULT 0;
    """,
    # version 5: trails for crime matching (docs/trails.md): each event keeps the
    # authenticated frame it came in, to be verified again as evidence; breadcrumbs are
    # indexed in space and time (R*Tree, integer degrees e7 and Unix seconds); crimes
    # imported, and every query of them audited
    """
    CREATE TABLE frames (id INTEGER PRIMARY KEY, device TEXT NOT NULL, received_ms INTEGER NOT NULL,
        raw BLOB NOT NULL);
    ALTER TABLE events ADD COLUMN frame_id INTEGER;
    CREATE VIRTUAL TABLE trail USING rtree_i32(id, lat0, lat1, lon0, lon1, t0, t1, +device, +seq);
    CREATE TRIGGER trail_add AFTER INSERT ON events WHEN NEW.kind = 10 BEGIN
        INSERT INTO trail (lat0, lat1, lon0, lon1, t0, t1, device, seq)
        VALUES (NEW.lat_e7, NEW.lat_e7, NEW.lon_e7, NEW.lon_e7, NEW.utc, NEW.utc, NEW.device, NEW.seq); END;
    INSERT INTO trail (lat0, lat1, lon0, lon1, t0, t1, device, seq)
        SELECT lat_e7, lat_e7, lon_e7, lon_e7, utc, utc, device, seq FROM events WHERE kind = 10;
    CREATE TABLE crimes (ref TEXT PRIMARY KEY, offence TEXT NOT NULL, lat_e7 INTEGER NOT NULL,
        lon_e7 INTEGER NOT NULL, from_utc INTEGER NOT NULL, to_utc INTEGER NOT NULL, radius_m REAL NOT NULL,
        imported_ms INTEGER NOT NULL);
    CREATE TABLE audit (at_ms INTEGER NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL, crimes TEXT NOT NULL,
        detail TEXT NOT NULL);
    """,
    # version 6: a tag's breadcrumbs in a window, found without reading its whole history
    """
    CREATE INDEX events_trail ON events (device, kind, utc);
    """,
    # version 7: the trail's indexes brought up to date before each match (crimes.index),
    # not as each frame is stored: the R*Tree keyed by the event's rowid, up to a mark;
    # and each tag's gaps, stretches of more than crimes.GAP_S without a breadcrumb
    """
    DROP TRIGGER trail_add;
    DELETE FROM trail;
    """ + GAPS,
    # version 8: the trail indexed an hour of a tag's breadcrumbs at a time (crimes._hours),
    # the hour's breadcrumbs kept packed beside its box; indexed again from the start
    """
    DROP TABLE trail;
    CREATE TABLE trail_crumbs (id INTEGER PRIMARY KEY, device TEXT NOT NULL, bucket INTEGER NOT NULL,
        t0 INTEGER NOT NULL, t1 INTEGER NOT NULL, lat0 INTEGER NOT NULL, lat1 INTEGER NOT NULL,
        lon0 INTEGER NOT NULL, lon1 INTEGER NOT NULL, crumbs BLOB NOT NULL);
    CREATE UNIQUE INDEX trail_crumbs_hour ON trail_crumbs (device, bucket);
    CREATE INDEX trail_crumbs_when ON trail_crumbs (bucket);
    CREATE VIRTUAL TABLE trail USING rtree_i32(id, lat0, lat1, lon0, lon1, t0, t1, +device);
    """ + _TRAIL_AGAIN,
    # version 9: no index of events by time, which made storing each frame a fifth
    # slower: the trail's hours are merged from the events in the order stored
    # (crimes.index), and keep each breadcrumb's sequence number; indexed again
    """
    DROP INDEX events_trail;
    DELETE FROM trail;
    """ + _TRAIL_AGAIN,
]
# PostgreSQL's hours of trail (version 8 on SQLite): the box a PostGIS polygon, GiST-indexed
PG_HOURS = """
    CREATE TABLE trail_crumbs (id BIGSERIAL PRIMARY KEY, device TEXT NOT NULL, bucket BIGINT NOT NULL,
        t0 BIGINT NOT NULL, t1 BIGINT NOT NULL, lat0 BIGINT NOT NULL, lat1 BIGINT NOT NULL, lon0 BIGINT NOT NULL,
        lon1 BIGINT NOT NULL, crumbs BYTEA NOT NULL,
        box geometry(Polygon, 4326) GENERATED ALWAYS AS (ST_MakeEnvelope(lon0::float8 / 1e7, lat0::float8 / 1e7,
            lon1::float8 / 1e7, lat1::float8 / 1e7, 4326)) STORED);
    CREATE UNIQUE INDEX trail_crumbs_hour ON trail_crumbs (device, bucket);
    CREATE INDEX trail_crumbs_when ON trail_crumbs (bucket);
    CREATE INDEX trail_crumbs_where ON trail_crumbs USING gist (box);
"""
# PostgreSQL starts at the latest version; a database made at an earlier one takes these steps
PG_STEPS = {
    8: """
    DROP INDEX events_crumbs_where;
    ALTER TABLE events DROP COLUMN geom;
    """ + PG_HOURS + _TRAIL_AGAIN,
    9: """
    DROP INDEX IF EXISTS events_trail;
    DROP INDEX IF EXISTS events_crumbs_when;
    """ + _TRAIL_AGAIN,
}
PG_SCHEMA = """
    CREATE EXTENSION IF NOT EXISTS postgis;
    CREATE TABLE schema_version (version INTEGER NOT NULL);
    CREATE TABLE devices (device TEXT PRIMARY KEY, key BYTEA NOT NULL, config_version BIGINT NOT NULL DEFAULT 0,
        last_heard_ms BIGINT, last_sent BIGINT);
    CREATE TABLE events (id BIGSERIAL, device TEXT NOT NULL, seq BIGINT NOT NULL, utc BIGINT NOT NULL,
        kind INTEGER NOT NULL, lat_e7 BIGINT, lon_e7 BIGINT, accuracy_m INTEGER, depth_m INTEGER, battery INTEGER,
        zone_id TEXT, received_ms BIGINT NOT NULL, stamped_at_centre INTEGER NOT NULL DEFAULT 0, frame_id BIGINT,
        PRIMARY KEY (device, seq));
    CREATE TABLE alerts (device TEXT NOT NULL, seq BIGINT NOT NULL, utc BIGINT NOT NULL, kind TEXT NOT NULL,
        zone_id TEXT, received_ms BIGINT NOT NULL, PRIMARY KEY (device, seq));
    CREATE TABLE configs (device TEXT NOT NULL, version BIGINT NOT NULL, settings TEXT NOT NULL,
        zones BYTEA NOT NULL, PRIMARY KEY (device, version));
    CREATE TABLE rejects (id BIGSERIAL PRIMARY KEY, at_ms BIGINT NOT NULL, peer TEXT, device TEXT,
        reason TEXT NOT NULL);
    CREATE TABLE silences (device TEXT NOT NULL, last_heard_ms BIGINT NOT NULL, raised_ms BIGINT NOT NULL,
        ended_ms BIGINT, PRIMARY KEY (device, last_heard_ms));
    CREATE TABLE frames (id BIGSERIAL PRIMARY KEY, device TEXT NOT NULL, received_ms BIGINT NOT NULL,
        raw BYTEA NOT NULL);
    CREATE TABLE crimes (ref TEXT PRIMARY KEY, offence TEXT NOT NULL, lat_e7 BIGINT NOT NULL,
        lon_e7 BIGINT NOT NULL, from_utc BIGINT NOT NULL, to_utc BIGINT NOT NULL, radius_m DOUBLE PRECISION NOT NULL,
        imported_ms BIGINT NOT NULL);
    CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, at_ms BIGINT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
        crimes TEXT NOT NULL, detail TEXT NOT NULL);
""" + GAPS + PG_HOURS
# what each listing shows, in its order (the insertion order breaks ties: rowid, or PostgreSQL's id)
COLUMNS = {
    "events": "device, seq, utc, kind, lat_e7, lon_e7, accuracy_m, depth_m, battery, zone_id, received_ms, "
              "stamped_at_centre, frame_id",
    "alerts": "device, seq, utc, kind, zone_id, received_ms",
    "silences": "device, last_heard_ms, raised_ms, ended_ms",
    "rejects": "at_ms, peer, device, reason",
}
# Twice the longest gap between a well tag's calls (home_report_period_s, 900 s): the
# reporting interval plus a buffer before a comms-failure alert, as SCRAM does
# (docs/frames.md, Silence).
SILENCE_S = 1800
# events that do more than add a row: an alert, or an order applied
_NOTABLE = frozenset(wire.ALERTS | {wire.Kind.CONFIG_APPLIED})


def real_clock_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Stats:
    frames: int = 0
    events: int = 0
    duplicates: int = 0
    rejected: int = 0


_WIDTH = len(COLUMNS["events"].split(","))
_ROW = "(" + ", ".join("?" * _WIDTH) + ")"
_CHUNK = 256  # events rows a SQLite statement: few statements, and few texts of them to keep
_KEY = operator.itemgetter(0, 1)  # an events row's (device, seq)
# PostgreSQL takes any number of rows as one array a column: one round trip, and a text
# short enough for psycopg to convert once (a long one it parses again at every call)
_PG_TYPES = "text bigint bigint integer bigint bigint integer integer integer text bigint integer bigint".split()
_PG_INSERT = (f"INSERT INTO events ({COLUMNS['events']}) SELECT * FROM unnest("
              f"{', '.join(f'?::{t}[]' for t in _PG_TYPES)}) ON CONFLICT DO NOTHING")


@functools.cache
def _insert_sql(n: int) -> str:
    return f"INSERT INTO events ({COLUMNS['events']}) VALUES {', '.join([_ROW] * n)} ON CONFLICT DO NOTHING"


def insert_events(db: Database, rows: list[tuple[Any, ...]]) -> int:
    """Events rows, in COLUMNS["events"]' order, inserted in that order: on SQLite
    _CHUNK to a statement, on PostgreSQL in one. A row whose (device, seq) is stored
    already, or comes earlier in rows, is left out. How many were new."""
    if db.kind == POSTGRESQL:
        return int(db.execute(_PG_INSERT, [list(column) for column in zip(*rows, strict=True)]).rowcount)
    parts = [rows[i:i + _CHUNK] for i in range(0, len(rows), _CHUNK)]
    return sum(db.execute(_insert_sql(len(part)), list(itertools.chain.from_iterable(part))).rowcount
               for part in parts)


def _sender(frame: bytes) -> str | wire.WireError:
    """The device a frame says it is from, or why it is not a frame at all."""
    try:
        return wire.peek_device(frame).rstrip(b"\0").decode(errors="replace")
    except wire.WireError as err:
        return err


@dataclass
class _Device:
    """A device's row as a batch of frames changes it (Centre.handle_groups)."""

    key: wire.Keyed
    config_version: int
    last_sent: int | None
    heard_ms: int | None = None  # heard in this batch: when, last
    first_heard_ms: int | None = None
    newer: Any = None  # the newest order above the version offered, if any

    def __post_init__(self) -> None:
        self.loaded_version = self.config_version
        self.offered = self.config_version  # the version the newest order was looked up above (Centre._devices)


@dataclass(slots=True)
class _Taken:
    """An authentic events frame of a batch, as it is stored and answered."""

    name: str
    d: _Device
    frame: bytes
    peer: str
    events: list[tuple[Any, ...]]
    sent: int
    id: int = 0  # its row in frames
    new: int = 0  # its events stored by it, not before
    fresh: set[int] | None = None  # their sequence numbers, when not all of its events


class Centre:
    """The centre's logic, one frame at a time; serve() puts it on TCP."""

    def __init__(self, db: Path | str, clock: Callable[[], int] = real_clock_ms,
                 log: Callable[[str], None] | None = None) -> None:
        """log: a line per frame received, alert raised and frame refused (tagsim centre serve)."""
        self.path = db
        self.db = Database(db)
        self.clock = clock
        self.log = log
        self.stats = Stats()
        self.lock = threading.Lock()
        self.cpu_s = 0.0  # CPU spent verifying, storing and answering frames
        self._rejected: list[tuple[int, str, str | None, str]] = []  # not yet written (flush_rejects)
        self._migrate()

    def _migrate(self) -> None:
        # PostgreSQL is made whole at the latest version: SCHEMA's steps are SQLite's alone
        if self.db.kind == POSTGRESQL:
            if self.db.execute("SELECT to_regclass('schema_version') IS NULL").fetchone()[0]:
                with self.db.transaction():
                    self.db.script(PG_SCHEMA)
                    self.db.execute("INSERT INTO schema_version VALUES (?)", (len(SCHEMA),))
            version = self.db.execute("SELECT version FROM schema_version").fetchone()[0]
        else:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(SCHEMA):
            raise CliError(f"{shown(self.path)}: a centre database from a newer emtag (schema {version}, this one "
                           f"knows {len(SCHEMA)}): use that version, or another --db")
        for v, script in enumerate(SCHEMA[version:], version + 1):
            if self.db.kind == POSTGRESQL:
                with self.db.transaction():
                    self.db.script(PG_STEPS[v])
                    self.db.execute("UPDATE schema_version SET version = ?", (v,))
            else:
                self.db.script(f"BEGIN; {script}; PRAGMA user_version = {v}; COMMIT;")

    def close(self) -> None:
        self.flush_rejects()
        self.db.close()

    def register(self, device: str, key: bytes) -> None:
        self.db.execute("INSERT INTO devices (device, key) VALUES (?, ?) "
                        "ON CONFLICT (device) DO UPDATE SET key = excluded.key", (device, key))

    def order(self, device: str, version: int, settings: dict[str, Any], zones_file: bytes) -> None:
        self.db.execute("INSERT INTO configs VALUES (?, ?, ?, ?)", (device, version, json.dumps(settings), zones_file))

    def reject(self, peer: str, device: str | None, reason: str) -> None:
        # Kept until flush_rejects(): a flood of garbage is written in one transaction a
        # read, not one commit (and its sync) a frame, which would stall every other tag.
        self.stats.rejected += 1
        self._rejected.append((self.clock(), peer, device, reason))
        if self.log:
            self.log(f"refused {device or 'a frame'} from {peer}: {reason}")

    def flush_rejects(self) -> None:
        with self.lock:
            pending, self._rejected = self._rejected, []
            if pending:
                with self.db.transaction():
                    self.db.executemany("INSERT INTO rejects (at_ms, peer, device, reason) VALUES (?, ?, ?, ?)",
                                        pending)

    def handle(self, frame: bytes, peer: str = "") -> list[bytes]:
        """The frames to send back for one received frame (none for a rejected one)."""
        return self.handle_groups([([frame], peer)])[0]

    def handle_groups(self, groups: list[tuple[list[bytes], str]]) -> list[list[bytes]]:
        """The answers to each group of frames (a read from one peer), all the groups
        stored in one transaction and committed before any answer goes: many frames, from
        many tags, for one commit's cost. Each device's row is read once and written once,
        and the frames' events go in together, in key order."""
        t0 = time.thread_time()
        with self.lock:
            try:
                with self.db.transaction():
                    named = [[(frame, _sender(frame)) for frame in frames] for frames, _ in groups]
                    seen = self._devices({n for frames in named for _, n in frames if isinstance(n, str)})
                    now = self.clock()
                    opened = [[self._open(frame, name, peer, seen) for frame, name in frames]
                              for frames, (_, peer) in zip(named, groups, strict=True)]
                    self._store([t for frames in opened for t in frames if t is not None and t.events], now)
                    replies = [[reply for t in frames if t is not None for reply in self._answer(t, now)]
                               for frames in opened]
                    self._heard(seen)
                    return replies
            finally:
                self.cpu_s += time.thread_time() - t0

    def _devices(self, names: set[str]) -> dict[str, _Device]:
        """The rows of the devices named, and each one's newest order above the version it
        runs, in two queries whatever the number of devices."""
        if not names:
            return {}
        marks = ", ".join("?" * len(names))
        rows = self.db.execute(f"SELECT device, key, config_version, last_sent FROM devices WHERE device IN ({marks})",
                               list(names))
        seen = {name: _Device(wire.keyed(bytes(key)), version, last_sent) for name, key, version, last_sent in rows}
        for name, *newer in self.db.execute(
                f"SELECT c.device, c.version, c.settings, c.zones FROM configs c JOIN devices d ON d.device = c.device "
                f"WHERE c.device IN ({marks}) AND c.version > d.config_version ORDER BY c.version", list(names)):
            seen[name].newer = newer  # the newest last
        return seen

    def _open(self, frame: bytes, name: str | wire.WireError, peer: str, seen: dict[str, _Device]) -> _Taken | None:
        """An authentic events frame from a known device, or None and the reason recorded."""
        if isinstance(name, wire.WireError):
            self.reject(peer, None, str(name))
            return None
        d = seen.get(name)
        if d is None:
            self.reject(peer, name, "unknown device")
            return None
        try:
            kind, _, payload = wire.open_frame(d.key, frame)
        except wire.WireError as err:
            self.reject(peer, name, str(err))
            return None
        if kind != wire.EVENTS:
            self.reject(peer, name, f"a tag does not send frames of kind {kind}")
            return None
        self.stats.frames += 1
        return _Taken(name, d, frame, peer, wire.event_rows(payload), wire.sent_of(payload))

    def _store(self, taken: list[_Taken], now: int) -> None:
        """The frames' events new by (device, seq) stored, each once however often it came,
        and each frame as it came kept while it brought something new: evidence verifies
        it again. Each frame learns how many of its events were new."""
        if not taken:
            return
        for t, frame_id in zip(taken, self.db.next_ids("frames", len(taken)), strict=True):
            t.id = frame_id
        self.db.executemany("INSERT INTO frames (id, device, received_ms, raw) VALUES (?, ?, ?, ?)",
                            [(t.id, t.name, now, t.frame) for t in taken])
        # (seq, utc, kind, flags, lat_e7, lon_e7, accuracy_m, depth_m, battery, zone_id) as wire.EVENT packs them;
        # utc 0: the device's clock was not set when it stamped this, so it is stamped now
        now_s = now // 1000
        rows = [(t.name, seq, utc or now_s, kind, lat, lon, acc, depth, battery, zone.hex(), now, 0 if utc else 1,
                 t.id) for t in taken for seq, utc, kind, _, lat, lon, acc, depth, battery, zone in t.events]
        rows.sort(key=_KEY)  # stable: an event sent twice in the group is the earlier frame's
        new = insert_events(self.db, rows)
        if new == len(rows):
            for t in taken:
                t.new = len(t.events)
        else:  # some were stored before: each stored event says which frame brought it
            fresh: dict[int, set[int]] = {t.id: set() for t in taken}
            spans: dict[str, tuple[int, int]] = {}
            for t in taken:
                seqs = [e[0] for e in t.events]
                lo, hi = spans.get(t.name, (seqs[0], seqs[0]))
                spans[t.name] = (min(lo, *seqs), max(hi, *seqs))
            for name, (lo, hi) in spans.items():
                for seq, frame_id in self.db.execute("SELECT seq, frame_id FROM events WHERE device = ? AND seq "
                                                     "BETWEEN ? AND ?", (name, lo, hi)):
                    if frame_id in fresh:
                        fresh[frame_id].add(seq)
            for t in taken:
                t.fresh, t.new = fresh[t.id], len(fresh[t.id])
            self.db.executemany("DELETE FROM frames WHERE id = ?", [(t.id,) for t in taken if not t.new])

    def _answer(self, t: _Taken, now: int) -> list[bytes]:
        """A stored frame's answers, frame by frame as they came: its acknowledgement, and
        the device's newest order while it has not applied it."""
        d, events = t.d, t.events
        self.stats.events += t.new
        self.stats.duplicates += len(events) - t.new
        if t.new and not _NOTABLE.isdisjoint([e[2] for e in events]):  # not only breadcrumbs and the like
            self._notable(t, now)
        # A sign of life: new events, or a sending time later than any before. A recorded
        # frame played again has neither, however authentic its MAC.
        if t.new or d.last_sent is None or t.sent > d.last_sent:
            d.heard_ms, d.last_sent = now, max(t.sent, d.last_sent or 0)
            d.first_heard_ms = d.first_heard_ms or now
        top = max(events)[0] if events else 0
        if events and not t.new:  # acknowledged all the same: the tag may have missed the ack
            self.reject(t.peer, t.name, "replayed or resent frame: nothing new stored")
        elif self.log:
            self.log(f"{t.name}: {len(events)} events, {t.new} new, up to seq {top}")
        dev = t.frame[4:12]  # as the frame gives it (wire.HEAD)
        replies = [wire.ack_frame(d.key, dev, top, now)]
        if d.offered != d.config_version:
            d.offered, d.newer = d.config_version, self.db.execute(
                "SELECT version, settings, zones FROM configs WHERE device = ? AND version > ? "
                "ORDER BY version DESC LIMIT 1", (t.name, d.config_version)).fetchone()
        if d.newer:
            replies.append(wire.config_frame(d.key, dev, d.newer[0], d.newer[1].encode(), bytes(d.newer[2])))
        return replies

    def _notable(self, t: _Taken, now: int) -> None:
        # an alert stored once, however often its event came; an order's version applied
        for seq, utc, kind, _, _, _, _, depth, _, zone in t.events:
            if t.fresh is not None and seq not in t.fresh:  # stored before, from another frame
                continue
            utc = utc or now // 1000
            if kind in wire.ALERTS:
                raised = self.db.execute("INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                         (t.name, seq, utc, wire.EVENT_NAMES[kind], zone.hex(), now)).rowcount
                if self.log and raised:
                    self.log(f"ALERT {t.name} {wire.EVENT_NAMES[kind]} at "
                             f"{time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime(utc))} (seq {seq})")
            if kind == wire.Kind.CONFIG_APPLIED:  # depth_m carries the version
                t.d.config_version = max(t.d.config_version, depth)

    def _heard(self, seen: dict[str, _Device]) -> None:
        # the batch's changes to its devices' rows, a statement for them all
        changed = [(d.config_version, d.heard_ms, d.last_sent, name) for name, d in seen.items()
                   if d.heard_ms is not None or d.config_version != d.loaded_version]
        if changed:
            self.db.executemany("UPDATE devices SET config_version = ?, last_heard_ms = coalesce(?, last_heard_ms), "
                                "last_sent = coalesce(?, last_sent) WHERE device = ?", changed)
        heard = [(d.first_heard_ms, name) for name, d in seen.items() if d.heard_ms is not None]
        if heard:
            self.db.executemany("UPDATE silences SET ended_ms = ? WHERE device = ? AND ended_ms IS NULL", heard)

    def check_silence(self, limit_s: int = SILENCE_S) -> list[dict[str, Any]]:
        """Raise a silence for each device heard before and not since limit_s ago; the new ones."""
        now = self.clock()
        with self.lock, self.db.transaction():
            quiet = self.db.execute(
                "SELECT device, last_heard_ms FROM devices WHERE last_heard_ms IS NOT NULL AND last_heard_ms < ? "
                "AND NOT EXISTS (SELECT 1 FROM silences s WHERE s.device = devices.device "
                "AND s.last_heard_ms = devices.last_heard_ms)", (now - limit_s * 1000,)).fetchall()
            for device, last in quiet:
                self.db.execute("INSERT INTO silences VALUES (?, ?, ?, NULL)", (device, last, now))
        return [{"device": d, "last_heard_ms": last, "raised_ms": now, "ended_ms": None} for d, last in quiet]

    def silences(self, device: str | None = None) -> list[dict[str, Any]]:
        return self._rows("silences", device)

    def events(self, device: str | None = None) -> list[dict[str, Any]]:
        return self._rows("events", device)

    def alerts(self, device: str | None = None) -> list[dict[str, Any]]:
        return self._rows("alerts", device)

    def pairings(self, device: str | None = None) -> list[dict[str, Any]]:
        """Tags and home units as technicians paired them, from the pairing events (23) both
        sides send: the key id and the tag's beacon id in zone_id, the side (1 tag, 2 unit)
        in depth_m. A device's latest pairing is the one in force; a pairing is whole once
        both sides have reported it, and replaced when the other side has paired again."""
        history = self.db.execute("SELECT device, utc, depth_m, zone_id FROM events WHERE kind = ? AND depth_m IN "
                                  "(1, 2) ORDER BY device, seq", (wire.Kind.PAIRED,)).fetchall()
        latest = {dev: (utc, side, ident) for dev, utc, side, ident in history}
        pairs: dict[str, dict[str, Any]] = {}
        for dev, (utc, side, ident) in latest.items():
            p = pairs.setdefault(ident, {"tag": None, "unit": None, "key_id": ident[:8], "tag_beacon": ident[8:16],
                                         "paired_utc": utc})
            p["tag" if side == 1 else "unit"] = dev
            p["paired_utc"] = max(p["paired_utc"], utc)
        rows = []
        for ident, p in pairs.items():
            if p["tag"] and p["unit"]:
                state = "paired"
            else:
                side, missing = (2, "unit") if p["tag"] else (1, "tag")
                before = [dev for dev, _, s, i in history if i == ident and s == side]
                state = f"replaced: {before[-1]} paired again" if before else f"waiting for the {missing}"
                p[missing] = before[-1] if before else None
            rows.append({**p, "state": state})
        rows.sort(key=lambda r: (r["paired_utc"], r["key_id"]))
        return [r for r in rows if device is None or device in (r["tag"], r["unit"])]

    def rejects(self) -> list[dict[str, Any]]:
        self.flush_rejects()
        return self._rows("rejects", None)

    def _rows(self, table: str, device: str | None) -> list[dict[str, Any]]:
        order = {"rejects": f"at_ms, {self.rowid}", "silences": "device, last_heard_ms"}.get(table, "device, seq")
        where, args = ("WHERE device = ?", (device,)) if device else ("", ())
        cols = [c.strip() for c in COLUMNS[table].split(",")]
        rows = self.db.execute(f"SELECT {COLUMNS[table]} FROM {table} {where} ORDER BY {order}", args).fetchall()
        return [dict(zip(cols, r, strict=True)) for r in rows]

    @property
    def rowid(self) -> str:
        """The column that keeps insertion order in the log tables (rejects, audit)."""
        return "rowid" if self.db.kind == SQLITE else "id"


def _say(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)


class _GroupCommit:
    """The frames every session read in one turn of the event loop, stored in one
    transaction: a commit (and its sync to disk) shared by every tag that spoke, not
    paid by each. The commit blocks the loop; the reads that pile up meanwhile make the
    next group larger, so the busier the centre, the fewer commits a frame."""

    def __init__(self, centre: Centre) -> None:
        self.centre = centre
        self._waiting: list[tuple[list[bytes], str, asyncio.Future[list[bytes]]]] = []

    async def handle(self, frames: list[bytes], peer: str) -> list[bytes]:
        loop = asyncio.get_running_loop()
        if not self._waiting:
            loop.call_soon(self._commit)  # after the sessions whose reads are ready now
        answer: asyncio.Future[list[bytes]] = loop.create_future()
        self._waiting.append((frames, peer, answer))
        return await answer

    def _commit(self) -> None:
        group, self._waiting = self._waiting, []
        try:
            replies = self.centre.handle_groups([(frames, peer) for frames, peer, _ in group])
            self.centre.flush_rejects()
        except Exception as e:  # the database failed: every session in the group hears it
            for *_, answer in group:
                if not answer.cancelled():  # a cancelled one's session has ended
                    answer.set_exception(e)
            return
        for (*_, answer), reply in zip(group, replies, strict=True):
            if not answer.cancelled():
                answer.set_result(reply)


async def _session(centre: Centre, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   commit: _GroupCommit) -> None:
    peer = str(writer.get_extra_info("peername"))
    unslip = wire.Unslip()
    try:
        while data := await reader.read(65536):
            # the frames of one read stored with every other session's of the same turn,
            # their answers in one write
            frames = list(unslip.feed(data))
            out = b"".join(wire.slip(reply) for reply in await commit.handle(frames, peer)) if frames else b""
            if out:
                writer.write(out)
            await writer.drain()
            # a read of buffered data returns at once: without this a flood on one
            # connection would hold every other tag until it ended
            await asyncio.sleep(0)
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        if unslip.oversized:
            centre.reject(peer, None, f"{unslip.oversized} oversized frames")
        centre.flush_rejects()
        writer.close()


class Server:
    """The centre on TCP, in a thread of its own: start(), port, stop()."""

    def __init__(self, centre: Centre, host: str = "127.0.0.1", port: int = 0) -> None:
        self.centre = centre
        self.host = host
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._open: set[asyncio.StreamWriter] = set()
        self._commit = _GroupCommit(centre)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            await _session(self.centre, reader, writer, self._commit)
        finally:
            self._open.discard(writer)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, self.host, self.port))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        for writer in list(self._open):  # tags still connected (a run that ended early): hang up,
            writer.close()  # so each session reads the end of its stream and finishes as usual
        sessions = asyncio.all_tasks(self._loop)
        self._loop.run_until_complete(asyncio.gather(*sessions, return_exceptions=True))
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    def start(self) -> Server:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def open_centre(db: Path | str, log: Callable[[str], None] | None = None) -> Centre:
    """The centre on an existing or new database, or CliError if the file is not one of ours."""
    try:
        return Centre(db, log=log)
    except errors() as e:
        raise unreadable(db, e) from None


def unreadable(db: Path | str, e: Exception) -> CliError:
    """The one line for a database that cannot be opened or read: a server not there or
    refusing (exit 3), or a file that is not a centre database (exit 2)."""
    why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if is_url(db):
        return CliError(f"{shown(db)}: cannot use this PostgreSQL database ({why}): check the server and the URL, "
                        "or give another --db", ENVIRONMENT)
    return CliError(f"{db}: not a readable emtag centre database ({why}): give another --db", BAD_INPUT)


def open_existing(db: Path | str) -> Centre:
    """The centre on a database that must be there already (its views, crimes, purge and audit)."""
    if isinstance(db, Path) and not db.exists():
        raise CliError(f"centre: no database at {db}: give --db, or start one with tagsim centre serve")
    return open_centre(db)


def load_keys(path: Path) -> dict[str, bytes]:
    """A keys file, {"device": "64 hex digits"}, checked whole: CliError naming what is wrong."""
    given = keys.read(path)
    if not all(isinstance(k, str) for k in given.values()):
        raise CliError(f'keys file {path}: expected a JSON object of hex keys, {{"tag-0001": "64 hex digits"}}')
    return {device: hex_bytes(key, f"keys file {path}: {device}'s key", (KEY_BYTES, KEY_BYTES))
            for device, key in given.items()}


def serve_forever(db: Path | str, host: str, port: int, keys_file: Path | None, silence_s: int = SILENCE_S,
                  quiet: bool = False) -> None:
    """Serve until interrupted. CliError for bad keys, a database not ours, or a port in use;
    a database this call created is removed again if it cannot serve."""
    given = load_keys(keys_file) if keys_file else {}
    made = sqlite_files(db) if isinstance(db, Path) and not db.exists() else []  # removed if it cannot serve
    centre = open_centre(db, None if quiet else _say)
    for device, key in given.items():
        centre.register(device, key)

    async def watch() -> None:
        while True:
            await asyncio.sleep(60)
            for quiet in centre.check_silence(silence_s):
                _say(f"ALERT {quiet['device']} comms lost: not heard since "
                     f"{time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime(quiet['last_heard_ms'] / 1000))}")

    async def main() -> None:
        try:
            commit = _GroupCommit(centre)
            server = await asyncio.start_server(lambda r, w: _session(centre, r, w, commit), host, port)
        except OSError as e:
            centre.db.close()
            for leftover in made:  # nothing half-created left behind
                leftover.unlink(missing_ok=True)
            raise CliError(f"cannot listen on {host}:{port} ({e.strerror}): stop what holds it, or give another "
                           f"--port", ENVIRONMENT) from None
        print(f"centre listening on {host}:{server.sockets[0].getsockname()[1]}, database {shown(db)}", flush=True)
        watcher = asyncio.create_task(watch())
        stop = asyncio.Event()  # Ctrl-C or SIGTERM: stop between frames, not in the middle of one
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        async with server:
            await stop.wait()
        watcher.cancel()
        if not quiet:
            _say("centre stopped")

    asyncio.run(main())
