"""Replay a whole cohort: every tag's scenario through the firmware, in parallel
worker processes on this machine, or on a Dask distributed cluster
(`dask.distributed`) with the same results. Each tag's result is written as it
finishes (results/<tag>.json, with the digest of the scenario it came from), so
an interrupted run picks up where it stopped and a changed scenario runs again."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from host_sim import cores, wire
from host_sim.centre.db import sqlite_files
from host_sim.device import mpy_gate
from host_sim.exits import CliError
from host_sim.judge import report
from host_sim.paths import BOARDS, BUILD, FIRMWARE

VARIABLE = ("wall_s", "cpu_s", "cpu_split")  # what differs from one run of the same tag to the next


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cpu_s() -> float:
    """CPU seconds of this process and every child it has waited for."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_tag(path: str, centre_db: str | None = None) -> dict[str, Any]:
    """One tag's day through the firmware, scored: everything the cohort report needs.
    A tag in trail mode leaves its centre's database at centre_db, for the crimes."""
    from host_sim.judge import verdict
    from host_sim.run import sim
    from host_sim.run.home_unit import tag_id
    from host_sim.world import scenario

    cpu0, wall0 = cpu_s(), time.perf_counter()
    sc = scenario.load(Path(path))
    db = Path(centre_db) if sc.trail and centre_db else None
    for stale in sqlite_files(db) if db else []:  # a run before: this one starts its centre afresh
        stale.unlink(missing_ok=True)
    try:
        run = sim.execute(sc, keep_nmea=False, db=db)
    except Exception as e:  # one tag's crash is that tag's failure, not the cohort's end
        return {**verdict.crashed(sc, e), "scenario_sha256": digest(Path(path)), "tag_days": sc.duration_s / 86400,
                "alerts": 0, "frames": 0, "breach_points": [], "wall_s": round(time.perf_counter() - wall0, 2),
                "cpu_s": round(cpu_s() - cpu0, 2)}
    result = verdict.score(run)
    stored = run.stored + run.unit_stored
    return {
        **result.as_dict(),
        "device": tag_id(sc),
        "scenario_sha256": digest(Path(path)),
        "tag_days": sc.duration_s / 86400,
        "alerts": sum(1 for r in stored if r["kind"] in wire.ALERTS),
        "frames": int(run.link_stats.get("frames", 0)),
        "breach_points": [[e.lon, e.lat] for e in result.events if e.kind == wire.Kind.BREACH],
        "wall_s": round(time.perf_counter() - wall0, 2),
        "cpu_s": round(cpu_s() - cpu0, 2),
        "cpu_split": run.cpu,
    }


def scenarios(cohort: Path) -> list[Path]:
    found = sorted(cohort.glob("*.yaml"))
    if not found:
        raise CliError(f"fleet: no scenario files (*.yaml) in {cohort}; make one with tagsim cohort generate")
    return found


def done(results: Path, path: Path) -> dict[str, Any] | None:
    """The stored result for this scenario, if it is for this very file (a crash runs again)."""
    f = results / f"{path.stem}.json"
    try:
        data: dict[str, Any] = json.loads(f.read_text())
    except (OSError, ValueError):
        return None
    return data if data.get("scenario_sha256") == digest(path) and "error" not in data else None


def _save(results: Path, name: str, data: dict[str, Any]) -> None:
    tmp = results / f".{name}.json.tmp"
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, results / f"{name}.json")


def centre_db(results: Path, name: str) -> Path:
    """Where a trail-mode tag's centre database is kept."""
    return results / f"{name}.db"


def trail_dbs(manifest: dict[str, Any], results: Path) -> dict[str, Path]:
    """Each trail-mode wearer's centre database, by name."""
    return {w["name"]: centre_db(results, w["name"]) for w in manifest["wearers"] if w.get("trail")}


def _local(paths: list[Path], jobs: int, results: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    with ProcessPoolExecutor(max_workers=jobs, **cores.pool_setup()) as pool:
        futures = {pool.submit(run_tag, str(p), str(centre_db(results, p.stem))): p for p in paths}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()


def _dask(paths: list[Path], address: str, results: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    with Client(address) as client:  # type: ignore[no-untyped-call]
        # a worker on another machine writes a trail tag's database there: share results/ to report crimes
        futures = client.map(run_tag, [str(p) for p in paths], [str(centre_db(results, p.stem)) for p in paths],
                             pure=False)
        by_key = {f.key: p for f, p in zip(futures, paths, strict=True)}
        for fut in dask_completed(futures):  # type: ignore[no-untyped-call]
            yield by_key[fut.key], fut.result()


def run(cohort: Path, results: Path, jobs: int = 2, scheduler: str | None = None,
        on_progress: Callable[[int, int, str], None] = report.progress) -> dict[str, dict[str, Any]]:
    """Every tag's result, by name; only what is not already in results is run."""
    paths = scenarios(cohort)
    results.mkdir(parents=True, exist_ok=True)
    out: dict[str, dict[str, Any]] = {}
    todo = []
    for p in paths:
        prior = done(results, p)
        if prior is None:
            todo.append(p)
        else:
            out[p.stem] = prior
    errors = mpy_gate.compile_arch([FIRMWARE, BOARDS], BUILD / "mpy", mpy_gate.HOST_ARCH, stale_only=True)
    if errors:  # compiled once here, not by every worker at once
        raise RuntimeError("firmware does not compile:\n" + "\n".join(errors))
    failed = 0
    on_progress(len(out), len(paths), f"{len(out)} already done" if out else "starting")
    stream = _dask(todo, scheduler, results) if scheduler else _local(todo, jobs, results)
    for path, data in stream:
        _save(results, path.stem, data)
        out[path.stem] = data
        failed += not data["passed"]
        on_progress(len(out), len(paths), f"{path.stem}{f'  ({failed} failed)' if failed else ''}")
    return out
