"""tagsim centre crimes | purge | audit: trails against reported crimes (docs/trails.md).

    tagsim centre crimes import crimes.csv --db centre.db
    tagsim centre crimes list --db centre.db
    tagsim centre crimes match [REF ...] --db centre.db --csv hits.csv --geojson hits.geojson
    tagsim centre crimes evidence REF DEVICE --db centre.db --out evidence/
    tagsim centre purge --older-than 90d --db centre.db
    tagsim centre audit --db centre.db
"""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import json
import math
import re
from pathlib import Path
from typing import Any

from host_sim.exits import CliError

ACTIONS = ("crimes", "purge", "audit")
_DAYS = re.compile(r"^(\d+)d$")


def add_parsers(csub: Any, db: argparse.ArgumentParser) -> None:
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--who", default=getpass.getuser(),
                     help="who is asking, for the audit (default: this login)")
    cr = csub.add_parser("crimes", help="reported crimes against the tags' trails")
    crs = cr.add_subparsers(dest="crimes_action", required=True)
    imp = crs.add_parser("import", parents=[db], help="read crimes from a police CSV (docs/trails.md, Crimes)")
    imp.add_argument("file", type=Path)
    crs.add_parser("list", parents=[db], help="the crimes imported")
    m = crs.add_parser("match", parents=[db, who], help="every tag that could have been at each crime")
    m.add_argument("refs", nargs="*", help="only these crimes (default: all)")
    m.add_argument("--max-speed", type=float, default=30.0,
                   help="the fastest a wearer plausibly moves between breadcrumbs, m/s (default 30)")
    m.add_argument("--csv", type=Path, help="the hits as CSV")
    m.add_argument("--geojson", type=Path, help="scenes and hits as GeoJSON")
    m.add_argument("--json", action="store_true", help="the hits as JSON on stdout")
    ev = crs.add_parser("evidence", parents=[db, who],
                        help="a map, GeoJSON and a verification record for one tag at one crime")
    ev.add_argument("ref")
    ev.add_argument("device")
    ev.add_argument("--out", type=Path, required=True, help="folder for the evidence")
    pu = csub.add_parser("purge", parents=[db, who], help="remove breadcrumbs older than the retention period")
    pu.add_argument("--older-than", required=True, help="the retention period, in days, e.g. 90d")
    au = csub.add_parser("audit", parents=[db], help="every crimes query and purge: who, when, which crimes")
    au.add_argument("--json", action="store_true", help="the record as JSON (times ISO 8601 UTC)")


def run(args: argparse.Namespace) -> int:
    from host_sim.centre import crimes, server, views
    from host_sim.judge import report

    importing = args.action == "crimes" and args.crimes_action == "import"
    centre = server.open_centre(args.db) if importing else server.open_existing(args.db)
    if args.action == "purge":
        m = _DAYS.match(args.older_than)
        if not m or int(m.group(1)) < 1:
            raise CliError(f"--older-than {args.older_than!r}: expected whole days, e.g. 90d")
        gone = crimes.purge(centre, int(m.group(1)) * 86400, args.who)
        print(f"removed {gone} breadcrumbs older than {m.group(1)} days")
        return 0
    if args.action == "audit":
        rows = crimes.audit(centre)
        if args.json:
            print(json.dumps([{**r, "time": views.iso(r["at_ms"] // 1000)} for r in rows], indent=1))
            return 0
        print(report.table(["when (London)", "who", "action", "crimes", "detail"],
                           [(crimes.london(r["at_ms"] // 1000), r["who"], r["action"], " ".join(r["crimes"]) or "-",
                             json.dumps(r["detail"], sort_keys=True)) for r in rows]) if rows else "no queries yet")
        return 0
    if args.crimes_action == "import":
        new, same = crimes.store(centre, crimes.read_csv(args.file))
        print(f"{args.file}: {new} crimes imported" + (f", {same} already there" if same else ""))
        return 0
    if args.crimes_action == "list":
        known = crimes.crimes(centre)
        print(report.table(["reference", "offence", "lat", "lon", "from (London)", "to", "radius m"],
                           [(c.ref, c.offence, c.lat, c.lon, crimes.london(c.from_utc), crimes.london(c.to_utc),
                             f"{c.radius_m:g}") for c in known]) if known else "no crimes imported")
        return 0
    try:
        return _match(centre, args) if args.crimes_action == "match" else _evidence(centre, args)
    except OSError as e:  # an output that cannot be written: a folder that is a file, no room, no right
        raise CliError(f"cannot write {e.filename}: {e.strerror}") from None


def _match(centre: Any, args: argparse.Namespace) -> int:
    from host_sim.centre import crimes
    from host_sim.judge import report

    if not 0 < args.max_speed <= 100:
        raise CliError(f"--max-speed {args.max_speed:g}: expected above 0 and at most 100 (m/s)")
    hits = crimes.match(centre, args.refs or None, args.who, args.max_speed,
                        progress=lambda done, of: report.progress(done, of, "crimes matched"))
    rows = [h.as_dict() for h in hits]
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        args.csv.write_text(_csv(rows))
    if args.geojson:
        report.write_json(args.geojson, _geojson(crimes.crimes(centre, args.refs or None), hits))
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not hits:
        print("no tag could have been at any of these crimes")
        return 0
    print(report.table(["crime", "tag", "strength", "closest m", "when (London)", "inside s", "no data (London)"],
                       [(h.ref, h.device, h.strength, "-" if math.isnan(h.closest_m) else f"{h.closest_m:.0f}",
                         crimes.london(h.closest_utc), h.inside_s,
                         ", ".join(f"{crimes.london(a)[11:]}-{crimes.london(b)[11:]}" for a, b in h.gaps) or "-")
                        for h in hits]))
    return 0


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["crime", "device", "strength", "closest_m", "closest_time", "inside_s", "no_data"])
    for r in rows:
        w.writerow([r["ref"], r["device"], r["strength"], r["closest_m"], r["closest_time"], r["inside_s"],
                    " ".join(f"{a}/{b}" for a, b in r["gaps"])])
    return out.getvalue()


def _geojson(scenes: list[Any], hits: list[Any]) -> dict[str, Any]:
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
              "properties": {"role": "crime", "ref": c.ref, "offence": c.offence, "radius_m": c.radius_m,
                             "hits": [h.as_dict() for h in hits if h.ref == c.ref]}} for c in scenes]
    return {"type": "FeatureCollection", "features": feats}


def _evidence(centre: Any, args: argparse.Namespace) -> int:
    from host_sim.centre import crimes
    from host_sim.judge import evidence, report

    (crime,) = crimes.crimes(centre, [args.ref])
    record = crimes.verify(centre, args.device, crime)
    hit = crimes.assess(crime, crimes.window_crumbs(centre, crime, args.device), crimes.MAX_SPEED_MPS)
    record["match"] = hit.as_dict() if hit else None
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"{crime.ref}-{args.device}"
    report.write_json(stem.with_suffix(".json"), record)
    crumbs = crimes.window_crumbs(centre, crime, args.device)
    report.write_json(stem.with_suffix(".geojson"), evidence.geojson(crime, crumbs, hit))
    evidence.picture(crime, crumbs, hit, record, stem.with_suffix(".png"))
    crimes.record(centre, args.who, "evidence", [crime.ref], {"device": args.device,
                                                             "all_verified": record["all_verified"]})
    missing = record["sequence"]["missing"]
    print(f"{crime.ref} {args.device}: {hit.strength if hit else 'not there'}; {len(record['breadcrumbs'])} "
          f"breadcrumbs in the window, {'all verified' if record['all_verified'] else 'NOT ALL VERIFIED'}; "
          f"sequence {f'missing {missing}' if missing else 'complete'}")
    print(f"wrote {stem}.json, .geojson, .png")
    return 0 if record["all_verified"] else 1
