"""A scenario's curfew scored: the home unit's alerts as the centre received them,
against what host_sim.judge.curfew_oracle requires and forbids. Latency is signed:
from the moment the rule makes the alert due (its "rule" says which), negative
when the unit alerted before it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from host_sim.judge import curfew_oracle
from host_sim.wire import Kind
from host_sim.world.scenario import Scenario
from host_sim.world.trace import TruePoint

ABSENT, LEFT, RETURNED, SPOOF, MAINS_LOST, LOW = (Kind.CURFEW_ABSENT, Kind.CURFEW_LEFT, Kind.CURFEW_RETURNED,
                                                  Kind.SPOOF_SUSPECTED, Kind.MAINS_LOST, Kind.BATTERY_LOW)
KINDS = {"absence": (ABSENT, LEFT), "spoof": (SPOOF,), "mains_lost": (MAINS_LOST,), "battery_low": (LOW,)}
RULES = {"absence": "due once away for the absence timeout with the curfew enforced",
         "spoof": "due when the recording starts playing",
         "mains_lost": "due at the mains cut",
         "battery_low": "due when the backup battery falls to 3,650 mV",
         "unit_moved": "due when the wearer first comes beside the moved unit"}


@dataclass
class CurfewScore:
    required: int = 0
    detected: int = 0
    latencies_s: list[float] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    false: list[dict[str, Any]] = field(default_factory=list)
    required_list: list[dict[str, Any]] = field(default_factory=list)
    answered: dict[tuple[str, int], float] = field(default_factory=dict)  # (device, seq) -> latency
    false_keys: set[tuple[str, int]] = field(default_factory=set)


def score(sc: Scenario, truth: list[TruePoint], stored: list[dict[str, Any]], tag_stored: list[dict[str, Any]]
          ) -> CurfewScore:
    """stored: the unit's events as the centre has them; tag_stored: the tag's."""
    ct = curfew_oracle.truth(sc, truth)
    limit = sc.oracle.latency_limit_s
    start = sc.start_utc
    out = CurfewScore()
    _moved(sc, ct, tag_stored, out)
    for req in curfew_oracle.required(sc, ct):
        out.required += 1
        breach_ms = (start + req.breach_t) * 1000
        hits = [r for r in stored
                if r["kind"] in KINDS[req.kind] and req.from_t <= r["utc"] - start <= req.until_t + limit]
        first = min(hits, key=lambda r: r["received_ms"]) if hits else None
        latency = round((first["received_ms"] - breach_ms) / 1000, 1) if first else None
        out.required_list.append({"kind": req.kind, "at_s": req.breach_t, "latency_s": latency,
                                  "detected": latency is not None and latency <= limit, "rule": RULES[req.kind]})
        if first and latency is not None and latency <= limit:
            out.detected += 1
            out.latencies_s.append(latency)
            out.answered[(first["device"], first["seq"])] = latency
        else:
            out.missed.append({"curfew": req.kind, "breach_s": req.breach_t,
                               "why": "late" if hits else f"no {req.kind} alert"})
    n = len(truth)
    for r in stored:
        t = min(max(0, r["utc"] - start), n - 1)
        why = None
        if r["kind"] in (ABSENT, LEFT) and curfew_oracle.false_absence(sc, ct, t):
            why = "absence alert while home or outside the curfew"
        elif r["kind"] == RETURNED and curfew_oracle.false_presence(ct, t):
            why = "returned while away"
        elif r["kind"] == SPOOF and curfew_oracle.false_spoof(sc, t):
            why = "spoof alert with no recording playing"
        elif r["kind"] == MAINS_LOST and curfew_oracle.false_mains(sc, t):
            why = "mains lost while on mains"
        elif r["kind"] == LOW and curfew_oracle.false_backup_low(sc, t):
            why = "battery low while the backup battery was not"
        if why:
            out.false.append({"curfew": why, "at_s": t, "distance_m": round(float(ct.distance_m[t]), 1)})
            out.false_keys.add((r["device"], r["seq"]))
    return out


def _moved(sc: Scenario, ct: curfew_oracle.CurfewTruth, tag_stored: list[dict[str, Any]], out: CurfewScore) -> None:
    """A unit standing away from the registered home requires the tag's "unit moved" the
    first time the wearer is beside it (within the latency limit); at home, one is false."""
    moved = curfew_oracle.unit_moved(sc)
    said = [r for r in tag_stored if r["kind"] == Kind.UNIT_MOVED]
    beside = np.flatnonzero(ct.home)
    if moved and len(beside):
        t = int(beside[0])
        first = min(said, key=lambda r: r["received_ms"]) if said else None
        latency = round(first["received_ms"] / 1000 - sc.start_utc - t, 1) if first else None
        ok = first is not None and latency is not None and latency <= sc.oracle.latency_limit_s
        out.required += 1
        out.required_list.append({"kind": "unit_moved", "at_s": t, "detected": ok, "latency_s": latency,
                                  "rule": RULES["unit_moved"]})
        if first and ok and latency is not None:
            out.detected += 1
            out.latencies_s.append(latency)
            out.answered[(first["device"], first["seq"])] = latency
        else:
            out.missed.append({"curfew": "unit_moved", "breach_s": t, "why": "late" if said else "no unit moved alert"})
    elif moved is False:
        out.false += [{"curfew": "unit moved, though it stands at home", "at_s": r["utc"] - sc.start_utc,
                       "distance_m": 0.0} for r in said]
        out.false_keys |= {(r["device"], r["seq"]) for r in said}
