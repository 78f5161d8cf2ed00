"""tagsim: run the emtag firmware under simulation and check what it does.

Commands:
  replay   feed real receiver captures (NMEA logs) to the tag firmware in virtual
           time and check every fix it reports against gpsd's decoding of the
           same capture (positions within 1e-7 degrees at the same instant)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from host_sim import report
from host_sim.paths import CAPTURES


def _captures(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += sorted(p.glob("*.log"))
        elif p.is_file():
            found.append(p)
        else:
            raise SystemExit(f"tagsim replay: {p}: no such file or folder")
    if not found:
        raise SystemExit(f"tagsim replay: no .log captures in {', '.join(map(str, paths))}")
    return found


def cmd_replay(args: argparse.Namespace) -> int:
    from host_sim.replay import replay

    paths = _captures(args.paths)
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tagsim", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    rp = sub.add_parser("replay", help="replay receiver captures through the tag firmware",
                        description=cmd_replay.__doc__ or "")
    rp.add_argument("paths", nargs="*", type=Path, default=[CAPTURES],
                    help=f"capture files or folders of *.log (default: {CAPTURES})")
    rp.add_argument("--json", type=Path, help="write per-capture results and a summary here")
    rp.add_argument("--junit", type=Path, help="write JUnit XML here (one test case per capture)")
    rp.set_defaults(func=cmd_replay)
    args = ap.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
