"""Report formats shared by tagsim commands: terminal table, JSON, JUnit XML."""

from __future__ import annotations

import json
import sys
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


def progress(done: int, total: int, label: str) -> None:
    """One self-overwriting line on a terminal; into a log, a line at each tenth of the way."""
    if not sys.stderr.isatty():
        if total >= 10 and done and done * 10 // total != (done - 1) * 10 // total:
            sys.stderr.write(f"{done}/{total} done ({label})\n")
        return
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:40]:40s}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_junit(path: Path, suite: str, cases: Sequence[tuple[str, bool, str]]) -> None:
    """cases: (name, passed, message shown on failure)."""
    root = ET.Element("testsuite", name=suite, tests=str(len(cases)),
                      failures=str(sum(not ok for _, ok, _ in cases)))
    for name, ok, message in cases:
        case = ET.SubElement(root, "testcase", classname=suite, name=name)
        if not ok:
            ET.SubElement(case, "failure", message=message).text = message
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="unicode", xml_declaration=True)
