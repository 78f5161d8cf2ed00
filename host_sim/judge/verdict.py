"""A run's verdict: the oracle's required alerts matched against the breach events the
centre received (each within the latency limit), false alerts (every confirming fix
taken well clear of the zone, or the zone out of force), tamper stamped and delivered
in time, the curfew's own score, and the centre's comms-loss alerts for a home unit
that went quiet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from host_sim.centre.server import SILENCE_S
from host_sim.judge import curfew_score, oracle
from host_sim.run.home_unit import unit_id
from host_sim.run.sim import ENTER, WARN_ENTER, Event, Run
from host_sim.wire import Kind
from host_sim.world.scenario import Scenario

CONFIRM_WINDOW_S = 2  # an event's confirming fixes: its own second and the two before
TAMPER_STAMP_S = 5  # NIJ: a tamper time-stamped within 5 s (either side: a clock set from the cell runs a second
# or two off) ...
TAMPER_DELIVERY_S = 180  # ... and at the centre within 3 min of that stamp
COMMS_SLACK_S = 120  # a comms-loss alert: SILENCE_S after the last call, checked once a minute, calls once a minute


@dataclass
class Result:
    name: str
    passed: bool
    must_alert: int
    detected: int
    false_alerts: int
    latencies_s: list[float]
    warnings: int
    missed: list[dict[str, Any]]
    false: list[dict[str, Any]]
    tamper_latencies_s: list[float]
    energy: dict[str, object]
    fixes: int
    valid_fixes: int
    heap_peak_bytes: int
    duration_s: int
    wall_s: float
    events: list[Event] = field(default_factory=list)
    required: list[dict[str, Any]] = field(default_factory=list)
    silences: list[dict[str, Any]] = field(default_factory=list)  # comms-loss alerts, seconds from the start

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "passed": self.passed, "must_alert": self.must_alert,
            "detected": self.detected, "false_alerts": self.false_alerts, "latencies_s": self.latencies_s,
            "warnings": self.warnings, "missed": self.missed, "false": self.false,
            "tamper_latencies_s": self.tamper_latencies_s, "energy": self.energy, "fixes": self.fixes,
            "valid_fixes": self.valid_fixes, "heap_peak_bytes": self.heap_peak_bytes,
            "duration_s": self.duration_s, "required": self.required, "silences": self.silences,
        }


def crashed(sc: Scenario, e: Exception) -> dict[str, Any]:
    """The result of a scenario whose run stopped with e (the firmware died, say): failed,
    nothing detected, and why in "error"."""
    return {**Result(sc.name, False, 0, 0, 0, [], 0, [], [], [], {}, 0, 0, -1, sc.duration_s, 0.0).as_dict(),
            "error": f"{type(e).__name__}: {e}"}


def score(run: Run) -> Result:
    sc = run.scenario
    zt = oracle.truths(sc, run.truth)
    musts = oracle.must_alerts(sc, zt)
    breaches = [e for e in run.events if e.kind == ENTER and 0 <= e.zone < len(sc.zones)]
    start = sc.start_utc
    latencies, missed = [], []
    required: list[dict[str, Any]] = []  # every alert the oracle asked for, and what became of it
    for m in musts:
        entry_ms = (start + m.entry_t) * 1000
        limit_ms = (start + m.end_t + sc.oracle.latency_limit_s) * 1000
        hits = [e.received_ms for e in breaches if e.zone == m.zone and entry_ms <= e.received_ms <= limit_ms]
        latency = (min(hits) - entry_ms) / 1000 if hits else None
        ok = latency is not None and latency <= sc.oracle.latency_limit_s
        required.append({"kind": "zone", "zone": sc.zones[m.zone].name, "at_s": m.entry_t, "detected": ok,
                         "latency_s": round(latency, 1) if latency is not None else None})
        if latency is not None and ok:
            latencies.append(round(latency, 1))
        else:
            missed.append({"zone": sc.zones[m.zone].name, "entry_s": m.entry_t, "end_s": m.end_t,
                           "why": "late" if hits else "no breach event"})
    false = []
    for e in breaches:
        t = min(max(0, e.confirm_utc - start), len(run.truth) - 1)
        t_first = max(0, t - CONFIRM_WINDOW_S)
        if all(zt[e.zone].false_at(s, sc.oracle.safe_distance_m) for s in range(t_first, t + 1)):
            false.append({"zone": sc.zones[e.zone].name, "at_s": t,
                          "true_depth_m": round(float(zt[e.zone].depth_m[t]), 1)})
    tamper_latencies = []
    opened = [(p, run.stored, p.name) for p in sc.inputs if p.opened]
    opened += [(p, run.unit_stored, f"unit {p.name}") for p in (sc.curfew.inputs if sc.curfew else []) if p.opened]
    for pin, stored, what in opened:
        kind = Kind.TAMPER_STRAP if pin.name == "strap" else Kind.TAMPER_CASE
        t = start + pin.at_s
        seen = [r for r in stored if r["kind"] == kind and abs(r["utc"] - t) <= TAMPER_STAMP_S]
        if seen and seen[0]["received_ms"] <= seen[0]["utc"] * 1000 + TAMPER_DELIVERY_S * 1000:
            tamper_latencies.append(round(seen[0]["received_ms"] / 1000 - t, 1))
        else:
            missed.append({"tamper": what, "at_s": pin.at_s,
                           "why": "late" if seen else f"no {what} tamper stamped within {TAMPER_STAMP_S} s"})
    detected = len(musts) - len([m for m in missed if "zone" in m])
    curfew = (curfew_score.score(sc, run.truth, run.unit_stored, run.stored) if sc.curfew
              else curfew_score.CurfewScore())
    missed += curfew.missed
    false += curfew.false
    must = len(musts) + curfew.required
    detected += curfew.detected
    latencies += curfew.latencies_s
    required += curfew.required_list
    silences = [{"device": q["device"], "silent_from_s": (q["last_heard_ms"] - start * 1000) / 1000,
                 "raised_s": (q["raised_ms"] - start * 1000) / 1000,
                 "ended_s": None if q["ended_ms"] is None else (q["ended_ms"] - start * 1000) / 1000}
                for q in run.silences]
    for a, b in sc.curfew.unit_off if sc.curfew else []:
        if b - a < SILENCE_S + COMMS_SLACK_S:
            continue  # back before the centre owes an alert
        must += 1
        hit = [q for q in silences if q["device"] == unit_id(sc) and q["silent_from_s"] <= a
               and a < q["raised_s"] <= a + SILENCE_S + COMMS_SLACK_S]
        required.append({"kind": "comms_lost", "at_s": a, "latency_s": hit[0]["raised_s"] - a if hit else None,
                         "detected": bool(hit)})
        if hit:
            detected += 1
        else:
            missed.append({"comms_lost": "home unit", "at_s": a,
                           "why": f"no comms-loss alert within {SILENCE_S + COMMS_SLACK_S} s of its power going"})
    return Result(sc.name, not missed and not false, must, detected, len(false), latencies,
                  sum(e.kind == WARN_ENTER for e in run.events), missed, false, tamper_latencies,
                  run.energy.as_dict() if run.energy else {}, run.fixes,
                  run.valid_fixes,
                  run.counters.get("heap_peak", -1), sc.duration_s, round(run.wall_s, 2), run.events, required,
                  silences)
