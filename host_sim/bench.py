"""make bench: measure, print side-by-side ratios, write build/bench.json.

Every figure is measured in this run; nothing is carried over from an earlier one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from host_sim import captures, mp
from host_sim.paths import CAPTURES, ROOT

HEAP = "256K"  # ESP32-like: MicroPython starts the ESP32 heap small and grows it


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


def bench_nmea(build: Path) -> dict[str, Any]:
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
    return r


BENCHES = {"nmea": bench_nmea}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make bench", description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "bench.json")
    ap.add_argument("--only", choices=sorted(BENCHES), action="append", help="run only these")
    args = ap.parse_args(argv)
    results = {}
    for name in args.only or sorted(BENCHES):
        results[name] = BENCHES[name](args.out.parent / "bench")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
