"""Report formats shared by tagsim commands: terminal table, JSON, JUnit XML."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


_run: list[float] = [0.0, 0.0, -1.0, -1.0]  # the progress shown: started (monotonic s), done then, total, last done


def progress(done: int, total: int, label: str) -> None:
    """A bar with the rate and the time left, overwriting itself on a terminal; into a
    log, a line at each tenth of the way. A run starts when total changes or done falls."""
    now = time.monotonic()
    if total != _run[2] or done < _run[3]:
        _run[:] = [now, done, total, done]
    _run[3] = done
    rate = (done - _run[1]) / (now - _run[0]) if now > _run[0] and done > _run[1] else 0.0
    pace = f"{rate * 60:.1f}/min, {_clock((total - done) / rate)} left" if rate and done < total else ""
    if not sys.stderr.isatty():
        if total >= 10 and done and done * 10 // total != (done - 1) * 10 // total:
            sys.stderr.write(f"{done}/{total} done{', ' + pace if pace else ''} ({label})\n")
        return
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {pace:24s} {label[:30]:30s}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _clock(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m // 60}h{m % 60:02d}m" if m >= 60 else f"{m}m{s:02d}s" if m else f"{s}s"


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_junit(path: Path, suite: str, cases: Sequence[tuple[str, bool, str] | tuple[str, bool, str, str]]) -> None:
    """cases: (name, passed, message shown on failure[, the case's output, always shown])."""
    root = ET.Element("testsuite", name=suite, tests=str(len(cases)),
                      failures=str(sum(not c[1] for c in cases)))
    for name, ok, message, *out in cases:
        case = ET.SubElement(root, "testcase", classname=suite, name=name)
        if not ok:
            ET.SubElement(case, "failure", message=message).text = message
        if out and out[0]:
            ET.SubElement(case, "system-out").text = out[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="unicode", xml_declaration=True)
