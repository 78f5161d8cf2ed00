"""tagsim: run the emtag firmware under simulation and check what it does.

Commands:
  run      replay pilot scenarios (scenarios/*.yaml) through the tag firmware in
           virtual time; the oracle derives the alerts each one requires from the
           true trace and the zones; prints a verdict per scenario, writes JSON,
           JUnit XML, a map and a GeoJSON per scenario; exit 1 if any fails
  replay   feed real receiver captures (NMEA logs) to the tag firmware in virtual
           time and check every fix it reports against gpsd's decoding of the
           same capture (positions within 1e-7 degrees at the same instant)
  centre   the monitoring centre: serve (TCP; SQLite or PostgreSQL) for a bench rig, list
           the events, alerts, silences and pairings it has stored, the alcohol
           tags' drinking episodes, and match the tags' trails against reported
           crimes, with evidence
  device   a virtual tag (and, in a curfew scenario, its home unit): a scenario
           through the firmware, paced to the wall clock, each console on a real
           pseudo-terminal for tagctl
  keys     make a device's secrets: its HMAC key and technician token, kept
           readable by their owner only, and the centre's keys file
  cohort   generate a synthetic pilot cohort: N wearers across Midlands towns,
           written as ordinary scenario files, with a share of planted breaches
  fleet    run a cohort (parallel workers here, or a Dask cluster), resumable,
           and report it: detection, alerts per tag-day, latency, battery, centre

Exit codes, the same for every command (and tagctl): 0 done, 1 a check failed (a
scenario, a capture, a tag), 2 bad input or usage (a missing or malformed file, a
bad key or token), 3 the environment (a port in use, a device missing, the
firmware's interpreter not built), 130 interrupted (Ctrl-C, SIGTERM); each error is
one line naming the thing and the fix, and nothing half-made is left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from host_sim import cores, crimes_cli, exits, keys
from host_sim.centre import db as centre_db
from host_sim.centre import episodes
from host_sim.centre.server import SILENCE_S
from host_sim.device import mp
from host_sim.exits import CliError
from host_sim.judge import report
from host_sim.paths import CAPTURES
from host_sim.run.heap import BUDGET, HEAP


def _files(paths: list[Path], patterns: tuple[str, ...], command: str) -> list[Path]:
    """The files named, and those matching patterns in the folders named."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += sorted(f for pattern in patterns for f in p.glob(pattern))
        elif p.is_file():
            found.append(p)
        else:
            raise CliError(f"{command}: {p}: no such file or folder")
    if not found:
        raise CliError(f"{command}: no {' or '.join(patterns)} in {', '.join(map(str, paths))}")
    return found


def cmd_replay(args: argparse.Namespace) -> int:
    from host_sim.run.replay import replay

    paths = _files(args.paths, ("*.log",), "replay")
    results = []
    for i, path in enumerate(paths):
        report.progress(i, len(paths), path.name)
        results.append(replay(path))
    report.progress(len(paths), len(paths), "done")
    rows = [
        (r.capture, r.bursts, r.fixes, r.valid_fixes, r.compared,
         "agree" if r.passed else f"DISAGREE {r.compared - r.agree}",
         r.counters.get("checksum", 0), r.counters.get("unknown", 0), r.counters.get("malformed", 0))
        for r in results
    ]
    print(report.table(
        ["capture", "bursts", "fixes", "valid", "vs gpsd", "verdict", "bad sum", "skipped", "malformed"],
        rows))
    failed = [r for r in results if not r.passed]
    compared = sum(r.compared for r in results)
    agree = sum(r.agree for r in results)
    print(f"\n{len(results)} captures, {sum(r.fixes for r in results)} fixes reported by the firmware; "
          f"{agree} of {compared} compared with gpsd agree; {len(failed)} captures disagree")
    if args.json:
        report.write_json(args.json, {"captures": [r.as_dict() for r in results],
                                      "summary": {"captures": len(results), "compared": compared,
                                                  "agree": agree, "failed": len(failed)}})
    if args.junit:
        report.write_junit(args.junit, "tagsim.replay", [
            (r.capture, r.passed, f"{r.compared - r.agree} of {r.compared} fixes disagree with gpsd")
            for r in results])
    return 1 if failed else 0


def _run_one(path: Path, out: Path | None, nmea: Path | None, heap: str) -> dict[str, object]:
    from host_sim.judge import maps, verdict
    from host_sim.run import sim
    from host_sim.world import scenario

    sc = scenario.load(path)
    try:
        run = sim.execute(sc, keep_nmea=nmea is not None, heap=heap)
    except Exception as e:  # a firmware that dies fails its scenario; the others still run
        return {**verdict.crashed(sc, e), "wall_s": 0.0}
    result = verdict.score(run)
    if out is not None:
        maps.write(run, result, out)
    if nmea is not None:
        nmea.mkdir(parents=True, exist_ok=True)
        (nmea / f"{sc.name}.nmea").write_bytes(run.nmea)
    return {**result.as_dict(), "wall_s": result.wall_s}


def _life(energy: object) -> str:
    return f"{energy['battery_life_h']:.0f}" if isinstance(energy, dict) and energy else "-"


def cmd_run(args: argparse.Namespace) -> int:
    """Replay pilot scenarios through the tag firmware and score breach detection."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from host_sim.world import scenario

    files = _files(args.paths, ("*.yaml", "*.yml"), "run")
    errors = []
    for f in files:  # every file checked before anything runs
        try:
            scenario.load(f)
        except scenario.ScenarioError as e:
            errors.append(str(e))
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return exits.BAD_INPUT
    results: dict[Path, dict[str, object]] = {}
    with ProcessPoolExecutor(max_workers=args.jobs, **cores.pool_setup()) as pool:
        futures = {pool.submit(_run_one, f, args.out, args.nmea, args.heap): f for f in files}
        report.progress(0, len(files), "starting")
        try:
            for n, fut in enumerate(as_completed(futures), 1):
                results[futures[fut]] = fut.result()
                report.progress(n, len(files), futures[fut].stem)
        except KeyboardInterrupt:  # each worker ends its run and removes its temporary folder
            for proc in list(pool._processes.values()):  # the executor keeps its workers here
                proc.terminate()
            pool.shutdown(cancel_futures=True)
            raise
    ordered = [results[f] for f in files]
    rows = []
    for r in ordered:
        lat, tam = r["latencies_s"], r["tamper_latencies_s"]
        assert isinstance(lat, list) and isinstance(tam, list)
        verdict = "PASS" if r["passed"] else "CRASH" if "error" in r else "FAIL"
        rows.append((r["name"], verdict, r["must_alert"], r["detected"], r.get("acceptable", 0),
                     r["false_alerts"], f"{max(lat):.0f}" if lat else "-", f"{max(tam):.0f}" if tam else "-",
                     r["warnings"], f"{r['valid_fixes']}/{r['fixes']}", _life(r["energy"]),
                     f"{r['heap_peak_bytes']:,}" if int(str(r["heap_peak_bytes"])) >= 0 else "-",
                     f"{r['wall_s']:.1f}"))
    print(report.table(["scenario", "verdict", "required", "detected", "acceptable", "false", "latency s", "tamper s",
                        "warnings", "valid fixes", "battery h", "heap peak B", "wall s"], rows))
    failed = [r for r in ordered if not r["passed"]]
    required = sum(int(str(r["must_alert"])) for r in ordered)
    detected = sum(int(str(r["detected"])) for r in ordered)
    false = sum(int(str(r["false_alerts"])) for r in ordered)
    for r in ordered:
        if "error" in r:
            print(f"{r['name']}: the run stopped: {str(r['error']).strip().splitlines()[-1]}", file=sys.stderr)
    print(f"\n{len(ordered)} scenarios: {len(ordered) - len(failed)} passed, {len(failed)} failed; "
          f"required alerts detected {detected} of {required}; false alerts {false}")
    summary = {"scenarios": len(ordered), "passed": len(ordered) - len(failed), "failed": len(failed),
               "must_alert": required, "detected": detected, "false_alerts": false}
    if args.json:
        report.write_json(args.json, {"scenarios": [{k: v for k, v in r.items() if k != "wall_s"}
                                                    for r in ordered], "summary": summary})
    if args.junit:
        report.write_junit(args.junit, "tagsim.run", [
            (str(r["name"]), bool(r["passed"]),
             str(r["error"]) if "error" in r else f"missed {r['missed']}, false alerts {r['false']}",
             "\n".join(_alert_line(a) for a in r.get("alerts", [])))  # type: ignore[attr-defined]
            for r in ordered])
    return 1 if failed else 0


def _alert_line(a: dict[str, Any]) -> str:
    """One classified alert as the JUnit output lists it."""
    latency = f", latency {a['latency_s']:g} s" if "latency_s" in a else ""
    zone = f" {a['zone']}" if "zone" in a else ""
    return f"{a['time']} {a['device']} {a['kind']}{zone}: {a['class']}{latency}"


def cmd_centre(args: argparse.Namespace) -> int:
    """The monitoring centre: serve tags over TCP (a line per frame received and per
    alert raised, unless -q), or show what it stored: events, alerts (breaches,
    tampers, ...), silences (comms-loss alerts: a device heard before, then not for
    --silence-s), pairings (tags and home units as technicians paired them with tagctl
    pair, from what both devices reported) and rejects (frames refused, and why).
    Tables give London time and degrees; --json gives ISO 8601 UTC, kind names and codes.
    crimes: reported crimes against the tags' trails (import, list, match, evidence);
    purge: breadcrumbs past the retention period; audit: every crimes query and purge
    (docs/trails.md)."""
    from host_sim.centre import server as centre
    from host_sim.centre import views

    if args.action in crimes_cli.ACTIONS:
        return crimes_cli.run(args)
    if args.action == "serve":
        try:
            centre.serve_forever(args.db, args.host, args.port, args.keys, args.silence_s, quiet=args.quiet)
        except KeyboardInterrupt:
            pass
        return 0
    after = views.since(args.since) if args.since else None
    c = centre.open_existing(args.db)
    try:
        if args.action == "episodes":
            rows = views.episode_rows(episodes.of_centre(c.events(args.device)), after, machine=args.json)
        else:
            rows = views.rows(c, args.action, args.device, after, views.kind_codes(args.kind or []),
                              machine=args.json)
    except centre_db.errors() as e:  # a file cut short: its header reads, its pages do not
        raise centre.unreadable(args.db, e) from None
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print(f"no {args.action}" + (f" for {args.device}" if args.device else ""))
        return 0
    cols = list(rows[0])
    print(report.table(cols, [[r[k] for k in cols] for r in rows]))
    return 0


def cmd_device(args: argparse.Namespace) -> int:
    """A virtual tag whose console is a real pseudo-terminal: point tagctl --port at it.
    A curfew scenario brings the tag's home unit, with a console of its own; pair the two
    with tagctl --port TAG pair UNIT. The centre's database is kept with --db."""
    from host_sim import wire
    from host_sim.device.pty_console import PtyConsole
    from host_sim.judge import verdict
    from host_sim.run import sim
    from host_sim.run.home_unit import tag_id, unit_id
    from host_sim.world import scenario

    try:
        sc = scenario.load(args.scenario)
    except scenario.ScenarioError as e:
        raise CliError(str(e)) from None
    args.token = keys.token(args.token, "--token")
    console = PtyConsole(speed=args.speed)
    unit_console = PtyConsole(speed=args.speed) if sc.curfew else None
    print(f"tag {tag_id(sc)} console on {console.port} (technician token {args.token}); "
          f"{sc.duration_s} s of scenario at {args.speed:g}x", flush=True)
    if unit_console:
        print(f"home unit {unit_id(sc)} console on {unit_console.port} (technician token {args.token})", flush=True)
    token = {"tech_token": args.token}
    run = sim.execute(sc, keep_nmea=False, console=console, config=token, unit_console=unit_console,
                      unit_config=token, db=args.db)
    result = verdict.score(run)
    console.close()
    if unit_console:
        unit_console.close()
    alerts = [wire.EVENT_NAMES.get(r["kind"], str(r["kind"])) for r in run.stored if r["kind"] in wire.ALERTS]
    print(f"done: {'PASS' if result.passed else 'FAIL'}; {len(run.stored)} events at the centre; "
          f"alerts: {', '.join(alerts) or 'none'}", flush=True)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    """A device's secrets from the OS's random source: its HMAC key (32 bytes) and its
    technician token (16 bytes), in OUT/DEVICE.json (for make deploy SECRETS=…), and its
    key added to OUT/centre-keys.json (for tagsim centre serve --keys). Both files are
    readable by their owner only; a device's existing secrets are never overwritten."""
    path = keys.new(args.device, args.out)
    print(f"{path}: {args.device}'s key and technician token (owner only); its key added to "
          f"{args.out / keys.CENTRE_KEYS}")
    return 0


def cmd_cohort(args: argparse.Namespace) -> int:
    """Write a synthetic pilot cohort as scenario files, and cohort.json saying what was planted.

    Each wearer lives in an East or West Midlands town, has one or two victims
    with exclusion zones, a curfew (for --curfew-share of them), a day of work,
    shops, visits and evenings out on foot, by bus or by car, and, for
    --breach-share of them, a planted breach (a walk to a victim's street, or a
    night out during curfew). --acquisitive adds wearers under trail monitoring
    (no zones; the tag in trail mode; outings with a stay in the street) and
    crimes.csv for them, whose truth cohort.json keeps: `fleet report` matches the
    crimes against their trails. --alcohol adds wearers with alcohol tags for three
    days under an abstinence requirement: abstinent, a lapse or a relapse, hand gel
    and perfume, and for some a barrier or the tag off the skin; `fleet report`
    gives the drinking episodes' recall and false episodes, the tag's and the
    centre's. The same seed gives the same files."""
    from host_sim.world import cohort

    if args.tags < 1:
        raise CliError("cohort: --tags must be at least 1")
    for flag in ("acquisitive", "alcohol"):
        if getattr(args, flag) < 0:
            raise CliError(f"cohort: --{flag} must be 0 or more")
    m = cohort.generate(args.out, args.tags, args.seed, args.breach_share, args.curfew_share, report.progress,
                        args.acquisitive, args.alcohol)
    curfews = sum(w["curfew"] for w in m["wearers"])
    crimes = f", {len(m['crimes'])} crimes in {args.out / 'crimes.csv'}" if args.acquisitive else ""
    print(f"{args.out}: {m['tags']} wearers ({curfews} with a curfew, {args.acquisitive} under trail monitoring, "
          f"{args.alcohol} with alcohol tags), "
          f"{m['planted']} planted breaches{crimes}; run it with: tagsim fleet run {args.out}")
    return 0


def cmd_fleet(args: argparse.Namespace) -> int:
    """Run every tag of a cohort and report the cohort.

    run: every tag's scenario through the firmware, in --jobs worker processes here or,
    with --scheduler tcp://HOST:PORT, on that Dask distributed cluster (its
    workers need this package and the MicroPython toolchain). Results land in
    COHORT/results/ as each tag finishes; run again after an interruption and
    only the rest runs. report: the cohort report from the results there.
    Exit 1 if any tag fails, a planted breach or crime is missed, an alert is false, a near miss
    is matched as a fix inside, or the centre misses a drinking episode owed or confirms a false one."""
    from host_sim import fleet
    from host_sim.judge import fleet_report

    results = args.results or args.cohort / "results"
    if args.action == "run":
        fleet.run(args.cohort, results, args.jobs, args.scheduler)
    manifest, got = fleet_report.load(args.cohort, results)
    summary = fleet_report.summarise(manifest, got)
    trail = fleet_report.crimes_summary(manifest, args.cohort, fleet.trail_dbs(manifest, results), got)
    if trail:
        summary["crimes"] = trail
    print(fleet_report.table(summary))
    plots = args.plots or args.cohort / "report"
    for path in fleet_report.plots(manifest, got, args.cohort, plots):
        print(f"wrote {path}")
    report.write_json(args.json or plots / "report.json", {"summary": summary, "tags": got})
    clean = not summary["failed"] and summary["planted_detected"] == summary["planted"] and not summary["false_alerts"]
    clean &= not trail or (trail["planted_matched"] == trail["planted"] and not trail["near_miss_strong"])
    drink = summary["episodes"]
    clean &= not drink or (drink["centre_reported"] == drink["owed"] and not drink["centre_false"])
    return 0 if clean and summary["run"] == summary["tags"] else 1


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be above 0")
    return value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tagsim", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="replay pilot scenarios through the tag firmware and score them",
                         description=cmd_run.__doc__)
    run.add_argument("paths", nargs="*", type=Path, default=[Path("scenarios")],
                     help="scenario files or folders of *.yaml (default: scenarios/)")
    run.add_argument("--json", type=Path, help="per-scenario results and a summary, as JSON")
    run.add_argument("--junit", type=Path, help="JUnit XML, one test case per scenario")
    run.add_argument("--out", type=Path, help="a PNG map and a GeoJSON per scenario in this folder")
    run.add_argument("--nmea", type=Path, help="the NMEA each scenario fed the tag, one file each")
    run.add_argument("--jobs", type=int, default=2, help="scenarios run at once (default 2)")
    run.add_argument("--heap", default=HEAP,
                     help=f"the firmware's heap cap, as micropython -X heapsize takes it (default {HEAP}; "
                          f"make sim holds the pilot scenarios to a GPS tag's budget, {BUDGET})")
    run.set_defaults(func=cmd_run)
    rp = sub.add_parser("replay", help="replay receiver captures through the tag firmware",
                        description=cmd_replay.__doc__ or "")
    rp.add_argument("paths", nargs="*", type=Path, default=[CAPTURES],
                    help=f"capture files or folders of *.log (default: {CAPTURES})")
    rp.add_argument("--json", type=Path, help="write per-capture results and a summary here")
    rp.add_argument("--junit", type=Path, help="write JUnit XML here (one test case per capture)")
    rp.set_defaults(func=cmd_replay)
    cp = sub.add_parser("centre", help="the monitoring centre: serve, its views, crimes against trails, "
                        "purge and audit", description=cmd_centre.__doc__)
    csub = cp.add_subparsers(dest="action", required=True)
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", type=centre_db.target, default=Path("centre.db"),
                    help="a SQLite file (created if new; default centre.db), or a PostgreSQL server with PostGIS: "
                         "postgresql://user@host/dbname")
    serve = csub.add_parser("serve", parents=[db], help="the centre on TCP, for tags and home units")
    serve.add_argument("-q", "--quiet", action="store_true", help="no line per frame and alert")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=7600, help="TCP port (0 picks one)")
    serve.add_argument("--keys", type=Path, help='JSON {"device": "hex key"} to register')
    serve.add_argument("--silence-s", type=int, default=SILENCE_S,
                       help="a device heard before and silent this long raises a comms-loss alert (default "
                            f"{SILENCE_S}: twice a tag's longest reporting period)")
    for name, what in (("events", "every event stored"), ("alerts", "the alerts an operator must see"),
                       ("silences", "comms-loss alerts"), ("pairings", "tags and home units as paired"),
                       ("rejects", "frames refused, and why")):
        view = csub.add_parser(name, parents=[db], help=what)
        view.add_argument("--device", help="only this device's rows")
        view.add_argument("--since", help='only rows from this London time on: "YYYY-MM-DD" or "YYYY-MM-DD HH:MM"')
        view.add_argument("--kind", action="append", help="only events or alerts of this kind, e.g. breach "
                                                           "(repeatable)")
        view.add_argument("--json", action="store_true", help="rows as JSON: ISO 8601 UTC times, kind names and codes")
    ep = csub.add_parser("episodes", parents=[db], help="alcohol tags' drinking episodes, confirmed from each tag's "
                         "whole reading series", description=episodes.__doc__,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    ep.add_argument("--device", help="only this tag's episodes")
    ep.add_argument("--since", help='only episodes starting from this London time on: "YYYY-MM-DD" or '
                                    '"YYYY-MM-DD HH:MM"')
    ep.add_argument("--json", action="store_true", help="rows as JSON: ISO 8601 UTC times")
    crimes_cli.add_parsers(csub, db)
    cp.set_defaults(func=cmd_centre)
    dp = sub.add_parser("device", help="a virtual tag (and home unit) with consoles on pseudo-terminals",
                        description=cmd_device.__doc__)
    dp.add_argument("scenario", nargs="?", type=Path, default=Path("scenarios/strap-cut.yaml"),
                    help="what the wearer does (default: scenarios/strap-cut.yaml)")
    dp.add_argument("--pty", action="store_true", help="the console on a pseudo-terminal (the default, and only, way)")
    dp.add_argument("--speed", type=_positive, default=1.0, help="virtual seconds per real second (default 1)")
    dp.add_argument("--token", default="0123456789abcdef",
                    help="the technician token the tag, and its home unit, will accept: hex, or @FILE, "
                         "a secrets file from tagsim keys new")
    dp.add_argument("--db", type=centre_db.target,
                    help="keep the centre's database here: a SQLite file or postgresql://... (tagsim centre ... --db)")
    dp.set_defaults(func=cmd_device)
    kp = sub.add_parser("keys", help="make a device's key and technician token", description=cmd_keys.__doc__)
    kp.add_argument("action", choices=["new"])
    kp.add_argument("device", help="the device id, 1 to 8 letters, digits or dashes, e.g. tag-0001")
    kp.add_argument("--out", type=Path, default=Path("secrets"), help="folder for the secrets (default secrets/)")
    kp.set_defaults(func=cmd_keys)
    co = sub.add_parser("cohort", help="generate a synthetic pilot cohort as scenario files",
                        description=cmd_cohort.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    co.add_argument("action", choices=["generate"])
    co.add_argument("--tags", type=int, default=500, help="how many wearers (default 500, the pilot's size)")
    co.add_argument("--seed", type=int, default=1, help="same seed, same cohort (default 1)")
    co.add_argument("--out", type=Path, default=Path("build/cohort"), help="folder to write (default build/cohort)")
    co.add_argument("--breach-share", type=float, default=0.2, help="share of wearers with a planted breach (0.2)")
    co.add_argument("--curfew-share", type=float, default=0.35, help="share of wearers with a curfew (0.35)")
    co.add_argument("--acquisitive", type=int, default=0, metavar="N",
                    help="N more wearers under trail monitoring (acquisitive crime), and crimes.csv: a crime planted "
                         "where each truly stood, near misses in place and time, and unrelated ones (default 0)")
    co.add_argument("--alcohol", type=int, default=0, metavar="N",
                    help="N more wearers with alcohol tags, three days each: abstinent, a lapse or a relapse, with "
                         "hand gel, perfume and some tamper attempts (default 0)")
    co.set_defaults(func=cmd_cohort)
    fl = sub.add_parser("fleet", help="run a cohort in parallel (here or on Dask) and report it",
                        description=cmd_fleet.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    fl.add_argument("action", choices=["run", "report"])
    fl.add_argument("cohort", type=Path, nargs="?", default=Path("build/cohort"),
                    help="the cohort folder (default build/cohort)")
    fl.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="worker processes here (default: cores)")
    fl.add_argument("--scheduler", help="a Dask scheduler's address, e.g. tcp://10.0.0.5:8786, instead")
    fl.add_argument("--results", type=Path, help="per-tag results (default COHORT/results)")
    fl.add_argument("--plots", type=Path, help="PNG plots and report.json (default COHORT/report)")
    fl.add_argument("--json", type=Path, help="the report as JSON here instead")
    fl.set_defaults(func=cmd_fleet)
    args = ap.parse_args(argv)
    runs_firmware = args.command in ("run", "replay", "device") or (args.command == "fleet" and args.action == "run")
    if runs_firmware and not mp.MP32.exists():
        print(f"tagsim: the firmware's interpreter {mp.MP32} is not built; run: make interpreters", file=sys.stderr)
        return exits.ENVIRONMENT
    return exits.main("tagsim", lambda: int(args.func(args)))


if __name__ == "__main__":
    sys.exit(main())
