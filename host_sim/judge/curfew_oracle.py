"""Ground truth for a curfew, from the TRUE trace and the scenario's schedule
(zoneinfo for London time, pyproj for distance); never firmware code.

Second by second: enforced (scheduled now, a late-return grace ago and an
early-leave grace ahead, one-off changes overriding the week), home (within
property_m of the unit: garden and doorstep too) and away (beyond away_m).
- A required absence alert: for each enforced spell and each away spell, the
  moment the wearer has been away for the absence timeout with the curfew
  enforced, if both last SLACK_S longer. It is due then (the "breach time", from
  which latency counts); an absence or left-during-curfew alert stamped from the
  later of his departure and the curfew's start, to the end of either spell (plus
  the latency limit), meets it.
- A false absence alert: stamped outside enforcement (beyond SLACK_S), or after
  the wearer has been home for the whole absence timeout before it.
- A false presence: "returned" while the wearer has been away for a minute.
- A replayer's recording requires a spoof alert stamped while it plays; a
  spoof alert at any other time is false. Each mains-off spell requires a
  mains-lost alert within SLACK_S of the cut.
- The unit's backup battery (drained with the mains off, the scenario's model)
  falling to LOW_MV requires the unit's battery-low alert within SLACK_S, once
  until it is charged back above REARM_MV; one raised while it has stood above
  LOW_MV for SLACK_S is false.
A unit standing beyond the registered home's circle and 300 m requires the tag's
"unit moved" when the wearer first comes beside it; one raised at home is false.
The rules are the curfew's until the centre's first order and each order's from
its time on (the unit has it within a minute; scenarios order well ahead).
Between home and away everything is grey.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from host_sim.judge.oracle import GEOD, runs, schedule_mask
from host_sim.world.scenario import HOME_RADIUS_M, UNIT_MOVED_M, Curfew, Scenario
from host_sim.world.trace import TruePoint

SLACK_S = 60  # adverts every 1 to 10 s, lost ones, checks every 5 s
# A single Li-ion cell at rest: 20 % left at 3.65 V, the programme's "battery low"; 30 % at 3.7 V
LOW_MV, REARM_MV = 3650, 3700


@dataclass
class CurfewTruth:
    enforced: np.ndarray  # bool per second
    home: np.ndarray
    away: np.ndarray
    distance_m: np.ndarray


@dataclass
class Required:
    kind: str  # absence, spoof, mains_lost
    from_t: int  # an alert stamped from here ...
    until_t: int  # ... to here meets it (seconds from the start)
    breach_t: int  # latency counts from here


def scheduled(c: Curfew, start_utc: int, n: int) -> np.ndarray:
    out = schedule_mask(c.schedule, start_utc, n)
    utc = start_utc + np.arange(n)
    for a, b, in_force in c.changes:
        out[(utc >= a) & (utc < b)] = in_force
    return out


def _enforced(c: Curfew, start_utc: int, n: int) -> np.ndarray:
    late, early = c.late_return_grace_s, c.early_leave_grace_s
    # the schedule from late before the start to early after the end, so each second sees both graces
    wide = scheduled(c, start_utc - late, n + late + early)
    out: np.ndarray = wide[late:late + n] & wide[:n] & wide[late + early:late + early + n]
    return out


def truth(sc: Scenario, trace: list[TruePoint]) -> CurfewTruth:
    c = sc.curfew
    assert c is not None
    n = len(trace)
    enforced = _enforced(c, sc.start_utc, n)
    for at, rules in c.orders:  # from each order on, its rules
        enforced[at:] = _enforced(rules, sc.start_utc, n)[at:]
    lats = np.array([p.lat for p in trace])
    lons = np.array([p.lon for p in trace])
    _, _, dist = GEOD.inv(np.full(n, c.unit[1]), np.full(n, c.unit[0]), lons, lats)
    d = np.asarray(dist)
    return CurfewTruth(enforced, d <= c.property_m, d > c.away_m, d)


def required(sc: Scenario, ct: CurfewTruth) -> list[Required]:
    c = sc.curfew
    assert c is not None
    out = []
    spells = runs(ct.enforced)
    for a0, a1 in runs(ct.away):
        left = a0
        while left > 0 and not ct.home[left - 1]:
            left -= 1  # departure: the last time the wearer was home
        for e0, e1 in spells:  # each curfew he is away for is its own breach
            t = max(a0 + c.in_force(a0).absence_timeout_s, e0)
            if t + SLACK_S <= min(a1, e1):
                out.append(Required("absence", max(left, e0), min(a1, e1), t))
    if c.replayer:
        a, b = c.replayer.replay
        out.append(Required("spoof", a, b, a))
    for a, _ in c.mains_off:
        out.append(Required("mains_lost", a, a + SLACK_S, a))
    out += [Required("battery_low", t, t + SLACK_S, t) for t in backup_low(c, len(ct.enforced))]
    return out


def backup_low(c: Curfew, n: int) -> list[int]:
    """The seconds the unit's backup battery falls to LOW_MV, each once until recharged."""
    if not c.backup.drain_mv_per_h and c.backup.start_mv > LOW_MV:
        return []  # never drained, never low: no second need be read
    out, armed = [], True
    for t in range(n):
        mv = c.backup_mv(t)
        if armed and mv <= LOW_MV:
            out.append(t)
            armed = False
        elif mv > REARM_MV:
            armed = True
    return out


def false_backup_low(sc: Scenario, t: int) -> bool:
    c = sc.curfew
    assert c is not None
    return min(c.backup_mv(t), c.backup_mv(max(0, t - SLACK_S))) > LOW_MV


def false_absence(sc: Scenario, ct: CurfewTruth, t: int) -> bool:
    c = sc.curfew
    assert c is not None
    lo, hi = max(0, t - SLACK_S), min(len(ct.enforced), t + SLACK_S + 1)
    if not ct.enforced[lo:hi].any():
        return True
    timeout = c.in_force(t).absence_timeout_s
    return t >= timeout and bool(ct.home[t - timeout:t + 1].all())


def false_presence(ct: CurfewTruth, t: int) -> bool:
    return t >= SLACK_S and bool(ct.away[t - SLACK_S:t + 1].all())


def false_spoof(sc: Scenario, t: int) -> bool:
    c = sc.curfew
    assert c is not None
    return not (c.replayer and c.replayer.replay[0] <= t <= c.replayer.replay[1] + SLACK_S)


def false_mains(sc: Scenario, t: int) -> bool:
    c = sc.curfew
    assert c is not None
    return not any(a <= t <= a + SLACK_S for a, _ in c.mains_off)


def unit_moved(sc: Scenario) -> bool | None:
    """Whether the unit stands away from the registered home: True beyond the tag's home
    circle and its 300 m allowance by 100 m more, False within them by 100 m, None
    between (grey) or with no home registered."""
    c = sc.curfew
    assert c is not None
    if sc.home is None:
        return None
    _, _, d = GEOD.inv(sc.home[1], sc.home[0], c.unit[1], c.unit[0])
    edge = HOME_RADIUS_M + UNIT_MOVED_M
    return True if d > edge + 100 else False if d < edge - 100 else None
