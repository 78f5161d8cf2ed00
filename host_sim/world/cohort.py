"""A synthetic pilot cohort, deterministic from a seed: wearers across East and
West Midlands towns, each with a home, one or two victims' addresses with
exclusion zones, a curfew for some, a day of ordinary routine (work, shops,
visits, an evening out; on foot, by bus or by car) and, for a configurable share,
a planted breach: a visit to a victim's street, or a night out during curfew.

Each wearer is written as an ordinary scenario file (host_sim/world/scenario.py), so
`tagsim run` and `tagsim fleet run` treat them like the pilot library. The
manifest, cohort.json, records what was planted; the oracle still decides, from
the true trace alone, what each run must alert on.

Innocent journeys keep well clear of every zone and its warning ring
(CLEAR_M), so what a tag is asked to alert on is what was planted."""

from __future__ import annotations

import csv
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from host_sim.world.scenario import MODES
from host_sim.world.trace import BUS_STOP_EVERY_M, BUS_STOP_S

TOWNS = {  # a residential district in each: (lat, lon)
    "Birmingham": (52.4620, -1.9000), "Coventry": (52.4060, -1.5250), "Wolverhampton": (52.5900, -2.1400),
    "Walsall": (52.5850, -1.9750), "Dudley": (52.5100, -2.0900), "West Bromwich": (52.5200, -1.9950),
    "Solihull": (52.4150, -1.7800), "Nottingham": (52.9500, -1.1700), "Leicester": (52.6300, -1.1300),
    "Derby": (52.9150, -1.4800), "Northampton": (52.2400, -0.9000), "Lincoln": (53.2250, -0.5500),
    "Stoke-on-Trent": (53.0100, -2.1800), "Telford": (52.6800, -2.4500), "Worcester": (52.1900, -2.2200),
    "Mansfield": (53.1450, -1.2000), "Loughborough": (52.7700, -1.2100), "Nuneaton": (52.5200, -1.4700),
}
FIRST_DAY = date(2026, 12, 7)  # a Monday; wearer k starts k % 7 days later, so every weekday is seen
CLEAR_M = 400.0  # innocent journeys stay this far beyond a zone's warning ring
CURFEWS = (("19:00", "07:00"), ("20:00", "06:00"), ("21:00", "07:00"))
DIALECTS = ("sim7000", "sim800", "a7670")
M_PER_DEG = 111_195.0
DAY_S = 86400


def _offset(p: tuple[float, float], metres: float, bearing_deg: float) -> tuple[float, float]:
    b = math.radians(bearing_deg)
    lat = p[0] + metres * math.cos(b) / M_PER_DEG
    lon = p[1] + metres * math.sin(b) / (M_PER_DEG * math.cos(math.radians(p[0])))
    return round(lat, 6), round(lon, 6)


def _xy(p: tuple[float, float], origin: tuple[float, float]) -> tuple[float, float]:
    return ((p[1] - origin[1]) * M_PER_DEG * math.cos(math.radians(origin[0])), (p[0] - origin[0]) * M_PER_DEG)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(*_xy(b, a))


def _segment_distance(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
    """Metres from c to the segment a-b."""
    bx, by = _xy(b, a)
    cx, cy = _xy(c, a)
    n = bx * bx + by * by
    f = 0.0 if n == 0 else max(0.0, min(1.0, (cx * bx + cy * by) / n))
    return math.hypot(cx - f * bx, cy - f * by)


@dataclass
class Zone:
    centre: tuple[float, float]
    radius_m: int
    warning_m: int = 100


@dataclass
class Day:
    """One wearer's day as legs, with the time (s after local midnight) and place so far."""

    home: tuple[float, float]
    has_car: bool
    zones: list[Zone]
    legs: list[dict[str, Any]] = field(default_factory=list)
    t: int = 0
    at: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        self.at = self.home

    def mode(self, to: tuple[float, float], start: tuple[float, float] | None = None) -> str:
        d = _metres(start or self.at, to)
        return "walk" if d < 1200 else "car" if self.has_car else "bus"

    def travel_s(self, to: tuple[float, float], mode: str, start: tuple[float, float] | None = None) -> int:
        d = _metres(start or self.at, to)
        stops = int(d // BUS_STOP_EVERY_M) * BUS_STOP_S if mode == "bus" else 0
        return math.ceil(d / MODES[mode]) + stops

    def clear(self, a: tuple[float, float], b: tuple[float, float], allow: Zone | None = None) -> bool:
        """The straight way from a to b keeps CLEAR_M beyond every warning ring (but allow's)."""
        return all(_segment_distance(a, b, z.centre) > z.radius_m + z.warning_m + CLEAR_M
                   for z in self.zones if z is not allow)

    def go(self, to: tuple[float, float], env: str = "open_sky") -> None:
        mode = self.mode(to)
        self.legs.append({"to": {"lat": to[0], "lon": to[1]}, "mode": mode, "env": env})
        self.t += self.travel_s(to, mode)
        self.at = to

    def stay(self, seconds: int, env: str = "indoors") -> None:
        if seconds > 0:
            self.legs.append({"dwell": f"{seconds}s", "env": env})
            self.t += seconds

    def stay_until(self, t: int, env: str = "indoors") -> None:
        self.stay(t - self.t, env)

    def place(self, rnd: random.Random, near: tuple[float, float], lo_m: float, hi_m: float
              ) -> tuple[float, float] | None:
        """A destination lo_m to hi_m from near, reachable there and back clear of every zone."""
        for _ in range(40):
            p = _offset(near, rnd.uniform(lo_m, hi_m), rnd.uniform(0, 360))
            if self.clear(self.at, p) and self.clear(p, self.home):
                return p
        return None

    def trip(self, rnd: random.Random, lo_m: float, hi_m: float, stay_s: int, env: str = "indoors",
             back_by: int = DAY_S) -> bool:
        """Out to somewhere new, stay, and home again, if that fits before back_by."""
        p = self.place(rnd, self.home, lo_m, hi_m)
        if p is None:
            return False
        there = self.travel_s(p, self.mode(p))
        if self.t + 2 * there + stay_s + 900 > back_by:  # a quarter of an hour to spare
            return False
        self.go(p)
        self.stay(stay_s, env)
        self.go(self.home)
        return True


def _hhmm(s: str) -> int:
    h, m = s.split(":")
    return int(h) * 3600 + int(m) * 60


def wearer(k: int, seed: int, breach_share: float, curfew_share: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """(scenario as a mapping, manifest entry) for wearer k."""
    rnd = random.Random(seed * 1_000_003 + k)
    name = f"tag-{k + 1:04d}"
    town = list(TOWNS)[rnd.randrange(len(TOWNS))]
    home = _offset(TOWNS[town], rnd.uniform(0, 2000), rnd.uniform(0, 360))
    zones = [Zone(_offset(home, rnd.uniform(1500, 4000), rnd.uniform(0, 360)), rnd.choice([150, 200, 250, 300]))
             for _ in range(1 if rnd.random() < 0.7 else 2)]
    curfew = rnd.choice(CURFEWS) if rnd.random() < curfew_share else None
    employed, has_car = rnd.random() < 0.55, rnd.random() < 0.4
    planted: list[dict[str, Any]] = []
    breach = rnd.random() < breach_share
    breach_kind = (rnd.choice(["zone", "curfew"]) if curfew else "zone") if breach else None
    curfew_start = _hhmm(curfew[0]) if curfew else DAY_S
    curfew_end = _hhmm(curfew[1]) if curfew else 0
    day = Day(home, has_car, zones)

    if breach_kind == "curfew":  # out in the small hours
        leave = rnd.randint(1 * 3600, 3 * 3600)
        day.stay_until(leave)
        if day.trip(rnd, 700, 1400, rnd.randint(20, 40) * 60, "open_sky", back_by=curfew_end - 1800):
            planted.append({"kind": "curfew", "from_s": leave, "to_s": day.t})
    day.stay_until(max(curfew_end + 600, rnd.randint(6 * 3600 + 1800, 9 * 3600)))  # up and about
    if employed:
        work = day.place(rnd, home, 2000, 8000)
        if work is not None:
            day.stay(rnd.randint(20, 60) * 60)
            day.go(work)
            day.stay(rnd.randint(7 * 3600, 9 * 3600))
            day.go(home)
    else:
        day.stay(rnd.randint(30, 90) * 60)
        day.trip(rnd, 400, 1200, rnd.randint(20, 45) * 60, "urban_canyon", curfew_start)
        day.stay_until(day.t + rnd.randint(60, 150) * 60)
        day.trip(rnd, 1500, 5000, rnd.randint(60, 180) * 60, "indoors", curfew_start)
    if breach_kind == "zone":  # to a victim's street, and a while outside her door
        target = zones[rnd.randrange(len(zones))]
        day.stay(rnd.randint(10, 40) * 60)
        outside = rnd.randint(8, 15) * 60
        arrive = day.t + day.travel_s(target.centre, day.mode(target.centre))
        back = arrive + outside + day.travel_s(home, day.mode(home, target.centre), target.centre)
        # home a quarter of an hour before any curfew: a zone breach plants nothing else
        if day.clear(day.at, target.centre, allow=target) and back + 900 <= curfew_start:
            day.go(target.centre)
            day.stay(outside, "open_sky")
            planted.append({"kind": "zone", "from_s": arrive, "to_s": day.t})
            day.go(home)
    if curfew:
        day.trip(rnd, 300, 800, rnd.randint(15, 30) * 60, "urban_canyon", curfew_start - 1800)
    elif rnd.random() < 0.5:  # an evening out
        day.stay_until(max(day.t, rnd.randint(19 * 3600, 20 * 3600 + 1800)))
        day.trip(rnd, 500, 2000, rnd.randint(120, 180) * 60, "indoors", DAY_S - 1800)
    day.stay_until(DAY_S + 60)

    start = FIRST_DAY + timedelta(days=k % 7)
    sc: dict[str, Any] = {
        "name": name,
        "description": f"{town}: {'employed' if employed else 'not working'}, {'a car' if has_car else 'no car'}, "
                       f"{len(zones)} victim zone(s), {'curfew ' + '-'.join(curfew) if curfew else 'no curfew'}"
                       f"{', planted breach: ' + breach_kind if planted and breach_kind else ''}",
        "start": f"{start.isoformat()} 00:00",
        "duration": "24h",
        "seed": seed * 1000 + k,
        "home": {"lat": home[0], "lon": home[1]},
        "zones": [{"name": f"victim-{i + 1}", "kind": "exclusion", "warning_m": z.warning_m,
                   "circle": {"lat": z.centre[0], "lon": z.centre[1], "radius_m": z.radius_m}}
                  for i, z in enumerate(zones)],
        "route": {"start": {"lat": home[0], "lon": home[1]}, "legs": day.legs},
        "gnss": {"default": "open_sky"},
        "link": {"transport": "cellular", "dialect": DIALECTS[k % 3]} if k % 2 else {"transport": "serial"},
    }
    if curfew:
        sc["curfew"] = {"schedule": [{"days": "daily", "start": curfew[0], "end": curfew[1]}]}
    entry = {"name": name, "file": f"{name}.yaml", "town": town, "curfew": bool(curfew), "victims": len(zones),
             "employed": employed, "planted": planted}
    return sc, entry


CRIME_FIELDS = ["reference", "offence", "lat", "lon", "from", "to", "radius_m"]  # tagsim centre crimes import
OFFENCES = ("burglary", "theft from a vehicle", "robbery", "shoplifting", "theft of a bicycle")
UNRELATED_PER_WEARER = 10


def _london(day: date, t: int) -> str:
    """A London time on the wearer's day, to the minute (t: seconds after its midnight)."""
    return f"{(day + timedelta(days=t // DAY_S)).isoformat()} {t % DAY_S // 3600:02d}:{t % 3600 // 60:02d}"


def trail_wearer(k: int, seed: int) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """(scenario, manifest entry, crimes) for trail wearer k, released after acquisitive
    crime: no zones, a tag in trail mode, a day of two or three outings with a stay
    in the street at each. Crimes: one planted where and while the wearer stood, a near
    miss in place (150-300 m from where he stood, then) and one in time (where he stood,
    30-60 min after he left, when he was at home), and unrelated ones about his town."""
    rnd = random.Random(seed * 1_000_003 + 700_001 + k)
    name = f"trl-{k + 1:04d}"
    town = list(TOWNS)[rnd.randrange(len(TOWNS))]
    home = _offset(TOWNS[town], rnd.uniform(0, 2000), rnd.uniform(0, 360))
    day_one = FIRST_DAY + timedelta(days=k % 7)
    day = Day(home, rnd.random() < 0.3, [])
    day.stay_until(rnd.randint(8 * 3600, 10 * 3600))
    stands = []  # (where, arrived, left, home again)
    for _ in range(rnd.randint(2, 3)):
        p = day.place(rnd, home, 800, 5000)
        stay = rnd.randint(40, 90) * 60
        if p is None or day.t + 2 * day.travel_s(p, day.mode(p)) + stay + 3 * 3600 > 22 * 3600:
            break
        day.go(p)
        arrived = day.t
        day.stay(stay, "open_sky")
        left = day.t
        day.go(home)
        stands.append((p, arrived, left, day.t))
        day.stay(rnd.randint(100, 150) * 60)
    day.stay_until(DAY_S + 60)
    crimes = []

    def crime(kind: str, at: tuple[float, float], start: int, minutes: int) -> None:
        crimes.append({"offence": rnd.choice(OFFENCES),
                       "lat": f"{at[0]:.6f}", "lon": f"{at[1]:.6f}", "from": _london(day_one, start),
                       "to": _london(day_one, start + minutes * 60), "radius_m": "100", "kind": kind, "wearer": name})

    for i, (p, arrived, left, back) in enumerate(stands):
        start = (arrived + 300) // 60 * 60 + 60  # whole minutes, inside the stay
        minutes = min(20, (left - start) // 60)
        if i == 0:
            crime("planted", _offset(p, rnd.uniform(0, 20), rnd.uniform(0, 360)), start, minutes)
            crime("near miss in place", _offset(p, rnd.uniform(150, 300), rnd.uniform(0, 360)), start, minutes)
            later = (left + rnd.randint(30, 60) * 60) // 60 * 60 + 60
            if later >= back + 300:  # home by then
                crime("near miss in time", p, later, 20)
    for _ in range(UNRELATED_PER_WEARER):
        start = rnd.randint(0, DAY_S - 3600) // 60 * 60
        crime("unrelated", _offset(TOWNS[town], rnd.uniform(0, 4000), rnd.uniform(0, 360)), start,
              rnd.choice([30, 60]))
    sc: dict[str, Any] = {
        "name": name,
        "description": f"{town}: under trail monitoring (acquisitive crime), {len(stands)} outings",
        "start": f"{day_one.isoformat()} 00:00",
        "duration": "24h",
        "seed": seed * 1000 + 500 + k,
        "home": {"lat": home[0], "lon": home[1]},
        "trail": {},
        "route": {"start": {"lat": home[0], "lon": home[1]}, "legs": day.legs},
        "gnss": {"default": "open_sky"},
        "link": {"transport": "cellular", "dialect": DIALECTS[k % 3]},
    }
    entry = {"name": name, "file": f"{name}.yaml", "town": town, "curfew": False, "victims": 0, "employed": False,
             "planted": [], "trail": True}
    return sc, entry, crimes


PATTERNS = (("abstinent", 0.4), ("lapse", 0.35), ("relapse", 0.25))  # an alcohol wearer's days, and their shares
ALCOHOL_DAYS = 3


def _hours(t: int) -> str:
    return f"{t // 3600}h{t % 3600 // 60}m"


def alcohol_wearer(k: int, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(scenario, manifest entry) for alcohol wearer k, under an abstinence requirement
    for ALCOHOL_DAYS days: abstinent, one lapse (an evening's few drinks) or a relapse
    (heavy evenings); hand gel most days and perfume some; and for a fifth of them a
    tamper attempt, a barrier or the tag off the skin for two to four hours. The
    drinking is in the evenings before the last day, so every episode ends in the run."""
    rnd = random.Random(seed * 1_000_003 + 900_001 + k)
    name = f"alc-{k + 1:04d}"
    town = list(TOWNS)[rnd.randrange(len(TOWNS))]
    home = _offset(TOWNS[town], rnd.uniform(0, 2000), rnd.uniform(0, 360))
    pattern = rnd.choices([p for p, _ in PATTERNS], [w for _, w in PATTERNS])[0]
    nights = range(ALCOHOL_DAYS - 1)  # the last day sober: every episode ends in the run
    evenings = {"abstinent": [], "lapse": [rnd.choice(nights)],
                "relapse": sorted(rnd.sample(nights, rnd.randint(min(2, len(nights)), len(nights))))}[pattern]
    drinks = []
    for d in evenings:
        t = d * DAY_S + rnd.randint(18 * 3600, 21 * 3600) // 300 * 300
        for _ in range(rnd.randint(2, 5) if pattern == "lapse" else rnd.randint(5, 10)):
            drinks.append({"at": _hours(t), "units": round(rnd.uniform(1.5, 3.0), 1)})
            t += rnd.randint(20, 60) * 60
    exposures = []
    for d in range(ALCOHOL_DAYS):
        for _ in range(rnd.randint(0, 3)):
            exposures.append((d * DAY_S + rnd.randint(7 * 3600, 21 * 3600) // 60 * 60, "sanitiser"))
        if rnd.random() < 0.3:
            exposures.append((d * DAY_S + rnd.randint(7 * 3600, 22 * 3600) // 60 * 60, "perfume"))
    spec: dict[str, Any] = {"body": {"weight_kg": rnd.randint(55, 110), "sex": rnd.choice(["male", "female"])},
                            "drinks": drinks,
                            "exposures": [{"at": _hours(t), "kind": kind} for t, kind in sorted(exposures)]}
    tamper = rnd.choice(["obstruction", "removal"]) if rnd.random() < 0.2 else None
    if tamper:
        a = rnd.randint(DAY_S // 2, (ALCOHOL_DAYS - 1) * DAY_S) // 60 * 60
        spec[tamper] = [{"from": _hours(a), "to": _hours(a + rnd.randint(2 * 3600, 4 * 3600) // 60 * 60)}]
    day_one = FIRST_DAY + timedelta(days=k % 7)
    sc: dict[str, Any] = {
        "name": name,
        "description": f"{town}: alcohol tag, abstinence requirement; {pattern}, {len(drinks)} drinks, "
                       f"{len(exposures)} exposures{', ' + tamper if tamper else ''}",
        "start": f"{day_one.isoformat()} 00:00",
        "duration": f"{ALCOHOL_DAYS * 24}h",
        "seed": seed * 1000 + 700 + k,
        "home": {"lat": home[0], "lon": home[1]},
        "route": {"start": {"lat": home[0], "lon": home[1]},
                  "legs": [{"dwell": f"{ALCOHOL_DAYS * 24}h", "env": "indoors"}]},
        "link": {"transport": "cellular", "dialect": DIALECTS[k % 3]},
        "alcohol": spec,
    }
    entry = {"name": name, "file": f"{name}.yaml", "town": town, "curfew": False, "victims": 0, "employed": False,
             "planted": [], "alcohol": pattern, "tamper": tamper}
    return sc, entry


def generate(out: Path, tags: int, seed: int, breach_share: float = 0.2, curfew_share: float = 0.35,
             on_progress: Callable[[int, int, str], None] | None = None, acquisitive: int = 0,
             alcohol: int = 0) -> dict[str, Any]:
    """tags wearers with victims' zones, acquisitive more under trail monitoring
    with crimes.csv (their crimes; what each is, in cohort.json), and alcohol more
    with alcohol tags."""
    out.mkdir(parents=True, exist_ok=True)
    wearers: list[dict[str, Any]] = []
    crimes: list[dict[str, Any]] = []
    total = tags + acquisitive + alcohol
    for k in range(total):
        theirs: list[dict[str, Any]] = []
        if k < tags:
            sc, entry = wearer(k, seed, breach_share, curfew_share)
        elif k < tags + acquisitive:
            sc, entry, theirs = trail_wearer(k - tags, seed)
        else:
            sc, entry = alcohol_wearer(k - tags - acquisitive, seed)
        (out / entry["file"]).write_text(yaml.safe_dump(sc, sort_keys=False, width=120))
        wearers.append(entry)
        crimes += theirs
        if on_progress:
            on_progress(k + 1, total, entry["file"])
    manifest: dict[str, Any] = {"seed": seed, "tags": total, "breach_share": breach_share,
                                "curfew_share": curfew_share, "planted": sum(len(w["planted"]) for w in wearers),
                                "wearers": wearers}
    if acquisitive:  # numbered in a shuffled order: a reference says nothing of whose or what it is
        random.Random(seed).shuffle(crimes)
        for n, c in enumerate(crimes, 1):
            c["reference"] = f"CR-{n:05d}"
        with (out / "crimes.csv").open("w", newline="") as f:
            sheet = csv.DictWriter(f, CRIME_FIELDS, extrasaction="ignore")
            sheet.writeheader()
            sheet.writerows(sorted(crimes, key=lambda c: (c["from"], c["reference"])))
        manifest["acquisitive"] = acquisitive
        manifest["crimes"] = [{"reference": c["reference"], "kind": c["kind"], "wearer": c["wearer"]} for c in crimes]
    if alcohol:
        manifest["alcohol"] = alcohol
    (out / "cohort.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest
