"""The scenario's GNSS faults scored: a jammer or a spoofer the tag could have told
requires its alert, and an alert of either kind with no such fault is false.

- A jamming spell of at least REQUIRED_S, with the cellular link not in a coverage
  gap and the wearer away from home (the tag keeps quiet at home), requires a
  "jamming suspected" alert stamped in the spell or within the latency limit after
  it; it is due a minute in, when the tag's rule can first call it.
- A spoofing spell of at least REQUIRED_S requires "spoofing suspected" the same
  way, due when the spoofer comes on.
- Either alert stamped outside every spell of its kind (and the latency limit after
  it) is false.
"""

from __future__ import annotations

from typing import Any

from host_sim.judge.curfew_score import CurfewScore
from host_sim.judge.oracle import GEOD
from host_sim.wire import Kind
from host_sim.world.scenario import HOME_RADIUS_M, Scenario
from host_sim.world.trace import TruePoint

REQUIRED_S = 180
KINDS = {"jamming": (Kind.JAMMING, 60), "spoofing": (Kind.SPOOFING, 0)}  # alert, due this long in


def score(sc: Scenario, truth: list[TruePoint], stored: list[dict[str, Any]]) -> CurfewScore:
    out = CurfewScore()
    start, limit = sc.start_utc, sc.oracle.latency_limit_s
    for f in sc.faults:
        if f.kind not in KINDS or f.end_s - f.start_s < REQUIRED_S or not _fair(sc, truth, f.start_s, f.end_s):
            continue
        kind, due_in = KINDS[f.kind]
        due = f.start_s + due_in
        hits = [r for r in stored if r["kind"] == kind and f.start_s <= r["utc"] - start <= f.end_s + limit]
        first = min(hits, key=lambda r: r["received_ms"]) if hits else None
        latency = round(first["received_ms"] / 1000 - start - due, 1) if first else None
        ok = first is not None and latency is not None and latency <= limit
        out.required += 1
        out.required_list.append({"kind": f.kind, "at_s": due, "detected": ok, "latency_s": latency,
                                  "rule": f"due {due_in} s after the {f.kind} began"})
        if first and ok and latency is not None:
            out.detected += 1
            out.latencies_s.append(latency)
            out.answered[(first["device"], first["seq"])] = latency
        else:
            out.missed.append({"gnss": f.kind, "at_s": f.start_s, "why": "late" if hits else f"no {f.kind} alert"})
    for name, (kind, _) in KINDS.items():
        spells = [(f.start_s, f.end_s + limit) for f in sc.faults if f.kind == name]
        for r in stored:
            t = r["utc"] - start
            if r["kind"] == kind and not any(a <= t <= b for a, b in spells):
                out.false.append({"gnss": f"{name} suspected with no {name}", "at_s": t})
                out.false_keys.add((r["device"], r["seq"]))
    return out


def _fair(sc: Scenario, truth: list[TruePoint], a: int, b: int) -> bool:
    """Whether the tag's rule could speak: the link up throughout, the wearer away from home."""
    if any(g0 < b and a < g1 for g0, g1 in sc.coverage_gaps):
        return False
    if sc.home is None:
        return True
    p = truth[min(a, len(truth) - 1)]
    _, _, d = GEOD.inv(sc.home[1], sc.home[0], p.lon, p.lat)
    return bool(d > 2 * HOME_RADIUS_M)
