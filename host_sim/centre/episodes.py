"""Drinking episodes as the centre confirms them from an alcohol tag's whole reading
series (events 70, docs/alcohol.md), with hindsight the tag has not got: the tag
decides on each reading as it comes; the centre sees the curve's whole rise and its
final fall, so it can also rule out a sensor drifting slowly above the threshold.

An episode is a run of readings at or above the threshold, peaking above it by more
than two readings' noise (a run within that is the sensor's noise about the
threshold, and is not listed). It is a body's when:
- it lasts an hour or more (SPAN_S: longer than any spike from the air);
- from its peak (the latest reading at it) to the first reading below the threshold
  it falls within what a body eliminates (0.003-0.025 g/dL/h), each bound widened
  by two readings' noise: slower is a sensor drifting.
A run still at or above the threshold at the last reading is "open" while nothing
yet rules it out. Its rise (from the last reading below the threshold to the peak)
is shown, not judged: as on the tag, a fast rise that stays is a body's, a binge on
an empty stomach; a spike's rise is over within the hour."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from host_sim.wire import Kind

THRESHOLD_E4 = 200  # 0.020 g/dL, as firmware/alcohol.py's alc_threshold_e4
ELIM_E4_H = (30, 250)  # 0.003-0.025 g/dL/h
NOISE_E4 = 20  # each reading's
SPAN_S = 3600

CONFIRMED, OPEN = "confirmed", "open"
TAMPER = {Kind.SENSOR_REMOVED: "removed", Kind.SENSOR_OBSTRUCTED: "obstructed", Kind.SENSOR_FAULT: "fault"}


@dataclass
class Episode:
    device: str
    start_utc: int  # its first reading at or above the threshold
    end_utc: int | None  # the first reading below it; None while open
    peak_e4: int
    peak_utc: int
    readings: int
    rise_e4_h: float | None  # from the last reading below the threshold to the peak
    fall_e4_h: float | None  # from the last peak to the end
    verdict: str  # CONFIRMED, OPEN, or why it is not a body's
    received_ms: int  # when the centre had the readings it judged on
    tag_reported_utc: int | None = None  # the tag's own drinking event (71) in the episode
    tamper: list[str] = field(default_factory=list)  # the sensor off the skin, or silent, about it

    @property
    def body(self) -> bool:
        return self.verdict in (CONFIRMED, OPEN)


def judge(device: str, stored: list[dict[str, Any]]) -> list[Episode]:
    """The episodes in one device's stored events (the centre's rows, any order)."""
    rows = sorted((r for r in stored if r["device"] == device), key=lambda r: (r["utc"], r["seq"]))
    series = [r for r in rows if r["kind"] == Kind.ALCOHOL_READING]
    out: list[Episode] = []
    k = 0
    while k < len(series):
        if series[k]["depth_m"] < THRESHOLD_E4:
            k += 1
            continue
        j = k
        while j + 1 < len(series) and series[j + 1]["depth_m"] >= THRESHOLD_E4:
            j += 1
        if max(r["depth_m"] for r in series[k : j + 1]) >= THRESHOLD_E4 + 2 * NOISE_E4:
            out.append(_episode(device, series, k, j))
        k = j + 1
    for e in out:
        until = e.end_utc if e.end_utc is not None else rows[-1]["utc"]
        e.tag_reported_utc = next((r["utc"] for r in rows if r["kind"] == Kind.DRINKING
                                   and e.start_utc <= r["utc"] <= until), None)
        e.tamper = sorted({TAMPER[r["kind"]] for r in rows if r["kind"] in TAMPER
                           and e.start_utc - SPAN_S <= r["utc"] <= until})
    return out


def _episode(device: str, series: list[dict[str, Any]], k: int, j: int) -> Episode:
    run = series[k : j + 1]
    before = series[k - 1] if k else None
    end = series[j + 1] if j + 1 < len(series) else None
    peak = max(run, key=lambda r: r["depth_m"])
    final = max(reversed(run), key=lambda r: r["depth_m"])  # the latest at the peak: the final fall's start
    rise = _rate(before, peak) if before else None
    fall = _rate(end, final) if end else None
    why = []
    if run[-1]["utc"] - run[0]["utc"] < SPAN_S and end is not None:
        why.append(f"over in {(run[-1]['utc'] - run[0]['utc']) // 60} min")
    if end and fall is not None:
        change, dt = final["depth_m"] - end["depth_m"], end["utc"] - final["utc"]
        if _beyond(change, dt, ELIM_E4_H[1]):
            why.append(f"falls at {fall / 1e4:.3f} g/dL/h")
        elif (change + 2 * NOISE_E4) * 3600 < ELIM_E4_H[0] * dt:
            why.append(f"falls at only {fall / 1e4:.4f} g/dL/h: a sensor drifting")
    verdict = "not a body's: " + ", ".join(why) if why else OPEN if end is None else CONFIRMED
    last = end or run[-1]
    return Episode(device, run[0]["utc"], end["utc"] if end else None, peak["depth_m"], peak["utc"], len(run),
                   rise, fall, verdict, max(r["received_ms"] for r in (*run, last)))


def _rate(a: dict[str, Any], b: dict[str, Any]) -> float:
    """1e-4 g/dL an hour from a to b (their readings' difference, either way round)."""
    return float(abs(b["depth_m"] - a["depth_m"]) * 3600 / max(1, abs(b["utc"] - a["utc"])))


def _beyond(change_e4: int, dt_s: int, limit_e4_h: int) -> bool:
    """Whether a change over dt_s exceeds limit_e4_h an hour, two readings' noise allowed."""
    return change_e4 * 3600 > limit_e4_h * max(1, dt_s) + 2 * NOISE_E4 * 3600


def of_centre(stored: list[dict[str, Any]]) -> list[Episode]:
    """Every alcohol tag's episodes in the centre's stored events."""
    devices = sorted({r["device"] for r in stored if r["kind"] == Kind.ALCOHOL_READING})
    return [e for d in devices for e in judge(d, stored)]
