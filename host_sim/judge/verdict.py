"""A run's verdict: the oracle's required alerts matched against the breach events the
centre received (each within the latency limit), false alerts (every confirming fix
taken well clear of the zone, or the zone out of force), tamper stamped and delivered
in time, the curfew's own score, and the centre's comms-loss alerts for a home unit
that went quiet.

Every alert the centre holds is then classified, once: "required" (it answered a
requirement, with its latency), "false" (the oracle forbids it), or "acceptable"
(real, but nothing required it: a breach shallower than the rule, a warning, a
location lost the rule did not ask for)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from host_sim.centre.server import SILENCE_S
from host_sim.centre.views import iso
from host_sim.judge import alcohol_score, curfew_score, fault_score, oracle
from host_sim.run.home_unit import tag_id, unit_id
from host_sim.run.sim import ENTER, WARN_ENTER, Event, Run
from host_sim.wire import ALERTS, EVENT_NAMES, Kind
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
    alerts: list[dict[str, Any]] = field(default_factory=list)  # every alert, classified
    episodes: dict[str, int] | None = None  # an alcohol tag's: alcohol_score.episode_figures

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "passed": self.passed, "must_alert": self.must_alert,
            "detected": self.detected, "false_alerts": self.false_alerts, "latencies_s": self.latencies_s,
            "warnings": self.warnings, "missed": self.missed, "false": self.false,
            "tamper_latencies_s": self.tamper_latencies_s, "energy": self.energy, "fixes": self.fixes,
            "valid_fixes": self.valid_fixes, "heap_peak_bytes": self.heap_peak_bytes,
            "duration_s": self.duration_s, "required": self.required, "silences": self.silences,
            "alerts": self.alerts, "acceptable": sum(a["class"] == "acceptable" for a in self.alerts),
        } | ({"episodes": self.episodes} if self.episodes is not None else {})


def crashed(sc: Scenario, e: Exception) -> dict[str, Any]:
    """The result of a scenario whose run stopped with e (the firmware died, say): failed,
    nothing detected, and why in "error"."""
    return {**Result(sc.name, False, 0, 0, 0, [], 0, [], [], [], {}, 0, 0, -1, sc.duration_s, 0.0).as_dict(),
            "error": f"{type(e).__name__}: {e}"}


def score(run: Run) -> Result:
    sc = run.scenario
    zt = oracle.truths(sc, run.truth)
    breaches = [e for e in run.events if e.kind == ENTER and 0 <= e.zone < len(sc.zones)]
    start, limit = sc.start_utc, sc.oracle.latency_limit_s
    answered: dict[Any, float] = {}  # an alert's key, (device, seq), -> the latency of what it answered
    false_keys: set[Any] = set()
    latencies, missed = [], []
    required: list[dict[str, Any]] = []  # every alert the oracle asked for, and what became of it
    for m in oracle.must_alerts(sc, zt):
        zone = sc.zones[m.zone].name
        if m.kind == "breach":
            due_ms = (start + m.entry_t) * 1000
            hits = [(e.received_ms, e.seq) for e in breaches
                    if e.zone == m.zone and due_ms <= e.received_ms <= (start + m.end_t + limit) * 1000]
        else:  # unseen: a location-unavailable alert stamped in the outage answers it
            due_ms = (start + m.deep_t) * 1000
            hits = [(r["received_ms"], r["seq"]) for r in run.stored
                    if r["kind"] in (Kind.LOCATION_LOST, Kind.SHIELDING, Kind.JAMMING, Kind.SPOOFING)
                    and m.outage_t <= r["utc"] - start <= m.end_t + limit]
        first = min(hits) if hits else None
        latency = round((first[0] - due_ms) / 1000, 1) if first else None
        ok = latency is not None and latency <= limit
        required.append({"kind": "zone" if m.kind == "breach" else m.kind, "zone": zone, "at_s": m.entry_t,
                         "detected": ok, "latency_s": latency})
        if first and ok and latency is not None:
            latencies.append(latency)
            answered[(tag_id(sc), first[1])] = latency
        else:
            missed.append({"zone": zone, "entry_s": m.entry_t, "end_s": m.end_t,
                           "why": "late" if hits else "no breach event" if m.kind == "breach"
                           else f"no location-unavailable alert (the incursion was unseen from {m.outage_t} s)"})
    false = []
    for e in breaches:
        t = min(max(0, e.confirm_utc - start), len(run.truth) - 1)
        t_first = max(0, t - CONFIRM_WINDOW_S)
        if all(zt[e.zone].false_at(s, sc.oracle.safe_distance_m) for s in range(t_first, t + 1)):
            false.append({"zone": sc.zones[e.zone].name, "at_s": t,
                          "true_depth_m": round(float(zt[e.zone].depth_m[t]), 1)})
            false_keys.add((tag_id(sc), e.seq))
    detected = len(required) - len(missed)
    tamper_latencies = []
    pins = [(p, run.stored) for p in sc.inputs] + [(p, run.unit_stored) for p in sc.curfew.inputs] \
        if sc.curfew else [(p, run.stored) for p in sc.inputs]
    for pin, stored in pins:
        if not pin.opened:
            continue
        what = pin.name if stored is run.stored else f"unit {pin.name}"
        kind = Kind.TAMPER_STRAP if pin.name == "strap" else Kind.TAMPER_CASE
        t = start + pin.at_s
        seen = [r for r in stored if r["kind"] == kind and abs(r["utc"] - t) <= TAMPER_STAMP_S]
        ok = bool(seen) and seen[0]["received_ms"] <= seen[0]["utc"] * 1000 + TAMPER_DELIVERY_S * 1000
        latency = round(seen[0]["received_ms"] / 1000 - t, 1) if seen else None
        required.append({"kind": EVENT_NAMES[kind], "at_s": pin.at_s, "detected": ok, "latency_s": latency,
                         "rule": f"stamped within {TAMPER_STAMP_S} s of the opening, at the centre within "
                                 f"{TAMPER_DELIVERY_S} s of the stamp"})
        if ok and latency is not None:
            detected += 1
            tamper_latencies.append(latency)
            answered[(seen[0]["device"], seen[0]["seq"])] = latency
        else:
            missed.append({"tamper": what, "at_s": pin.at_s,
                           "why": "late" if seen else f"no {what} tamper stamped within {TAMPER_STAMP_S} s"})
    for r in run.stored + run.unit_stored:  # a tamper with that switch never opened before it
        if r["kind"] in (Kind.TAMPER_STRAP, Kind.TAMPER_CASE) and not _opened_before(sc, r):
            false.append({"tamper": EVENT_NAMES[r["kind"]], "at_s": r["utc"] - start,
                          "why": "never opened before it"})
            false_keys.add((r["device"], r["seq"]))
    must = len(required)
    alcohol = alcohol_score.score(sc, run.alcohol.bac, run.stored) if run.alcohol is not None else None
    for part in (curfew_score.score(sc, run.truth, run.unit_stored, run.stored) if sc.curfew else None,
                 fault_score.score(sc, run.truth, run.stored), alcohol):
        if part is None:
            continue
        missed += part.missed
        false += part.false
        must += part.required
        detected += part.detected
        latencies += part.latencies_s
        required += part.required_list
        answered |= part.answered
        false_keys |= part.false_keys
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
                         "detected": bool(hit), "rule": f"due when the unit's power goes; raised after "
                                                        f"{SILENCE_S} s of silence"})
        if hit:
            detected += 1
            answered[("centre", hit[0]["device"], hit[0]["raised_s"])] = hit[0]["raised_s"] - a
        else:
            missed.append({"comms_lost": "home unit", "at_s": a,
                           "why": f"no comms-loss alert within {SILENCE_S + COMMS_SLACK_S} s of its power going"})
    return Result(sc.name, not missed and not false, must, detected, len(false), latencies,
                  sum(e.kind == WARN_ENTER for e in run.events), missed, false, tamper_latencies,
                  run.energy.as_dict() if run.energy else {}, run.fixes,
                  run.valid_fixes,
                  run.counters.get("heap_peak", -1), sc.duration_s, round(run.wall_s, 2), run.events, required,
                  silences, classify(run, answered, false_keys, silences),
                  alcohol_score.episode_figures(sc, run.alcohol.bac, run.stored, alcohol)
                  if run.alcohol is not None and alcohol is not None else None)


def _opened_before(sc: Scenario, r: dict[str, Any]) -> bool:
    """Whether the alert's switch was opened at or before its stamp (a clock a few seconds off allowed)."""
    pins = sc.inputs if r["device"] == tag_id(sc) else sc.curfew.inputs if sc.curfew else []
    name = "strap" if r["kind"] == Kind.TAMPER_STRAP else "case"
    return any(p.opened and p.name == name and sc.start_utc + p.at_s <= r["utc"] + TAMPER_STAMP_S for p in pins)


def classify(run: Run, answered: dict[Any, float], false_keys: set[Any],
             silences: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every alert the centre holds, in the order received, each with one class."""
    sc = run.scenario
    zones = {(tag_id(sc), e.seq): sc.zones[e.zone].name for e in run.events if 0 <= e.zone < len(sc.zones)}
    out = []
    for r in sorted(run.stored + run.unit_stored, key=lambda r: (r["received_ms"], r["device"], r["seq"])):
        if r["kind"] not in ALERTS:
            continue
        key: Any = (r["device"], r["seq"])
        a: dict[str, Any] = {"kind": EVENT_NAMES[r["kind"]], "device": r["device"], "seq": r["seq"],
                             "time": iso(r["utc"]), "at_s": r["utc"] - sc.start_utc,
                             "received_s": round(r["received_ms"] / 1000 - sc.start_utc, 1)}
        if key in zones:
            a["zone"] = zones[key]
        a |= _class(key, answered, false_keys)
        out.append(a)
    for q in silences:
        key = ("centre", q["device"], q["raised_s"])
        out.append({"kind": "comms_lost", "device": q["device"], "time": iso(sc.start_utc + int(q["raised_s"])),
                    "at_s": q["raised_s"], "received_s": q["raised_s"], **_class(key, answered, false_keys)})
    return out


def _class(key: Any, answered: dict[Any, float], false_keys: set[Any]) -> dict[str, Any]:
    if key in answered:
        return {"class": "required", "latency_s": answered[key]}
    return {"class": "false" if key in false_keys else "acceptable"}
