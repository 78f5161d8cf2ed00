"""The monitoring centre: authentic frames stored once and acknowledged; everything
else rejected with a reason while it keeps serving, over real TCP and SQLite."""

import asyncio
import json
import random
import socket
import sqlite3
import struct
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim import wire
from host_sim.centre import load
from host_sim.centre.server import SCHEMA, Centre, Server, _GroupCommit, _session

KEY = bytes(range(32))
DEV = wire.device_id("tag-0001")


def _ev(seq: int, kind: int = 10, utc: int = 1_796_083_200) -> wire.Event:
    return wire.Event(seq, utc + seq, kind, 0, 524862000, -18904000, 8, 30 if kind == 1 else 0, 255, b"z" * 8)


def _centre(db: Path | str) -> Centre:
    c = Centre(db)
    c.register("tag-0001", KEY)
    return c


def test_events_are_stored_once_and_acknowledged(centre_db: Path | str) -> None:
    c = _centre(centre_db)
    frame = wire.events_frame(KEY, DEV, [_ev(1), _ev(2, kind=1), _ev(3)])
    for _ in range(3):  # at-least-once on the wire
        (reply,) = c.handle(frame)
        kind, dev, payload = wire.open_frame(KEY, reply)
        assert (kind, dev, payload[:4]) == (wire.ACK, DEV, struct.pack("<I", 3))
        assert abs(struct.unpack_from("<Q", payload, 4)[0] - time.time() * 1000) < 60_000  # the centre's time
    assert [e["seq"] for e in c.events("tag-0001")] == [1, 2, 3]
    assert [(a["seq"], a["kind"]) for a in c.alerts("tag-0001")] == [(2, "breach")]
    assert c.stats.duplicates == 6
    assert [r["reason"] for r in c.rejects()] == ["replayed or resent frame: nothing new stored"] * 2


def test_bad_frames_are_rejected_with_reasons(centre_db: Path | str) -> None:
    c = _centre(centre_db)
    good = wire.events_frame(KEY, DEV, [_ev(1)])
    bad = {
        "bad MAC": wire.events_frame(b"k" * 32, DEV, [_ev(1)]),
        "unknown device": wire.events_frame(KEY, wire.device_id("tag-9999"), [_ev(1)]),
        "short frame": good[:10],
        "bad event count": wire.seal(KEY, wire.EVENTS, DEV, bytes([200]) + _ev(1).pack()),
        "not an emtag frame": b"XX" + good[2:],
        "frame version": good[:2] + b"\x09" + good[3:],
        "does not send frames of kind 2": wire.ack_frame(KEY, DEV, 5),
    }
    for reason, frame in bad.items():
        assert c.handle(frame, "test") == []
        assert reason in c.rejects()[-1]["reason"], (reason, c.rejects()[-1])
    assert c.events() == [] and c.stats.rejected == len(bad)
    assert c.handle(good)  # and it goes on serving


def _recv_frames(sock: socket.socket, n: int) -> list[bytes]:
    unslip, got = wire.Unslip(), []
    sock.settimeout(120)  # a hang, not a speed: no load makes an answer take this long
    while len(got) < n:
        got += list(unslip.feed(sock.recv(4096)))
    return got


def test_fuzz_over_tcp_while_another_tag_is_served(centre_db: Path | str) -> None:
    """10,000 hostile inputs on one connection; a good tag on another gets every ack, and
    nothing hostile is stored (that it is not kept waiting: the test after this one)."""
    c = _centre(centre_db)
    c.register("tag-0002", KEY)
    rnd = random.Random(10)
    good = wire.events_frame(KEY, DEV, [_ev(1)])
    inputs = []
    for i in range(10_000):
        k = i % 4
        if k == 0:
            inputs.append(bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 80))))
        elif k == 1:
            inputs.append(good[: rnd.randrange(len(good))])
        elif k == 2:
            b = bytearray(good)
            b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
            inputs.append(bytes(b))
        else:
            inputs.append(struct.pack("<2sBB8sB", b"EM", 1, 1, DEV, 255) + bytes(rnd.randrange(256) for _ in range(40)))
    with Server(c) as server:
        hostile = socket.create_connection(("127.0.0.1", server.port))
        honest = socket.create_connection(("127.0.0.1", server.port))

        def attack() -> None:
            hostile.sendall(b"".join(wire.slip(x) for x in inputs) + bytes(5000) + b"\xc0")

        t = threading.Thread(target=attack)
        t.start()
        acks = []
        for seq in range(1, 21):
            honest.sendall(wire.slip(wire.events_frame(KEY, wire.device_id("tag-0002"), [_ev(seq)])))
            (reply,) = _recv_frames(honest, 1)
            acks.append(struct.unpack_from("<I", wire.open_frame(KEY, reply)[2])[0])
        t.join()
        hostile.shutdown(socket.SHUT_WR)  # then wait for the centre to have read it all and hung up
        hostile.settimeout(120)
        while hostile.recv(4096):
            pass
        hostile.close()
        honest.close()
    assert acks == list(range(1, 21))
    assert [e["seq"] for e in c.events("tag-0002")] == list(range(1, 21))
    assert c.events("tag-0001") == []  # nothing hostile got in
    assert c.stats.rejected >= 9_000
    reasons = {r["reason"].split(" (")[0] for r in c.rejects()}
    assert {"bad MAC", "short frame", "not an emtag frame"} <= reasons


class _Writer:
    """A session's socket, as asyncio's StreamWriter: what it wrote, in order, across sessions."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def write(self, data: bytes) -> None:
        self.log.append(f"{self.name} wrote")

    async def drain(self) -> None:
        pass

    def close(self) -> None:
        self.log.append(f"{self.name} closed")

    def get_extra_info(self, what: str) -> str:
        return self.name


def test_a_flood_already_read_in_does_not_hold_another_tag(centre_db: Path | str) -> None:
    """Deterministic, no clock: the whole flood is in the hostile session's buffer before
    the loop runs (a read returns at once, forever), yet the honest tag is answered
    before the hostile session ends, because each session yields after every read."""
    c = _centre(centre_db)
    log: list[str] = []

    async def run() -> None:
        hostile, honest = asyncio.StreamReader(), asyncio.StreamReader()
        hostile.feed_data(b"".join(wire.slip(bytes([i % 256]) * 40) for i in range(2_000)))
        hostile.feed_eof()
        honest.feed_data(wire.slip(wire.events_frame(KEY, DEV, [_ev(1)])))
        honest.feed_eof()
        commit = _GroupCommit(c)
        await asyncio.gather(_session(c, hostile, _Writer("hostile", log), commit),  # type: ignore[arg-type]
                             _session(c, honest, _Writer("honest", log), commit))  # type: ignore[arg-type]

    asyncio.run(run())
    assert log.index("honest wrote") < log.index("hostile closed"), log
    assert c.stats.rejected == 2_000 and [e["seq"] for e in c.events("tag-0001")] == [1]


def test_sessions_read_in_one_turn_share_a_transaction(centre_db: Path | str) -> None:
    """Tags speaking at once are stored in one transaction, each answered its own frames:
    a commit shared, not paid by each tag."""
    c = _centre(centre_db)
    c.register("tag-0002", KEY)
    groups: list[int] = []
    handle_groups = c.handle_groups
    c.handle_groups = lambda g: groups.append(len(g)) or handle_groups(g)  # type: ignore[method-assign]
    log: list[str] = []
    got: dict[str, list[int]] = {"tag-0001": [], "tag-0002": []}

    class Writer(_Writer):
        def write(self, data: bytes) -> None:
            got[self.name] += [struct.unpack_from("<I", wire.open_frame(KEY, f)[2])[0]
                               for f in wire.Unslip().feed(data)]

    async def run() -> None:
        commit = _GroupCommit(c)
        readers = {}
        for name in got:
            readers[name] = asyncio.StreamReader()
            readers[name].feed_data(wire.slip(wire.events_frame(KEY, wire.device_id(name), [_ev(1), _ev(2)])))
            readers[name].feed_eof()
        await asyncio.gather(*(_session(c, r, Writer(name, log), commit)  # type: ignore[arg-type]
                               for name, r in readers.items()))

    asyncio.run(run())
    assert groups == [2]
    assert got == {"tag-0001": [2], "tag-0002": [2]}
    assert [e["device"] for e in c.events()] == ["tag-0001"] * 2 + ["tag-0002"] * 2


def test_a_group_answers_each_device_with_its_own_order(centre_db: Path | str) -> None:
    """Devices' rows and orders are read for a whole group at once: only the device with
    an order newer than it runs is sent it, and a frame resent in part stores its new
    events, keeps the frame, and counts the rest as duplicates."""
    c = _centre(centre_db)
    c.register("tag-0002", KEY)
    c.order("tag-0002", 3, {"confirm_fixes": 4}, b"EZS\x00")
    c.order("tag-0002", 1, {"confirm_fixes": 3}, b"EZS\x00")
    one, two = wire.device_id("tag-0001"), wire.device_id("tag-0002")
    a, b = c.handle_groups([([wire.events_frame(KEY, one, [_ev(1), _ev(2)])], "a"),
                            ([wire.events_frame(KEY, two, [_ev(1)]), wire.events_frame(KEY, one, [_ev(2), _ev(3)])],
                             "b")])
    assert [wire.open_frame(KEY, r)[0] for r in a] == [wire.ACK]
    assert [wire.open_frame(KEY, r)[:2] for r in b] == [(wire.ACK, two), (wire.CONFIG, two), (wire.ACK, one)]
    assert struct.unpack_from("<I", wire.open_frame(KEY, b[1])[2])[0] == 3  # the newest order
    assert [e["seq"] for e in c.events("tag-0001")] == [1, 2, 3] and c.stats.duplicates == 1
    frames = c.db.execute("SELECT count(*) FROM frames").fetchone()[0]
    assert frames == 3
    c.handle(wire.events_frame(KEY, one, [_ev(3)]))  # all of it stored already: no frame kept
    assert c.db.execute("SELECT count(*) FROM frames").fetchone()[0] == frames


_SENT = st.lists(st.tuples(st.sampled_from(["tag-0001", "tag-0002"]), st.integers(1, 12), st.integers(1, 8),
                           st.booleans()), min_size=1, max_size=14)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@given(sent=_SENT, cuts=st.lists(st.integers(1, 13), max_size=4), together=st.booleans())
@settings(max_examples=40, deadline=None)
def test_any_frames_in_any_groups_store_each_event_once(request: pytest.FixtureRequest, kind: str,
                                                         sent: list[tuple[str, int, int, bool]],
                                                         cuts: list[int], together: bool) -> None:
    """Frames of overlapping sequences from two tags (some answered lost and sent again),
    cut into groups anyhow, the groups stored together (one commit) or each alone: each
    event stored once, by the first frame to carry it, its alert with it; a frame kept
    and counted exactly when it brought something new."""
    c = Centre(request.getfixturevalue("tmp_path_factory").mktemp("groups") / "centre.db" if kind == "sqlite" else
               str(request.getfixturevalue("postgres").database(f"t{uuid.uuid4().hex[:16]}")))
    try:
        for name in ("tag-0001", "tag-0002"):
            c.register(name, KEY)
        frames = [wire.events_frame(KEY, wire.device_id(name), [_ev(seq, 1 if alert else 10) for seq in
                                                                range(first, first + n)])
                  for name, first, n, alert in sent]
        bounds = sorted({0, len(frames), *[k for k in cuts if k < len(frames)]})
        groups = [(frames[a:b], "p") for a, b in zip(bounds, bounds[1:], strict=False)]
        answered = c.handle_groups(groups) if together else [c.handle_groups([g])[0] for g in groups]
        replies = [r for group in answered for r in group]
        first: dict[tuple[str, int], int] = {}  # the model: (device, seq) -> the frame that stored it
        for i, (name, start, n, _) in enumerate(sent):
            for seq in range(start, start + n):
                first.setdefault((name, seq), i)
        bringing = sorted(set(first.values()))
        assert [wire.open_frame(KEY, r)[0] for r in replies] == [wire.ACK] * len(frames)
        stored = {(e["device"], e["seq"]): e["frame_id"] for e in c.events()}
        assert set(stored) == set(first)
        kept = dict(c.db.execute("SELECT id, raw FROM frames").fetchall())
        assert {k: bytes(kept[v]) for k, v in stored.items()} == {k: frames[i] for k, i in first.items()}
        assert sorted(bytes(raw) for raw in kept.values()) == sorted(frames[i] for i in bringing)
        assert (c.stats.events, c.stats.duplicates) == (len(first), sum(n for *_, n, _ in sent) - len(first))
        assert len(c.rejects()) == len(frames) - len(bringing)  # each frame that brought nothing: a resend
        alerts = {(a["device"], a["seq"]) for a in c.alerts()}
        assert alerts == {k for k, i in first.items() if sent[i][3]}
    finally:  # a failing example closes its connection too: hypothesis tries many
        c.close()


def test_a_fleet_over_the_served_centre_is_stored_once(tmp_path: Path, centre_db: Path | str) -> None:
    """`tagsim centre serve` in its own process, tags each on a TCP connection of their own
    as the bench drives it: every frame acknowledged in order, every event stored once,
    also when every frame is sent a second time."""
    keys = {f"tag-{i:04d}": bytes([i + 1]) * 32 for i in range(6)}
    streams = {d: load.backlog(d, k, 5) for d, k in keys.items()}
    with load.served(centre_db, keys, tmp_path) as centre:
        load.drive(centre.port, streams, keys, window=1)
        load.drive(centre.port, streams, keys, window=3)  # all of it again, three frames in flight
    c = Centre(centre_db)
    for device in keys:
        assert [e["seq"] for e in c.events(device)] == list(range(1, 5 * load.LINK_BATCH + 1))
    assert len(c.rejects()) == len(keys) * 5  # each resent frame: nothing new
    c.close()


def _wrong_ack(conn: socket.socket) -> None:  # answers every frame, always acknowledging sequence 1
    unslip = wire.Unslip()
    while data := conn.recv(65536):
        conn.sendall(b"".join(wire.slip(wire.ack_frame(KEY, DEV, 1)) for _ in unslip.feed(data)))


def _hang_up(conn: socket.socket) -> None:  # reads the first frame, then closes
    conn.recv(65536)


@pytest.mark.parametrize(("centre", "said"), [(_wrong_ack, "a frame up to 8 acknowledged as up to 1"),
                                              (_hang_up, "the centre hung up on tag-0001 with 1 frames unanswered")])
def test_the_load_driver_refuses_a_centre_that_answers_wrong(centre: Any, said: str) -> None:
    """The bench's driver checks every answer: a centre acknowledging the wrong sequence
    number, or hanging up, fails the run, however fast it was."""
    keys = {"tag-0001": KEY}
    streams = {"tag-0001": load.backlog("tag-0001", KEY, 3)}
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                centre(conn)

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            load.drive(listener.getsockname()[1], streams, keys)
        except RuntimeError as e:
            assert said in str(e)
        else:
            raise AssertionError("a wrong answer passed")
        t.join(10)


def test_an_event_stamped_by_an_unset_clock_is_stamped_on_receipt(centre_db: Path | str) -> None:
    now = [1_796_083_200_000]
    c = Centre(centre_db, clock=lambda: now[0])
    c.register("tag-0001", KEY)
    unset = wire.Event(1, 0, 20, 0, 0, 0, 0, 0, 255, b"\0" * 8)  # time 0: the tag did not know
    c.handle(wire.events_frame(KEY, DEV, [unset, _ev(2)]))
    first, second = c.events("tag-0001")
    assert first["utc"] == now[0] // 1000 and first["stamped_at_centre"] == 1
    assert second["utc"] == _ev(2).utc and second["stamped_at_centre"] == 0
    assert [a["utc"] for a in c.alerts("tag-0001")] == [now[0] // 1000]  # the strap tamper, never in 1970


def test_schema_is_created_and_migrated_once(tmp_path: Path) -> None:
    _centre(tmp_path / "centre.db")
    again = Centre(tmp_path / "centre.db")
    assert again.db.execute("PRAGMA user_version").fetchone()[0] == len(SCHEMA) == 9
    tables = {r[0] for r in sqlite3.connect(tmp_path / "centre.db").execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"devices", "events", "alerts", "configs", "rejects", "silences", "frames", "crimes", "audit",
            "trail", "trail_crumbs", "gaps"} <= tables


def test_postgresql_gets_the_latest_schema_once_with_postgis(postgres: Any) -> None:
    url = postgres.database("schema")
    _centre(url).close()
    again = Centre(url)
    assert again.db.execute("SELECT version FROM schema_version").fetchall() == [(len(SCHEMA),)]
    tables = {r[0] for r in again.db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"devices", "events", "alerts", "configs", "rejects", "silences", "frames", "crimes", "audit",
            "trail_crumbs", "gaps"} <= tables
    gist = again.db.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'trail_crumbs_where'").fetchone()[0]
    assert "USING gist (box)" in gist
    assert again.db.execute("SELECT postgis_lib_version()").fetchone()[0]


def test_a_version_1_database_keeps_its_rows_and_gains_the_silence_watch(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "centre.db", isolation_level=None)
    old.executescript(f"BEGIN; {SCHEMA[0]}; PRAGMA user_version = 1; COMMIT;")
    old.execute("INSERT INTO devices (device, key) VALUES (?, ?)", ("tag-0001", KEY))
    old.close()
    now = [1_796_083_200_000]
    c = Centre(tmp_path / "centre.db", clock=lambda: now[0])
    c.handle(wire.events_frame(KEY, DEV, [_ev(1)]))  # the device registered under version 1
    assert [e["seq"] for e in c.events("tag-0001")] == [1]
    now[0] += 1801_000
    assert [q["device"] for q in c.check_silence(1800)] == ["tag-0001"]


def test_orders_follow_the_ack_until_applied(centre_db: Path | str) -> None:
    c = _centre(centre_db)
    c.order("tag-0001", 2, {"confirm_fixes": 4}, b"EZS\x00")
    replies = c.handle(wire.events_frame(KEY, DEV, [_ev(1)]))
    assert [wire.open_frame(KEY, r)[0] for r in replies] == [wire.ACK, wire.CONFIG]
    applied = wire.Event(2, 1_796_083_300, 13, 0, 0, 0, 0, 2, 255, bytes(8))
    replies = c.handle(wire.events_frame(KEY, DEV, [applied]))
    assert [wire.open_frame(KEY, r)[0] for r in replies] == [wire.ACK]


def test_centre_command_serves_and_lists(tmp_path: Path, centre_db: Path | str) -> None:
    import subprocess
    import sys

    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"tag-0001": KEY.hex()}))
    db = centre_db
    proc = subprocess.Popen([sys.executable, "-m", "host_sim.tagsim", "centre", "serve", "--db", str(db),
                             "--port", "0", "--keys", str(keys)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        port = int(line.split("127.0.0.1:")[1].split(",")[0])
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(wire.slip(wire.events_frame(KEY, DEV, [_ev(1), _ev(2, kind=1)])))
            (reply,) = _recv_frames(s, 1)
            s.sendall(wire.slip(b"not a frame at all"))
        assert wire.open_frame(KEY, reply)[0] == wire.ACK
        said = [proc.stdout.readline() for _ in range(3)]  # the operator sees each frame and alert as it comes
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0  # SIGTERM stops the centre between frames, cleanly
    assert "ALERT tag-0001 breach at 2026-12-01 00:00:02Z (seq 2)" in said[0]
    assert "tag-0001: 2 events, 2 new, up to seq 2" in said[1] and "refused a frame from" in said[2]

    def centre(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "host_sim.tagsim", "centre", *args, "--db", str(db)],
                              capture_output=True, text=True)

    out = centre("alerts", "--device", "tag-0001").stdout
    assert "breach" in out and "tag-0001" in out and "2026-12-01 00:00:02 GMT" in out  # London time, in winter
    rows = json.loads(centre("events", "--json").stdout)
    assert [r["seq"] for r in rows] == [1, 2]
    assert rows[1]["kind"] == "breach" and rows[1]["kind_code"] == 1 and rows[1]["time"] == "2026-12-01T00:00:02Z"
    assert (rows[1]["lat"], rows[1]["lon"]) == (52.4862, -1.8904)  # degrees, not e7
    assert [r["seq"] for r in json.loads(centre("events", "--json", "--kind", "breach").stdout)] == [2]
    assert json.loads(centre("events", "--json", "--since", "2026-12-02").stdout) == []
    assert centre("events", "--kind", "nosuch").returncode == 2
    (refused,) = json.loads(centre("rejects", "--json").stdout)  # the garbage, and why it was refused
    assert refused["device"] is None and refused["reason"] and refused["at"].endswith("Z")
    assert refused["reason"] in centre("rejects").stdout


def test_a_silent_device_raises_one_comms_loss_alert_until_heard_again(centre_db: Path | str) -> None:
    now = [1_796_083_200_000]
    c = Centre(centre_db, clock=lambda: now[0])
    c.register("tag-0001", KEY)
    c.register("tag-0002", KEY)  # never heard: nothing to miss yet
    c.handle(wire.events_frame(KEY, DEV, [_ev(1)]))
    heard = now[0]
    now[0] += 1799_000
    assert c.check_silence(1800) == []
    now[0] += 2_000
    assert c.check_silence(1800) == [{"device": "tag-0001", "last_heard_ms": heard, "raised_ms": now[0],
                                      "ended_ms": None}]
    now[0] += 600_000
    assert c.check_silence(1800) == []  # one alert a silence, however long it lasts
    c.handle(wire.events_frame(KEY, DEV, [], sent=now[0] // 1000))  # heard again, even with nothing to say
    back = now[0]
    assert c.silences() == [{"device": "tag-0001", "last_heard_ms": heard, "raised_ms": heard + 1801_000,
                             "ended_ms": back}]
    now[0] += 1801_000
    assert [q["last_heard_ms"] for q in c.check_silence(1800)] == [back]  # silent again: a second alert
    assert len(c.silences("tag-0001")) == 2 and c.silences("tag-0002") == []


def test_forged_and_replayed_frames_are_no_sign_of_life(centre_db: Path | str) -> None:
    now = [1_796_083_200_000]
    c = Centre(centre_db, clock=lambda: now[0])
    c.register("tag-0001", KEY)
    first = wire.events_frame(KEY, DEV, [_ev(1)], sent=now[0] // 1000)
    poll = wire.events_frame(KEY, DEV, [], sent=now[0] // 1000 + 60)
    c.handle(first)
    c.handle(poll)  # later than the first: alive
    heard = now[0]
    now[0] += 1000_000
    c.handle(wire.events_frame(b"k" * 32, DEV, [_ev(2)], sent=now[0] // 1000))  # someone else's key: rejected
    c.handle(poll)  # recorded and played again: authentic, but nothing new and not sent later
    c.handle(first)
    now[0] += 801_000
    assert c.check_silence(1800) == [{"device": "tag-0001", "last_heard_ms": heard, "raised_ms": now[0],
                                      "ended_ms": None}]


def test_a_postgresql_server_not_there_is_one_line_without_the_password(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"postgresql://emtag:secret@/centre?host={tmp_path}"  # no server listens in an empty folder
    out = subprocess.run([sys.executable, "-m", "host_sim.tagsim", "centre", "events", "--db", url],
                         capture_output=True, text=True)
    assert out.returncode == 3 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "cannot use this PostgreSQL database" in out.stderr and "secret" not in out.stderr
