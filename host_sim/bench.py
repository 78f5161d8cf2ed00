"""make bench: measure, print side-by-side ratios, write build/bench.json.

Every figure is measured in this run; nothing is carried over from an earlier one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from host_sim import wire
from host_sim.device import mp, zone_compiler
from host_sim.judge import report
from host_sim.paths import CAPTURES, ROOT
from host_sim.world import captures, zones

HEAP = "256K"  # ESP32-like: MicroPython starts the ESP32 heap small and grows it
ROUNDS = 5


STREAM_BYTES = 40_000  # what fits, with its chunk and line lists, in the 256K heap


def nmea_stream(out: Path) -> Path:
    """A mixed stream from every real capture: each contributes its sentences in
    order, in proportion to its size, CRLF-terminated, about STREAM_BYTES in all."""
    per_log = [[ln.rstrip(b"\r\n") + b"\r\n" for ln in captures.raw_lines(log) if ln.startswith(b"$")]
               for log in sorted(CAPTURES.glob("*.log"))]
    total = sum(len(b"".join(lines)) for lines in per_log)
    keep = STREAM_BYTES / total
    stream = b"".join(b"".join(lines[: max(1, round(len(lines) * keep))]) for lines in per_log)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(stream)
    return out


def bench_nmea(build: Path) -> dict[str, dict[str, Any]]:
    stream = nmea_stream(build / "nmea_stream.txt")
    proc = mp.run(ROOT / "bench" / "nmea_bench.py", str(stream), "40", heap=HEAP)
    if proc.returncode != 0:
        raise RuntimeError(f"nmea bench failed:\n{proc.stdout}{proc.stderr}")
    r: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    r["heap"] = HEAP
    r["speed_vs_naive"] = round(r["sentences_per_s"] / r["naive_sentences_per_s"], 2)
    print(f"nmea ({r['sentences']:,} sentences from {len(list(CAPTURES.glob('*.log')))} real captures, "
          f"micropython -X heapsize={HEAP}):")
    print(f"  tag parser   {r['sentences_per_s']:>9,} sentences/s  "
          f"{r['alloc_bytes_per_sentence']:>7.1f} bytes allocated/sentence")
    print(f"  naive split  {r['naive_sentences_per_s']:>9,} sentences/s  "
          f"{r['naive_alloc_bytes_per_sentence']:>7.1f} bytes allocated/sentence")
    print(f"  ratio        {r['speed_vs_naive']:>9}x faster")
    return {"nmea": r}


def _bench_polygon() -> zone_compiler.CompiledZone:
    """A concave 64-vertex exclusion zone about 1 km across, in Birmingham."""
    rnd = random.Random(64)
    lat0, lon0 = 52.4862, -1.8904
    ring = []
    for k in range(64):
        a, r = 2 * math.pi * k / 64, rnd.uniform(250, 500)
        ring.append((lon0 + r * math.sin(a) / 67_800, lat0 + r * math.cos(a) / 111_250))
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
               "properties": {"warning_m": 100}}
    return zone_compiler.compile_zone(zones.from_feature(feature), b"bench---")


def bench_geofence(build: Path) -> dict[str, dict[str, Any]]:
    cz = _bench_polygon()
    assert len(cz.edges) == 64
    words = cz.kernel_words()
    rnd = random.Random(7)
    _, x0, y0, x1, y1, reach = words[:6]
    pts = []  # within the zone's reach of its bounding box: every one walks all 64 edges
    for _ in range(2000):
        pts += [rnd.randint(x0 - reach, x1 + reach), rnd.randint(y0 - reach, y1 + reach)]
    build.mkdir(parents=True, exist_ok=True)
    zone_file, pts_file = build / "geofence_zone.bin", build / "geofence_points.bin"
    zone_file.write_bytes(struct.pack(f"<{len(words)}I", *words))
    pts_file.write_bytes(struct.pack(f"<{len(pts)}i", *pts))
    exe = build / "geofence_c"
    # -m32: a 32-bit build, as the device's words are (gcc-multilib, which the interpreters need)
    subprocess.run(["gcc", "-m32", "-O2", "-o", str(exe), str(ROOT / "bench" / "geofence.c")], check=True)
    # Alternating rounds, best of each: on a shared machine noise only ever slows a run down.
    best: dict[str, Any] = {}
    c_rate = 0
    for _ in range(ROUNDS):
        proc = mp.run(ROOT / "bench" / "geofence_bench.py", str(zone_file), str(pts_file), "10", heap=HEAP)
        if proc.returncode != 0:
            raise RuntimeError(f"geofence bench failed:\n{proc.stdout}{proc.stderr}")
        r: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
        for key in ("viper_checks_per_s", "bytecode_checks_per_s"):
            best[key] = max(best.get(key, 0), r[key])
        c_out = subprocess.run([str(exe), str(zone_file), str(pts_file), "100"], capture_output=True,
                               text=True, check=True).stdout.split()
        c_rate, c_sum = max(c_rate, int(c_out[0])), int(c_out[1])
        if not r["viper_checksum"] == r["bytecode_checksum"] == c_sum:
            raise RuntimeError(f"kernels disagree: viper {r['viper_checksum']}, bytecode "
                               f"{r['bytecode_checksum']}, C {c_sum}")
    r.update(best)
    out = {
        "vertices": 64,
        "points": r["points"],
        "viper_checks_per_s": r["viper_checks_per_s"],
        "bytecode_checks_per_s": r["bytecode_checks_per_s"],
        "c_checks_per_s": c_rate,
        "viper_vs_bytecode": round(r["viper_checks_per_s"] / r["bytecode_checks_per_s"], 1),
        "viper_vs_c": round(r["viper_checks_per_s"] / c_rate, 3),
    }
    print(f"geofence (64-vertex concave polygon, {r['points']} points around it, past the prefilter, "
          f"one call per point, best of {ROUNDS} alternating rounds; the three agree on every depth):")
    print(f"  viper kernel    {out['viper_checks_per_s']:>11,} checks/s")
    print(f"  bytecode twin   {out['bytecode_checks_per_s']:>11,} checks/s   "
          f"viper is {out['viper_vs_bytecode']}x")
    print(f"  C, gcc -m32 -O2 {out['c_checks_per_s']:>11,} checks/s   viper is {out['viper_vs_c']} of C")
    return {"geofence": out}


REPLAY_TARGET = 10_000  # x real time for the 24 h day (the device-truth issue)
HEAP_TARGET = 40_960  # bytes live for the 24 h day, at 32-bit object sizes
_WORD_BITS = ROOT / "bench" / "word_bits.py"


def bench_replay(build: Path) -> dict[str, dict[str, Any]]:
    """The 24 h day-in-the-life scenario end to end: trace, receiver model and NMEA,
    the firmware in lockstep, its heap capped at a tag's budget, the centre, the
    oracle and the score."""
    from host_sim.judge import verdict
    from host_sim.run import sim
    from host_sim.run.heap import BUDGET
    from host_sim.world import scenario

    sc = scenario.load(ROOT / "scenarios" / "day-in-the-life-24h.yaml")
    t0 = time.perf_counter()
    run = sim.execute(sc, keep_nmea=False, heap=BUDGET)
    result = verdict.score(run)
    wall = time.perf_counter() - t0
    if not result.passed:
        raise RuntimeError(f"day-in-the-life-24h failed: {result.missed} {result.false}")
    x_realtime = round(sc.duration_s / wall)
    out = {"x_realtime_24h": x_realtime, "wall_s": round(wall, 1),
           "fixes": result.fixes, "heap_cap": BUDGET, "cpu_split_s": run.cpu}
    bits = mp.run(_WORD_BITS).stdout.strip()
    firmware = {"word_bits": int(bits), "heap_peak_bytes": result.heap_peak_bytes, "heap_cap": BUDGET,
                "heap_target_bytes": HEAP_TARGET}
    print(f"replay (day-in-the-life-24h: {sc.duration_s:,} s of virtual time, {result.fixes:,} fixes):")
    print(f"  {wall:.1f} s wall, {x_realtime:,} x real time ({x_realtime / REPLAY_TARGET:.2f}x the target of "
          f"{REPLAY_TARGET:,})")
    print("  CPU s: " + ", ".join(f"{k} {v:.1f}" for k, v in run.cpu.items()))
    print(f"  firmware ({bits}-bit words) live heap peak {result.heap_peak_bytes:,} bytes in a {BUDGET} heap "
          f"(micropython -X heapsize); target {HEAP_TARGET:,}")
    return {"replay": out, "firmware": firmware}


def _ingest(db: Path | str, streams: dict[str, list[bytes]], keys: dict[str, bytes], window: int,
            work: Path) -> tuple[float, float]:
    """(frames per second, CPU microseconds a frame) of `tagsim centre serve` on db, on
    one core of its own: each tag's frames sent over its own connection, window of them
    awaiting acknowledgement at a time; every event then required stored."""
    from host_sim.centre import load
    from host_sim.centre.server import Centre

    n = sum(len(frames) for frames in streams.values())
    cores = os.cpu_count() or 1
    with load.served(db, keys, work, core=cores - 1 if cores > 1 else None) as centre:
        cpu0 = centre.cpu_s()
        wall = load.drive(centre.port, streams, keys, window)
        cpu = centre.cpu_s() - cpu0
    stored = Centre(db)
    got = stored.db.execute("SELECT count(*) FROM events").fetchone()[0]
    stored.close()
    if got != load.LINK_BATCH * n:
        raise RuntimeError(f"centre on {db} stored {got} of {load.LINK_BATCH * n} events")
    return n / wall, 1e6 * cpu / n


def _bare_inserts(db: Path, n: int) -> float:
    """Frames per second SQLite alone takes the centre's event rows at (full frames of the
    link's 8, 50 frames a transaction, the centre's schema and insert): the ceiling it
    works under."""
    from host_sim.centre.load import LINK_BATCH as k
    from host_sim.centre.server import Centre, insert_events

    centre = Centre(db)
    rows = [[("bench-01", i + 1, 1_796_083_200 + i, 10, 524862000, -18904000, 8, 0, 255, "00" * 8, 0, 0, 1)
             for i in range(f * k, f * k + k)] for f in range(n)]
    t0 = time.perf_counter()
    for f in range(0, n, 50):
        with centre.db.transaction():
            for frame in rows[f:f + 50]:
                insert_events(centre.db, frame)
    wall = time.perf_counter() - t0
    centre.close()
    return n / wall


CENTRE_TAGS = 500  # the pilot's tags, for the fleet's load


def bench_centre(build: Path, n: int = 10_000, tags: int = CENTRE_TAGS) -> dict[str, dict[str, Any]]:
    """Authenticated frames verified, stored and acknowledged per second by the shipped
    server (`tagsim centre serve`, its process on one core), over TCP on loopback, frames
    full as the firmware's link fills them (8 events): n from one connection with 50 in
    flight (the figure), and n from as many tags as given (the pilot's 500), each on its
    own connection with one frame in flight as the link sends; on SQLite on disk and on
    a PostgreSQL server of its own (durable: fsync on), in one run."""
    import tempfile

    from host_sim.centre import load
    from host_sim.centre.pg_server import TempServer

    one = {"bench-01": bytes(range(32))}
    fleet = {f"tag-{i:04d}": bytes([i % 251 + 1]) * 32 for i in range(tags)}
    streams = {d: load.backlog(d, k, n) for d, k in one.items()}
    fleet_streams = {d: load.backlog(d, k, n // tags) for d, k in fleet.items()}
    out: dict[str, Any] = {"frames": n, "events_per_frame": load.LINK_BATCH, "fleet_tags": tags}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        lite, lite_cpu = _ingest(work / "bench.db", streams, one, 50, work)
        many, many_cpu = _ingest(work / "fleet.db", fleet_streams, fleet, 1, work)
        ceiling = _bare_inserts(work / "bare.db", n)
        with TempServer(durable=True) as pg:
            post, post_cpu = _ingest(pg.database("bench"), streams, one, 50, work)
            post_many, _ = _ingest(pg.database("fleet"), fleet_streams, fleet, 1, work)
    out |= {"frames_per_s": round(lite), "events_per_s": round(load.LINK_BATCH * lite),
            "cpu_us_per_frame": round(lite_cpu), "frames_per_s_fleet": round(many),
            "cpu_us_per_frame_fleet": round(many_cpu), "sqlite_bare_inserts_frames_per_s": round(ceiling),
            "frames_per_s_postgresql": round(post), "frames_per_s_postgresql_fleet": round(post_many)}
    print(f"centre (tagsim centre serve on one core; {n:,} frames of {load.LINK_BATCH} events over TCP):")
    print(f"  SQLite, one connection, 50 in flight: {out['frames_per_s']:,} frames/s verified, stored and "
          f"acknowledged ({out['events_per_s']:,} events/s); target 10,000")
    print(f"    {lite_cpu:.0f} us CPU a frame: the server busy {lite * lite_cpu / 1e6:.0%} of the time, waiting the "
          f"rest on each commit's sync to disk and on the next 50 frames")
    print(f"  SQLite, {tags} tags, one frame in flight each: {out['frames_per_s_fleet']:,} frames/s "
          f"({many_cpu:.0f} us CPU a frame)")
    print(f"  SQLite alone, the same rows inserted bare, 50 frames a transaction: {round(ceiling):,} frames/s "
          f"({lite / ceiling:.2f} of it)")
    print(f"  PostgreSQL (PostGIS, fsync on): {out['frames_per_s_postgresql']:,} frames/s one connection "
          f"({post_cpu:.0f} us CPU a frame in the server), {out['frames_per_s_postgresql_fleet']:,} from "
          f"{tags} tags")
    return {"centre": out}


TRAIL_TAGS, TRAIL_DAYS, TRAIL_CRIMES = 500, 28, 10_000


def _crumb(rows: list[tuple[Any, ...]], name: str, t: int, at: tuple[float, float], rnd: random.Random) -> None:
    rows.append((name, len(rows) + 1, t, round(at[0] * 1e7), round(at[1] * 1e7), rnd.randint(4, 25)))


def _trails(db: Path, rnd: random.Random, tags: int, days: int) -> int:
    """500 wearers' 28 days in and around Birmingham, straight into a centre's events (the
    frames are not needed to match), spaced as the firmware in trail mode spaces them (a
    trail cohort's tags: 51-54 s apart while out, 315-337 s at home): each day one to
    three outings of one to four hours, walking or riding a bus to somewhere within 6 km
    and back. The breadcrumbs written."""
    from host_sim.centre.server import Centre

    centre = Centre(db)
    start, n = 1_796_083_200, 0
    with centre.db.transaction():
        for tag in range(tags):
            name = f"trl-{tag:04d}"
            centre.register(name, bytes(32))
            home = (52.48 + rnd.uniform(-0.1, 0.1), -1.89 + rnd.uniform(-0.15, 0.15))
            rows: list[tuple[Any, ...]] = []
            t, end = start, start + days * 86400
            while t < end:
                day_end = t - (t - start) % 86400 + 86400
                leave = t + rnd.randint(7, 10) * 3600 if (t - start) % 86400 == 0 else t + rnd.randint(1800, 3 * 3600)
                if rnd.random() < 0.2 or leave + 3600 > day_end:  # at home until tomorrow
                    leave = day_end
                while t < leave:
                    _crumb(rows, name, t, home, rnd)
                    t += rnd.randint(315, 337)
                if t >= end or leave == day_end:
                    continue
                out_s, speed = rnd.randint(3600, 4 * 3600), rnd.choice([1.4, 1.4, 8.0])
                bearing, reach = rnd.uniform(0, 2 * math.pi), min(6000.0, speed * out_s / 2)
                for k in range(0, out_s, 52):
                    d = reach * (1 - abs(1 - 2 * k / out_s))  # there and back
                    _crumb(rows, name, t + k, (home[0] + d * math.cos(bearing) / 111_250,
                                               home[1] + d * math.sin(bearing) / 68_000), rnd)
                t += out_s
            centre.db.executemany("INSERT INTO events (device, seq, utc, kind, lat_e7, lon_e7, accuracy_m, "
                                  "received_ms) VALUES (?, ?, ?, 10, ?, ?, ?, 0)", rows)
            n += len(rows)
    centre.close()
    return n


def bench_trail(build: Path, tags: int = TRAIL_TAGS, days: int = TRAIL_DAYS,
                n: int = TRAIL_CRIMES) -> dict[str, dict[str, Any]]:
    """10,000 crimes imported against 500 tags' 28-day trails on SQLite, one core: the
    indexes brought up to date first (timed apart, as the centre does off the path that
    acknowledges frames), then every crime matched, timed (trail.match_s), with the
    batches' progress shown; then again with every batch's tags found through the
    R*Tree (match_rtree_s), which must give the same hits."""
    import tempfile

    from host_sim.centre import crimes
    from host_sim.centre.server import Centre

    rnd = random.Random(2026)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "trail.db"
        t0 = time.perf_counter()
        crumbs = _trails(db, rnd, tags, days)
        load_s = time.perf_counter() - t0
        centre = Centre(db, clock=lambda: 1_798_500_000_000)
        t0 = time.perf_counter()
        crimes.index(centre)
        index_s = time.perf_counter() - t0
        wanted = []
        for k in range(n):
            start = 1_796_083_200 + rnd.randint(0, days * 86400 - 7200)
            wanted.append(crimes.Crime(f"B{k:05d}", "burglary", 52.48 + rnd.uniform(-0.15, 0.15),
                                       -1.89 + rnd.uniform(-0.2, 0.2), start, start + rnd.choice([1800, 3600, 7200]),
                                       100.0))
        crimes.store(centre, wanted)
        t0 = time.perf_counter()  # the compiled loops built, or loaded from their cache, as a centre's once are
        crimes.match(centre, [wanted[0].ref], "bench", scan_per_tag=math.inf)
        compile_s = time.perf_counter() - t0
        t0, cpu0 = time.perf_counter(), time.process_time()
        hits = crimes.match(centre, None, "bench", progress=lambda done, of: report.progress(done, of, "matched"))
        match_s, match_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        t0 = time.perf_counter()  # the same crimes, each batch's tags found through the spatial index
        by_index = crimes.match(centre, None, "bench", scan_per_tag=0.0)
        rtree_s = time.perf_counter() - t0
        centre.close()
    if [h.as_dict() for h in by_index] != [h.as_dict() for h in hits]:
        raise RuntimeError("the R*Tree and the hours read in time order chose differently")
    by = {s: sum(1 for h in hits if h.strength == s) for s in crimes.RANK}
    out = {"match_s": round(match_s, 2), "match_cpu_s": round(match_cpu, 2), "match_rtree_s": round(rtree_s, 2),
           "compile_s": round(compile_s, 1),
           "crimes": n, "tags": tags, "days": days, "breadcrumbs": crumbs, "index_s": round(index_s, 1),
           "load_s": round(load_s, 1), "hits": by}
    print(f"trail ({n:,} crimes against {tags} tags' {days}-day trails, {crumbs:,} breadcrumbs, SQLite, one core):")
    print(f"  all matched in {out['match_s']} s ({out['match_cpu_s']} s CPU; target <= 10 s), after the compiled "
          f"loops' {out['compile_s']} s; indexes brought up to date first in {out['index_s']} s; hits {by}")
    print(f"  the same through the R*Tree, a query a crime: {out['match_rtree_s']} s, the same hits")
    return {"trail": out}


FAIR_BASELINE = {"adaptive": False}  # GNSS at 1 Hz all day; breadcrumbs and reports every 60 s, as deployed


def bench_energy(build: Path) -> dict[str, dict[str, Any]]:
    """The 24 h day in the life over the cellular modem, with adaptive sampling and
    with the fair baseline (GNSS at 1 Hz all day, a report every 60 s, the MCU awake
    whenever the receiver is on), from the board's own account of its power states
    (host_sim/run/energy.py's currents)."""
    from host_sim.judge import verdict
    from host_sim.run import sim
    from host_sim.world import scenario

    sc = scenario.load(ROOT / "scenarios" / "day-in-the-life-24h.yaml")
    trail_mode = json.loads((ROOT / "devices" / "example-trail-tag.json").read_text())
    adaptive = sim.execute(sc, keep_nmea=False)
    fair = sim.execute(sc, keep_nmea=False, config=FAIR_BASELINE)
    trail = sim.execute(sc, keep_nmea=False, config={k: trail_mode[k] for k in ("breadcrumb_s", "max_fix_interval_s")})
    for run in (adaptive, fair, trail):
        if not verdict.score(run).passed:
            raise RuntimeError("day-in-the-life-24h failed")
    assert adaptive.energy is not None and fair.energy is not None and trail.energy is not None
    a, f, t = adaptive.energy, fair.energy, trail.energy
    out = {"battery_life_h": round(a.battery_life_h, 1), **a.as_dict(),
           "fair_baseline": f.as_dict(), "adaptive_vs_fair_baseline": round(a.battery_life_h / f.battery_life_h, 2),
           "trail_mode": t.as_dict(), "trail_mode_battery_life_h": round(t.battery_life_h, 1)}
    print(f"energy (day-in-the-life-24h over cellular, {sim.ENERGY_NOTE}):")
    for name, e in (("adaptive sampling", a), ("fair baseline", f), ("trail mode", t)):
        light = e.mcu_s.get("light_sleep", 0.0) / e.duration_s
        print(f"  {name:18} {e.mah:7.1f} mAh/day  battery {e.battery_life_h:6.1f} h  (GNSS on "
              f"{e.gnss_on_s / 3600:.1f} h, MCU asleep {light:.0%}, {e.modem_sends} sends; most on "
              f"{', '.join(k for k, _ in e.costliest())})")
    print(f"  ratio              {out['adaptive_vs_fair_baseline']}x the battery life (target >= 2x; the day >= 72 h)")
    out["home_unit"] = unit_scan(ROOT / "scenarios" / "curfew-unit-backup-low.yaml")
    return {"energy": out}


def unit_scan(path: Path) -> dict[str, Any]:
    """The home unit's radio on mains and on its backup battery in one curfew scenario
    (docs/curfew.md, Presence), its current from the ESP32-C3 unit's scan window and
    interval."""
    from host_sim.device import boards
    from host_sim.judge import verdict
    from host_sim.run import sim
    from host_sim.run.energy import BLE_RX_MA
    from host_sim.world import scenario

    sc = scenario.load(path)
    run = sim.execute(sc, keep_nmea=False)
    if not verdict.score(run).passed:
        raise RuntimeError(f"{sc.name} failed")
    r = run.radio
    ble = boards.load("esp32c3_devkitm_1")["ble"]
    scan_ma = BLE_RX_MA * ble["scan_window_us"] / ble["scan_interval_us"]
    backup = r["scanning_s_on_backup"] / r["backup_s"]
    mains = r["scanning_s_on_mains"] / max(1, sc.duration_s - r["backup_s"])
    out = {"scenario": sc.name, "backup_s": r["backup_s"], "scan_share_on_backup": round(backup, 3),
           "scan_share_on_mains": round(mains, 3), "scan_ma_on_backup": round(scan_ma * backup, 1)}
    print(f"  home unit ({sc.name}): its radio scans {backup:.1%} of its {r['backup_s'] / 3600:.1f} h on the backup "
          f"battery ({out['scan_ma_on_backup']} mA on average; scanning draws {scan_ma:.0f}), {mains:.1%} on mains")
    return out


def bench_alcohol(build: Path, week: str = "alcohol-abstinent-week-hand-gel",
                  heap_of: str = "alcohol-*.yaml") -> dict[str, dict[str, Any]]:
    """The alcohol tag: the abstinent week with hand gel over the cellular modem (a
    reading every 30 min, every 10 min about each spike), its battery life from the
    board's own account of its power states; and the role's live heap peak in every
    alcohol scenario under the simulator's 64K cap (the week's over cellular)."""
    import dataclasses

    from host_sim.judge import verdict
    from host_sim.run import sim
    from host_sim.run.heap import HEAP
    from host_sim.world import scenario

    sc = scenario.load(ROOT / "scenarios" / f"{week}.yaml")
    sc = dataclasses.replace(sc, link=scenario.LinkSpec(transport="cellular", dialect="sim7000"))
    run = sim.execute(sc, keep_nmea=False, heap=HEAP)
    result = verdict.score(run)
    if not result.passed:
        raise RuntimeError(f"{sc.name} over cellular failed")
    assert run.energy is not None
    e = run.energy
    heaps = {week: result.heap_peak_bytes}  # the week's own, over cellular, as it runs in the field
    for path in sorted(p for p in (ROOT / "scenarios").glob(heap_of) if p.stem != week):
        result = verdict.score(sim.execute(scenario.load(path), keep_nmea=False, heap=HEAP))
        if not result.passed:
            raise RuntimeError(f"{path.stem} failed")
        heaps[path.stem] = result.heap_peak_bytes
    out = {"battery_life_h": round(e.battery_life_h, 1), "scenario": sc.name, "transport": "cellular sim7000",
           "mah_per_day": round(e.mah * 86400 / e.duration_s, 1), "modem_sends": e.modem_sends,
           "readings": sum(r["kind"] == wire.Kind.ALCOHOL_READING for r in run.stored),
           "heap_peak_bytes": max(heaps.values()), "heap_peak_by_scenario": heaps, "heap_cap": HEAP}
    print(f"alcohol ({sc.name} over cellular, {sc.duration_s / 86400:g} days, {sim.ENERGY_NOTE}):")
    print(f"  {out['mah_per_day']} mAh/day, battery {e.battery_life_h:.1f} h ({out['readings']} readings, "
          f"{e.modem_sends} sends; most on {', '.join(k for k, _ in e.costliest())})")
    print(f"  firmware live heap peak across {len(heaps)} alcohol scenarios: {out['heap_peak_bytes']:,} bytes in a "
          f"{HEAP} heap")
    return {"alcohol": out}


FLEET_TAGS = 50
FLEET_TARGET = 10.0  # tag-days per CPU minute (the device-truth issue: a 50-tag, 24 h cohort)


def bench_fleet(build: Path, tags: int = FLEET_TAGS) -> dict[str, dict[str, Any]]:
    """A generated cohort of 24 h tags through the fleet runner on this machine's
    worker processes: tag-days per CPU minute, all processes counted (the runner,
    its workers, every firmware process they start)."""
    import shutil

    from host_sim import fleet
    from host_sim.judge import fleet_report
    from host_sim.run.heap import HEAP
    from host_sim.world import cohort

    folder = build / f"fleet{tags}"
    shutil.rmtree(folder, ignore_errors=True)
    manifest = cohort.generate(folder, tags, seed=2026)

    cpu0, t0 = fleet.cpu_s(), time.perf_counter()
    results = fleet.run(folder, folder / "results", jobs=2)
    cpu_s, wall = fleet.cpu_s() - cpu0, time.perf_counter() - t0
    s = fleet_report.summarise(manifest, results)
    out = {"tags": tags, "tag_days": s["tag_days"], "cpu_s": round(cpu_s, 1), "wall_s": round(wall, 1),
           "tag_days_per_cpu_minute": round(s["tag_days"] / (cpu_s / 60), 2),
           "tag_days_per_wall_minute": round(s["tag_days"] / (wall / 60), 2),
           "passed": s["passed"], "planted": s["planted"], "planted_detected": s["planted_detected"],
           "false_alerts": s["false_alerts"], "cpu_split_s": s["cpu_split_s"],
           "heap_peak_bytes_max": max(r.get("heap_peak_bytes", 0) for r in results.values()),
           "heap_cap": HEAP, "battery_life_h": s["battery_life_h"], "worst_battery": s["worst_battery"]}
    print(f"fleet ({tags} generated wearers, 24 h each, 2 worker processes):")
    print(f"  {out['tag_days']} tag-days in {cpu_s:.0f} CPU s ({wall:.0f} s wall): "
          f"{out['tag_days_per_cpu_minute']} tag-days per CPU minute, "
          f"{out['tag_days_per_cpu_minute'] / FLEET_TARGET:.2f}x the target of {FLEET_TARGET:g}")
    print(f"  {s['passed']} of {tags} passed; planted breaches detected {s['planted_detected']} of {s['planted']}; "
          f"false alerts {s['false_alerts']}")
    print("  CPU s by part: " + ", ".join(f"{k} {v:.0f}" for k, v in s["cpu_split_s"].items())
          + " (the rest: the runner and its workers' start)")
    print(f"  firmware live heap peak, worst tag: {out['heap_peak_bytes_max']:,} bytes in a {HEAP} heap")
    print(f"  battery life h: {s['battery_life_h']}; worst wearer {fleet_report.worst_line(s['worst_battery'])}")
    return {"fleet": out}


BENCHES = {"nmea": bench_nmea, "geofence": bench_geofence, "replay": bench_replay, "centre": bench_centre,
           "energy": bench_energy, "fleet": bench_fleet, "trail": bench_trail, "alcohol": bench_alcohol}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make bench", description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "bench.json")
    ap.add_argument("--only", choices=sorted(BENCHES), action="append", help="run only these")
    args = ap.parse_args(argv)
    results: dict[str, Any] = {}
    names = args.only or sorted(BENCHES)
    for k, name in enumerate(names):
        report.progress(k, len(names), f"bench {name}")
        results.update(BENCHES[name](args.out.parent / "bench"))  # each gives its groups of figures
    report.progress(len(names), len(names), "bench done")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
