"""A scenario's alcohol tag scored (docs/alcohol.md), from the true blood alcohol
(Widmark's model on the scenario's drinks) and the scenario's exposures, barriers
and removals: never from what the tag's sensors read.

- Drinking: each spell of blood alcohol above THRESHOLD whose peak reaches the
  scenario's must_peak_g_dl requires a "drinking" event whose episode is open at
  some time from the spell's start to REPORT_WITHIN_S after its end (one opened
  by an earlier spell and still open counts) (sweat lags the blood by an hour or two,
  and the tag confirms on readings ten minutes apart), and received at the centre
  by the end of the run (through any coverage gap). Its latency runs from the
  spell's start to the event's arrival. A spell above the threshold that peaks
  lower may be reported or not: the sweat's lower, later peak may stay under the
  tag's threshold. A spell whose sweat the sensor could not reach (a barrier or
  a removal or a sensor fault at any time from its start to REPORT_WITHIN_S after
  its end) owes no drinking event: that spell's alert is owed instead.
- A "drinking" event with no blood alcohol above TRACE in the LOOKBACK_S before
  its stamp is false; so is "environmental alcohol" with no exposure in the
  SPIKE_S before it.
- A barrier, a removal or a sensor fault lasting REQUIRED_S or more requires its
  event stamped within DUE_S of its start. Any of them outside every spell of its
  kind (and DUE_S after it) is false: a tag off the ankle must say removed, not
  obstructed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from host_sim.centre import episodes as centre_episodes
from host_sim.judge.curfew_score import CurfewScore
from host_sim.wire import Kind
from host_sim.world.alcohol import episodes
from host_sim.world.scenario import Scenario

THRESHOLD = 0.02  # g/dL
TRACE = 0.01
REPORT_WITHIN_S = 5 * 3600
LOOKBACK_S = 10 * 3600
SPIKE_S = 2 * 3600
REQUIRED_S = 2 * 3600
DUE_S = 2 * 3600  # two readings 30 min apart, after the skin has cooled or the readings flattened


def score(sc: Scenario, blood: np.ndarray, stored: list[dict[str, Any]]) -> CurfewScore:
    spec = sc.alcohol
    assert spec is not None
    out = CurfewScore()
    start = sc.start_utc
    said = {k: [r for r in stored if r["kind"] == k] for k in (Kind.DRINKING, Kind.ENVIRONMENTAL_ALCOHOL,
                                                                Kind.SENSOR_REMOVED, Kind.SENSOR_OBSTRUCTED,
                                                                Kind.SENSOR_FAULT)}
    ends = sorted(r["utc"] for r in stored if r["kind"] == Kind.DRINKING_ENDED)
    for a, b, peak in episodes(blood, THRESHOLD):
        if peak < spec.must_peak_g_dl:
            continue
        a_s, b_s = a * 60, b * 60
        if any(x < b_s + REPORT_WITHIN_S and a_s < y for x, y in (*spec.obstruction, *spec.removal,
                                                                  *spec.sensor_fault)):
            continue  # hidden from the sensor: the barrier's, the removal's or the fault's own alert is owed instead
        hits = [r for r in said[Kind.DRINKING] if covers(r, ends, start, a_s, b_s + REPORT_WITHIN_S)]
        _require(out, "drinking", a_s, hits, f"blood alcohol above {THRESHOLD} g/dL from {a_s} s, peaking at "
                                             f"{peak:.3f}: a drinking event stamped by {REPORT_WITHIN_S} s after "
                                             f"it falls below", start)
    for kind, spells, what in ((Kind.SENSOR_OBSTRUCTED, spec.obstruction, "obstruction"),
                               (Kind.SENSOR_REMOVED, spec.removal, "removal"),
                               (Kind.SENSOR_FAULT, spec.sensor_fault, "sensor fault")):
        for a_s, b_s in spells:
            if b_s - a_s < REQUIRED_S:
                continue
            hits = [r for r in said[kind] if a_s <= r["utc"] - start <= a_s + DUE_S]
            _require(out, what, a_s, hits, f"stamped within {DUE_S} s of the {what}'s start", start)
        for r in said[kind]:
            t = r["utc"] - start
            if not any(a_s <= t <= b_s + DUE_S for a_s, b_s in spells):
                _false(out, r, f"{what} with none", start)
    for r in said[Kind.DRINKING]:
        m = (r["utc"] - start) // 60
        if not (blood[max(0, m - LOOKBACK_S // 60) : max(0, m) + 1] > TRACE).any():
            _false(out, r, f"drinking with no blood alcohol above {TRACE} g/dL in the {LOOKBACK_S} s before", start)
    for r in said[Kind.ENVIRONMENTAL_ALCOHOL]:
        t = r["utc"] - start
        if not any(0 <= t - e.at_s <= SPIKE_S for e in spec.exposures):
            _false(out, r, "environmental alcohol with no exposure", start)
    return out


def episode_figures(sc: Scenario, blood: np.ndarray, stored: list[dict[str, Any]],
                    tag: CurfewScore) -> dict[str, int]:
    """Drinking episodes against the oracle, as the tag reported them (its events 71,
    tag: score() of them) and as the centre judged them from the readings
    (host_sim/centre/episodes.py): the episodes owed, and each side's reported and
    false ones."""
    found = centre_episodes.of_centre(stored)
    ends = [{"kind": Kind.DRINKING_ENDED, "utc": e.end_utc} for e in found if e.body and e.end_utc is not None]
    opened = [{"kind": Kind.DRINKING, "utc": e.start_utc, "received_ms": e.received_ms, "device": e.device,
               "seq": -k} for k, e in enumerate(found) if e.body]
    out = {"owed": sum(r["kind"] == "drinking" for r in tag.required_list)}
    for side, got in (("tag", tag), ("centre", score(sc, blood, opened + ends))):
        out[f"{side}_reported"] = sum(r["detected"] for r in got.required_list if r["kind"] == "drinking")
        out[f"{side}_false"] = sum(f["alcohol"].startswith("drinking") for f in got.false)
    out["centre_not_a_body"] = sum(not e.body for e in found)
    return out


def covers(r: dict[str, Any], ends: list[int], start: int, a_s: int, until_s: int) -> bool:
    """Whether the episode this drinking event opened was open at some time from a_s to until_s
    (s from the start): an episode already open when a spell begins reports it too."""
    end = next((e for e in ends if e >= r["utc"]), None)
    return r["utc"] - start <= until_s and (end is None or end - start >= a_s)


def _require(out: CurfewScore, kind: str, due_s: int, hits: list[dict[str, Any]], rule: str, start: int) -> None:
    first = min(hits, key=lambda r: r["received_ms"]) if hits else None
    latency = round(first["received_ms"] / 1000 - start - due_s, 1) if first else None
    out.required += 1
    out.required_list.append({"kind": kind, "at_s": due_s, "detected": first is not None, "latency_s": latency,
                              "rule": rule})
    if first is not None and latency is not None:
        out.detected += 1
        out.answered[(first["device"], first["seq"])] = latency
    else:
        out.missed.append({"alcohol": kind, "at_s": due_s, "why": f"no {kind} event in time"})


def _false(out: CurfewScore, r: dict[str, Any], why: str, start: int) -> None:
    out.false.append({"alcohol": why, "at_s": r["utc"] - start})
    out.false_keys.add((r["device"], r["seq"]))
