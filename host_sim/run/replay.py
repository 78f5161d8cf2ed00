"""Replay receiver captures through the firmware and check its fixes against gpsd.

Each capture is cut into one-second bursts and fed to the tag firmware's GNSS
UART in virtual time; the fixes the firmware reports over its link are compared
with gpsd's decoding of the same capture: a firmware fix and a gpsd TPV at the
same UTC instant must agree on latitude and longitude within 1e-7 degrees.
"""

from __future__ import annotations

import calendar
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from host_sim.device import device_image
from host_sim.run.lockstep import Firmware
from host_sim.world import captures

TOLERANCE_DEG = 1e-7
WEEKS_1024_MS = 1024 * 7 * 86400 * 1000


@dataclass
class FirmwareFix:
    utc: int
    ms: int
    lat_e7: int
    lon_e7: int
    valid: bool
    has_pos: bool


@dataclass
class ReplayResult:
    capture: str
    bursts: int
    fixes: int
    valid_fixes: int
    compared: int
    agree: int
    counters: dict[str, int]

    @property
    def passed(self) -> bool:
        return self.compared == self.agree

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "passed": self.passed}


def parse_console(text: str) -> tuple[list[FirmwareFix], dict[str, int]]:
    fixes, counters = [], {}
    for line in text.splitlines():
        word, *rest = line.split() or [""]
        try:
            if word == "FIX":
                u, ms, lat, lon, valid, has_pos = (int(v) for v in rest[:6])
                fixes.append(FirmwareFix(u, ms, lat, lon, bool(valid), bool(has_pos)))
            elif word == "STAT":
                counters = {k: int(v) for k, v in (kv.split("=") for kv in rest)}
        except ValueError:
            continue  # a line cut short or garbled on the wire: not a report
    return fixes, counters


def _start_ms(path: Path) -> int:
    d = captures.header_date(path)
    if d is None:
        return 1796083200000  # 2026-12-01, as the host board's own clock
    return calendar.timegm(d.timetuple()) * 1000


def _gpsd_by_ms(chk: Path) -> dict[int, tuple[float, float]]:
    """gpsd's last position at each instant (UTC ms)."""
    by_time = {}
    for tpv in captures.gpsd_fixes(chk):
        if tpv.time:
            t = datetime.fromisoformat(tpv.time.replace("Z", "+00:00")).astimezone(UTC)
            by_time[round(t.timestamp() * 1000)] = (tpv.lat, tpv.lon)
    return by_time


def replay(path: Path) -> ReplayResult:
    chunks = captures.bursts(path)
    start = _start_ms(path)
    with tempfile.TemporaryDirectory(prefix="emtag-replay-") as tmp, \
            Firmware(start_ms=start, device=device_image.build(Path(tmp), {"device_id": "replay"})) as fw:
        for i, chunk in enumerate(chunks):
            fw.gnss(chunk)
            fw.advance(start + 1000 * i)
        fw.advance(start + 1000 * len(chunks))
        fw.stop()
        fixes, counters = parse_console("\n".join(text for _, text in fw.out.lines))
    compared = agree = 0
    chk = path.with_suffix(".log.chk")
    if chk.exists():
        gpsd = _gpsd_by_ms(chk)
        for fix in fixes:
            if not fix.has_pos or fix.utc < 0:
                continue
            t = fix.utc * 1000 + fix.ms % 1000
            # gpsd does not correct GPS-week rollover dates the way the tag does
            ref = gpsd.get(t) or gpsd.get(t - WEEKS_1024_MS) or gpsd.get(t + WEEKS_1024_MS)
            if ref is None:
                continue
            compared += 1
            lat, lon = fix.lat_e7 / 1e7, fix.lon_e7 / 1e7
            if abs(lat - ref[0]) <= TOLERANCE_DEG + 1e-9 and abs(lon - ref[1]) <= TOLERANCE_DEG + 1e-9:
                agree += 1
    return ReplayResult(
        capture=path.name,
        bursts=len(chunks),
        fixes=len(fixes),
        valid_fixes=sum(f.valid for f in fixes),
        compared=compared,
        agree=agree,
        counters=counters,
    )
