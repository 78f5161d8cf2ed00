"""Real receiver captures (gpsd's regression logs) and gpsd's own decodings of them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

_HEADER_DATE = re.compile(r"^#\s*Date\s*[:=]\s*(\d{4})-(\d{1,2})-(\d{1,2})")
_TIMED = re.compile(rb"^\$..(?:RMC|GGA|GLL|ZDA),(\d{6}(?:\.\d*)?)?,")


@dataclass(frozen=True)
class Tpv:
    """One gpsd TPV report with a 2D/3D fix, and the sentence it followed."""

    sentence: str
    lat: float
    lon: float
    time: str | None


def header_date(path: Path) -> date | None:
    for line in path.read_text(errors="replace").splitlines():
        if not line.startswith("#"):
            break
        m = _HEADER_DATE.match(line)
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
    return None


def raw_lines(path: Path) -> list[bytes]:
    """The receiver's output lines, header removed, line endings kept."""
    lines = path.read_bytes().splitlines(keepends=True)
    return [ln for ln in lines if not ln.startswith(b"#")]


def bursts(path: Path) -> list[bytes]:
    """The capture cut into per-second bursts: a timed sentence with a new time starts one."""
    out: list[bytes] = []
    current = bytearray()
    last: bytes | None = None
    for line in raw_lines(path):
        m = _TIMED.match(line)
        if m and m[1] and m[1] != last:
            if current:
                out.append(bytes(current))
                current.clear()
            last = m[1]
        current += line
    if current:
        out.append(bytes(current))
    return out


def gpsd_fixes(chk: Path) -> list[Tpv]:
    """Every TPV with mode >= 2 in a .chk file, each with the sentence before it."""
    found = []
    sentence = ""
    for line in chk.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            report = json.loads(line)
            if report.get("class") == "TPV" and report.get("mode", 0) >= 2 and "lat" in report:
                found.append(Tpv(sentence, report["lat"], report["lon"], report.get("time")))
        elif line.startswith("$") or line.startswith("!"):
            sentence = line
    return found


def with_decodings(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.log") if p.with_suffix(".log.chk").exists())
