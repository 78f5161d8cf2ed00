"""Pilot scenarios: YAML files that say who goes where, when, under what sky.

Expectations are never written in a scenario: the oracle computes them from the
true trace and the zones. Every error names the file, the line and the fix.

    name: direct-approach                 # required
    description: walks up the street to the victim's door
    start: "2026-12-01 08:00"             # Europe/London local time
    duration: 45m                         # s, m, h, or combined: 1h30m
    seed: 7                               # same seed, same bytes
    home: {lat: 52.4690, lon: -1.8990}    # the wearer's home (map marker)
    zones:                                # at least one
      - name: victim-1-home               # the operator's label, never sent to the tag
        kind: exclusion                   # or inclusion
        warning_m: 100
        circle: {lat: 52.4781, lon: -1.8940, radius_m: 150}
        # or geometry: {type: Polygon, coordinates: [[[lon, lat], ...]]}  (GeoJSON, lon first)
        # or geojson: zones/victim-1.geojson  (a Feature, relative to the scenario file)
        schedule: [{days: Mon-Fri, start: "08:00", end: "18:00"}]
    route:                                # legs from start, or gpx: file.gpx
      start: {lat: 52.4700, lon: -1.9000}
      legs:
        - {to: {lat: 52.4750, lon: -1.8960}, mode: walk}   # walk, cycle, car, bus
        - {dwell: 10m, env: indoors}                       # a leg may name its sky
        - {to: {lat: 52.4781, lon: -1.8940}, mode: car, speed_mps: 13}
    gnss:
      rate_hz: 1
      sentences: [RMC, GGA, GSA, GSV]
      default: open_sky                   # open_sky, urban_canyon, indoors, tunnel
      environment: [{from: 10m, to: 25m, env: indoors}]
      faults:                             # what streets and wearers do to GNSS (docs/simulator.md):
        - {kind: multipath, at: 14m, fixes: 8, offset_m: 60, bearing: 90}   # 8 fixes 60 m east
        - {kind: jamming, from: 30m, to: 45m}     # no fix, C/N0 collapsed; the modem unaffected
        - {kind: spoofing, from: 1h, to: 1h20m, drift_mps: 1.4, bearing: 0}  # a false walk north
        - {kind: cold_start, at: 2h}              # the receiver loses its almanac and time
        - {kind: garbage, from: 2h10m, to: 2h11m} # corrupt NMEA
      start: hot                          # how the receiver starts at each power-on of the tag:
                                          # hot (it kept its almanac and time), or cold (none:
                                          # no time for a while, a fix within two minutes)
    oracle: {must_depth_m: 20, must_duration_s: 20, shallow_depth_m: 15, shallow_duration_s: 120,
             safe_distance_m: 25, latency_limit_s: 240}   # what must be alerted: docs/breach-policy.md
    coverage_gaps: [{from: 1h, to: 7h}]   # no link to the centre meanwhile
    link: {transport: cellular, dialect: a7670, drop_rate: 0.05, send_fail_rate: 0.05, slow_ms: 300,
           garbage_rate: 0.02, denied: false, nitz: true}   # default: serial; nitz: the network
                                                                # sends its time
    inputs: [{at: 12m, strap: open}]      # the strap is cut
    tag_off: [{from: 3h, to: 3h00m30s}]   # the tag with no power (a brown-out, a battery swap): it
                                          # reboots at the end with its RTC at 2000-01-01
    tag_hangs: [2h]                       # the tag's loop blocks (a fault): its watchdog resets it
    battery: {start_mv: 3800, drain_mv_per_h: 60, charging: [{from: 20m, to: 50m}]}
    curfew:                               # an RF curfew with a home monitoring unit (docs/curfew.md)
      schedule: [{days: daily, start: "19:00", end: "07:00"}]   # London time, overnight allowed
      changes: [{from: "2026-12-24 12:00", to: "2026-12-25 12:00", in_force: false}]   # one-off
      late_return_grace: 10m              # these three default to the firmware's defaults
      early_leave_grace: 5m
      absence_timeout: 5m
      unit: {lat: 52.4690, lon: -1.8990}  # where the unit stands; default: home (beyond 300 m of
                                          # the home's 100 m circle, it has been moved: the tag must
                                          # say so when it hears it there)
      property_m: 30                      # oracle: this near the unit is home (garden, doorstep)
      away_m: 200                         # oracle: this far is certainly away
      radio: {rssi_1m_dbm: -45, path_loss_exponent: 2.6, wall_db: 8, shadowing_db: 4, loss: 0.1}
      replayer: {capture: {from: 10m, to: 20m}, replay: {from: 1h, to: 2h}}   # a recording at home
      mains_off: [{from: 2h, to: 3h}]     # the unit on its backup battery
      backup: {start_mv: 4100, drain_mv_per_h: 150, charge_mv_per_h: 300}   # which drains with the
                                          # mains off, charges with it on (default: full, no drain);
                                          # at 3650 mV (20 %) the unit must report its battery low
      unit_off: [{from: 4h, to: 5h}]      # the unit with no power at all: battery out, or smashed
      inputs: [{at: 2h, case: open}]      # the unit's case opened
      orders: [{at: 1h, schedule: [{days: daily, start: "18:00", end: "07:00"}]}]   # the court changes
                                          # the rules: the centre orders the unit (schedule, changes,
                                          # graces, absence timeout; the rest stand)
    alcohol:                              # an alcohol tag instead of a GPS tag (docs/alcohol.md)
      body: {weight_kg: 80, sex: male}    # for Widmark's model
      drinks: [{at: 19h, units: 2.3}]     # UK units (8 g of ethanol), at times from the start
      exposures: [{at: 8h, kind: sanitiser}]   # sanitiser, perfume or spill; peak_g_dl to change it
      obstruction: [{from: 30h, to: 36h}] # a barrier between skin and sensor
      removal: [{from: 40h, to: 42h}]     # the tag off the ankle, its strap closed
      sensor_fault: [{from: 50h, to: 53h}]   # the sensors' bus answering nothing
      must_peak_g_dl: 0.05                # oracle: a drinking spell peaking this high must be reported
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from host_sim.world import zones
from host_sim.world.alcohol import EXPOSURES, WIDMARK_R, AlcoholSpec, Drink, Exposure

LONDON = ZoneInfo("Europe/London")
UK = (49.8, 60.9, -8.7, 1.8)  # lat min, lat max, lon min, lon max
MODES = {"walk": 1.4, "cycle": 4.5, "car": 11.0, "bus": 8.0}
ENVIRONMENTS = ("open_sky", "urban_canyon", "indoors", "tunnel")
SENTENCES = ("RMC", "GGA", "GSA", "GSV", "VTG", "GLL", "ZDA")
HOME_RADIUS_M = 100  # the tag's idea of "at home" (its home setting), around the scenario's home
UNIT_MOVED_M = 300  # a home unit heard this far beyond that circle has been moved (firmware/tag.py)
FULL_MV, FLAT_MV = 4200, 3000  # a single Li-ion cell's range, as batteries here are modelled
_DURATION = re.compile(r"^(-)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


TRAIL_MODE = {"breadcrumb_s": 30, "max_fix_interval_s": 40}  # as devices/example-trail-tag.json, held by a test


class ScenarioError(ValueError):
    """What is wrong in a scenario file, where, and how to fix it."""


@dataclass(frozen=True)
class Oracle:
    must_depth_m: float = 20.0  # an alert is required once this deep in ...
    must_duration_s: int = 20  # ... for this long,
    shallow_depth_m: float = 15.0  # or this deep under an open sky ...
    shallow_duration_s: int = 120  # ... for this long (docs/breach-policy.md, What must be alerted)
    safe_distance_m: float = 25.0  # an alert while this far outside is false
    latency_limit_s: int = 240  # NIJ: an active alert within 4 minutes


@dataclass(frozen=True)
class Leg:
    to: tuple[float, float] | None  # lat, lon; None for a dwell
    speed_mps: float
    dwell_s: int = 0
    mode: str = "walk"
    env: str | None = None  # the sky during this leg (environment segments still win)


FAULTS = ("multipath", "jamming", "spoofing", "cold_start", "garbage")


@dataclass(frozen=True)
class Fault:
    """Something done to the receiver from start_s to end_s (an instant's: end_s = start_s)."""

    kind: str  # one of FAULTS
    start_s: int
    end_s: int
    fixes: int = 0  # multipath: fixes displaced
    offset_m: float = 0.0  # multipath: by this much
    bearing: float = 0.0  # multipath: towards this; spoofing: the false walk's course
    drift_mps: float = 0.0  # spoofing: the false walk's speed

    def covers(self, t: float) -> bool:
        return self.start_s <= t < self.end_s


@dataclass(frozen=True)
class Segment:
    start_s: int
    end_s: int
    env: str


@dataclass(frozen=True)
class LinkSpec:
    """How the tag reaches the centre, and what goes wrong on the way."""

    transport: str = "serial"  # or "cellular"
    dialect: str = "sim7000"  # sim7000, sim800, a7670
    denied: bool = False
    drop_rate: float = 0.0
    send_fail_rate: float = 0.0
    slow_ms: int = 0
    garbage_rate: float = 0.0
    nitz: bool = True  # the network sends its time (the modem's clock) on registration


@dataclass(frozen=True)
class Input:
    """A change the tag's pins see: the strap or the case opened or closed."""

    at_s: int
    name: str  # strap, case
    opened: bool


@dataclass(frozen=True)
class Battery:
    start_mv: int = 4000
    drain_mv_per_h: float = 0.0
    charging: tuple[tuple[int, int], ...] = ()  # (from s, to s) on the charger
    charge_mv_per_h: float = 600.0

    def mv_at(self, t_s: float) -> int:
        charged = sum(max(0, min(t_s, b) - a) for a, b in self.charging)
        mv = self.start_mv - self.drain_mv_per_h * (t_s - charged) / 3600 + self.charge_mv_per_h * charged / 3600
        return round(min(FULL_MV, max(FLAT_MV, mv)))


@dataclass(frozen=True)
class Radio:
    """Log-distance path loss between the tag at the ankle and the unit indoors."""

    rssi_1m_dbm: float = -45.0
    path_loss_exponent: float = 2.6  # suburban, with the wearer's own body in the way
    wall_db: float = 8.0  # the house's outer wall, when the tag is outside it
    house_m: float = 8.0  # within this of the unit, the tag is indoors with it
    shadowing_db: float = 4.0  # lognormal shadowing, standard deviation
    loss: float = 0.1  # adverts lost whatever the signal (collisions, scan gaps)
    sensitivity_dbm: float = -100.0


@dataclass(frozen=True)
class Replayer:
    """A device that records the tag's adverts, then replays them beside the unit."""

    capture: tuple[int, int]
    replay: tuple[int, int]


# the firmware's defaults (firmware/config.py), checked by a test
LATE_RETURN_GRACE_S, EARLY_LEAVE_GRACE_S, ABSENCE_TIMEOUT_S = 600, 300, 300


@dataclass
class Curfew:
    schedule: list[zones.Window]
    unit: tuple[float, float]  # lat, lon
    changes: list[tuple[int, int, bool]] = field(default_factory=list)  # UTC from, to, in force
    late_return_grace_s: int = LATE_RETURN_GRACE_S
    early_leave_grace_s: int = EARLY_LEAVE_GRACE_S
    absence_timeout_s: int = ABSENCE_TIMEOUT_S
    property_m: float = 30.0
    away_m: float = 200.0  # with the default radio, 1 advert in 1,000 heard this far off
    radio: Radio = field(default_factory=Radio)
    replayer: Replayer | None = None
    mains_off: list[tuple[int, int]] = field(default_factory=list)  # seconds from the start
    unit_off: list[tuple[int, int]] = field(default_factory=list)  # no power at all, seconds from the start
    inputs: list[Input] = field(default_factory=list)  # the unit's case opened or closed
    # the centre's orders to the unit: (seconds from the start, the rules from then on)
    orders: list[tuple[int, Curfew]] = field(default_factory=list)
    backup: Backup = field(default_factory=lambda: Backup())

    def in_force(self, t: int) -> Curfew:
        """The rules the unit is ordered to enforce at t seconds from the start."""
        return next((c for at, c in reversed(self.orders) if at <= t), self)

    def backup_mv(self, t_s: float) -> int:
        """The unit's backup battery at t_s: drained while the mains is off, charged while on."""
        b, mv, on_since = self.backup, float(self.backup.start_mv), 0.0
        for a, z in [*sorted(self.mains_off), (math.inf, math.inf)]:
            mv = min(FULL_MV, mv + b.charge_mv_per_h * max(0.0, min(t_s, a) - on_since) / 3600)
            if t_s <= a:
                break
            mv = max(FLAT_MV, mv - b.drain_mv_per_h * (min(t_s, z) - a) / 3600)
            on_since = z
        return round(mv)


@dataclass(frozen=True)
class Backup:
    """The home unit's backup battery: what keeps it going with the mains off."""

    start_mv: int = FULL_MV  # long on the mains
    drain_mv_per_h: float = 0.0  # with the mains off
    charge_mv_per_h: float = 300.0  # with the mains on, up to full


@dataclass
class Scenario:
    path: Path
    name: str
    description: str
    start_utc: int
    duration_s: int
    seed: int
    home: tuple[float, float] | None
    zones: list[zones.Zone]
    route_start: tuple[float, float] | None
    legs: list[Leg]
    gpx: Path | None
    rate_hz: int
    sentences: tuple[str, ...]
    default_env: str
    environment: list[Segment] = field(default_factory=list)
    oracle: Oracle = field(default_factory=Oracle)
    coverage_gaps: list[tuple[int, int]] = field(default_factory=list)  # seconds from the start
    link: LinkSpec = field(default_factory=LinkSpec)
    inputs: list[Input] = field(default_factory=list)
    battery: Battery = field(default_factory=Battery)
    curfew: Curfew | None = None
    gnss_start: str = "hot"  # hot or cold, at each power-on of the tag
    tag_off: list[tuple[int, int]] = field(default_factory=list)  # the tag unpowered, seconds from the start
    tag_hangs: list[int] = field(default_factory=list)  # the tag's loop blocks, seconds from the start
    faults: list[Fault] = field(default_factory=list)  # gnss.faults
    trail: dict[str, int] | None = None  # trail mode's settings (docs/trails.md), or None
    alcohol: AlcoholSpec | None = None  # an alcohol tag's wearer (docs/alcohol.md), or None

    def faked(self, t: float) -> str | None:
        """The fault whose false signal the receiver hears at t (jamming, spoofing), if any."""
        return next((f.kind for f in self.faults if f.kind in ("jamming", "spoofing") and f.covers(t)), None)


class _Reader:
    """Reads one scenario file, keeping each value's line for error messages."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.root = yaml.compose(path.read_text())
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = f":{mark.line + 1}" if mark else ""
            raise ScenarioError(f"{path}{line}: not valid YAML ({getattr(e, 'problem', e)}); "
                                "check indentation and quoting") from None
        except OSError as e:
            raise ScenarioError(f"{path}: cannot be read ({e.strerror})") from None
        if self.root is None:
            raise ScenarioError(f"{path}: empty; a scenario needs name, start, duration, zones, route")
        self.top: yaml.Node = self.root

    def fail(self, node: yaml.Node | None, message: str) -> ScenarioError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return ScenarioError(f"{self.path}{line}: {message}")

    def mapping(self, node: yaml.Node, what: str, known: dict[str, bool]) -> dict[str, yaml.Node]:
        """A mapping's entries; known maps key -> required."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping of keys")
        out: dict[str, yaml.Node] = {}
        for k, v in node.value:
            key = k.value
            if key not in known:
                raise self.fail(k, f"unknown key {key!r} in {what}; expected one of: "
                                f"{', '.join(sorted(known))}")
            out[key] = v
        for key, required in known.items():
            if required and key not in out:
                raise self.fail(node, f"{what} needs {key!r}")
        return out

    def value(self, node: yaml.Node) -> Any:
        return yaml.safe_load(yaml.serialize(node))

    def text(self, node: yaml.Node, what: str) -> str:
        v = self.value(node)
        if not isinstance(v, str) or not v.strip():
            raise self.fail(node, f"{what} must be text")
        return v

    def flag(self, node: yaml.Node, what: str) -> bool:
        v = self.value(node)
        if not isinstance(v, bool):
            raise self.fail(node, f"{what} must be true or false")
        return v

    def number(self, node: yaml.Node, what: str, lo: float, hi: float, integer: bool = False) -> float:
        v = self.value(node)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and not isinstance(v, int)):
            raise self.fail(node, f"{what} must be a {'whole ' if integer else ''}number")
        if not lo <= v <= hi:
            raise self.fail(node, f"{what} is {v}; expected {lo} to {hi}")
        return v

    def duration(self, node: yaml.Node, what: str, zero: bool = False) -> int:
        v = self.value(node)
        if isinstance(v, int) and not isinstance(v, bool):
            seconds = v
        elif isinstance(v, str) and v and (m := _DURATION.match(v.strip())) and any(m.groups()[1:]):
            h, mi, s = (int(g or 0) for g in m.groups()[1:])
            seconds = (-1 if m[1] else 1) * (h * 3600 + mi * 60 + s)
        else:
            raise self.fail(node, f"{what} {v!r}: expected seconds or e.g. 90s, 45m, 1h30m")
        if seconds < 0 or (seconds == 0 and not zero):
            raise self.fail(node, f"{what} is {seconds} s; it must be positive")
        return seconds

    def point(self, node: yaml.Node, what: str) -> tuple[float, float]:
        m = self.mapping(node, what, {"lat": True, "lon": True})
        lat = self.number(m["lat"], f"{what} lat", -90, 90)
        lon = self.number(m["lon"], f"{what} lon", -180, 180)
        if not in_uk(lat, lon):
            raise self.fail(node, f"{what} ({lat}, {lon}) is outside the UK grid (lat {UK[0]} to {UK[1]}, "
                            f"lon {UK[2]} to {UK[3]}); {off_uk(lat, lon, 'lat and lon swapped?')}")
        return lat, lon


# every top-level key, and whether it must be given (docs/scenario-format.md, held to this by a test)
TOP_KEYS = {"name": True, "description": False, "start": True, "duration": True, "seed": False, "home": False,
            "zones": False, "route": True, "gnss": False, "oracle": False, "coverage_gaps": False, "link": False,
            "inputs": False, "battery": False, "curfew": False, "tag_off": False, "tag_hangs": False, "trail": False,
            "alcohol": False}


def load(path: Path) -> Scenario:
    r = _Reader(path)
    top = r.mapping(r.top, "the scenario", TOP_KEYS)
    name = r.text(top["name"], "name")
    start = _london(r, top["start"], "start")
    duration = r.duration(top["duration"], "duration")
    seed = int(r.number(top["seed"], "seed", 0, 2**32, integer=True)) if "seed" in top else 1
    home = r.point(top["home"], "home") if "home" in top else None
    if not {"zones", "curfew", "trail", "alcohol"} & top.keys():
        raise r.fail(r.top, "the scenario needs zones, a curfew, a trail or alcohol (any of them)")
    if "alcohol" in top and ({"zones", "trail"} & top.keys()):
        raise r.fail(top["alcohol"], "an alcohol tag has no GNSS: no zones or trail with alcohol")
    trail = None
    if "trail" in top:  # trail mode: devices/example-trail-tag.json's settings unless given
        tm = r.mapping(top["trail"], "trail", {"breadcrumb_s": False, "max_fix_interval_s": False})
        trail = {k: int(r.number(tm[k], f"trail.{k}", 10, 600, integer=True)) if k in tm else TRAIL_MODE[k]
                 for k in TRAIL_MODE}
    zone_list = _zones(r, top["zones"]) if "zones" in top else []
    route_start, legs, gpx = _route(r, top["route"])
    rate, sentences, default_env, env, gnss_start, faults = _gnss(r, top.get("gnss"), duration)
    oracle = _oracle(r, top["oracle"]) if "oracle" in top else Oracle()
    gaps = _gaps(r, top["coverage_gaps"], duration) if "coverage_gaps" in top else []
    link = _link(r, top["link"]) if "link" in top else LinkSpec()
    inputs = _inputs(r, top["inputs"], duration) if "inputs" in top else []
    tag_off = sorted(_gaps(r, top["tag_off"], duration, "tag_off spell")) if "tag_off" in top else []
    for (_, b), (a, _) in zip(tag_off, tag_off[1:], strict=False):
        if a <= b:
            raise r.fail(top["tag_off"], f"tag_off spells overlap or touch at {a} s: make them one spell")
    tag_hangs = sorted(_instants(r, top["tag_hangs"], duration, "tag_hangs")) if "tag_hangs" in top else []
    battery = Battery()
    if "battery" in top:
        bm = r.mapping(top["battery"], "battery", {"start_mv": False, "drain_mv_per_h": False, "charging": False})
        battery = Battery(int(r.number(bm["start_mv"], "start_mv", 2500, 4300, integer=True))
                          if "start_mv" in bm else 4000,
                          float(r.number(bm["drain_mv_per_h"], "drain_mv_per_h", 0, 2000))
                          if "drain_mv_per_h" in bm else 0.0,
                          tuple(_gaps(r, bm["charging"], duration, "charging spell")) if "charging" in bm else ())
    curfew = _curfew(r, top["curfew"], home, duration) if "curfew" in top else None
    return Scenario(path, name, r.text(top["description"], "description") if "description" in top else "",
                    start, duration, seed, home, zone_list, route_start, legs, gpx, rate,
                    sentences, default_env, env, oracle, gaps, link, inputs, battery, curfew, gnss_start, tag_off,
                    tag_hangs, faults, trail, _alcohol(r, top["alcohol"], duration) if "alcohol" in top else None)


def london_minute(text: str) -> int:
    """"YYYY-MM-DD HH:MM" in London time as Unix seconds; ValueError otherwise."""
    return int(datetime.strptime(text.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=LONDON).timestamp())


def _london(r: _Reader, node: yaml.Node, what: str) -> int:
    text = r.text(node, what)
    try:
        return london_minute(text)
    except ValueError:
        raise r.fail(node, f"{what} {text!r}: expected \"YYYY-MM-DD HH:MM\" (London time)") from None


def _span(r: _Reader, node: yaml.Node, what: str, duration: int) -> tuple[int, int]:
    m = r.mapping(node, what, {"from": True, "to": True})
    a, b = r.duration(m["from"], "from", zero=True), r.duration(m["to"], "to")
    if not a < b <= duration:
        raise r.fail(node, f"{what}: from {a} s to {b} s must lie within the {duration} s run")
    return a, b


_RULES = {"schedule": False, "changes": False, "late_return_grace": False, "early_leave_grace": False,
          "absence_timeout": False}  # what the curfew's order says, and what a later order may change


def _rules(r: _Reader, m: dict[str, yaml.Node], c: Curfew, what: str) -> Curfew:
    """A copy of c with the rules m gives (schedule, one-off changes, graces, absence
    timeout); c itself, an earlier order's rules, is never changed."""
    c = replace(c, orders=[])
    if "schedule" in m:
        try:
            schedule = zones.parse_schedule(r.value(m["schedule"]), what)
        except zones.ZoneError as e:
            raise r.fail(m["schedule"], str(e)) from None
        if not schedule:
            raise r.fail(m["schedule"], f"{what} schedule needs at least one window")
        c.schedule = schedule
    if "changes" in m:
        changes = []
        for i, cn in enumerate(getattr(m["changes"], "value", None) or []):
            cm = r.mapping(cn, f"{what} change {i + 1}", {"from": True, "to": True, "in_force": True})
            a, b = _london(r, cm["from"], "from"), _london(r, cm["to"], "to")
            in_force = r.value(cm["in_force"])
            if a >= b or not isinstance(in_force, bool):
                raise r.fail(cn, f"{what} change {i + 1}: needs from before to, and in_force true or false")
            changes.append((a, b, in_force))
        c.changes = changes
    for key, attr in (("late_return_grace", "late_return_grace_s"), ("early_leave_grace", "early_leave_grace_s"),
                      ("absence_timeout", "absence_timeout_s")):
        if key in m:
            setattr(c, attr, r.duration(m[key], key, zero=key != "absence_timeout"))
    return c


def _curfew(r: _Reader, node: yaml.Node, home: tuple[float, float] | None, duration: int) -> Curfew:
    m = r.mapping(node, "curfew", {
        **_RULES, "schedule": True, "unit": False, "property_m": False, "away_m": False, "radio": False,
        "replayer": False, "mains_off": False, "unit_off": False, "orders": False, "inputs": False, "backup": False})
    if "unit" in m:
        unit = r.point(m["unit"], "curfew unit")
    elif home is None:
        raise r.fail(node, "curfew needs unit: {lat, lon}, or the scenario's home")
    else:
        unit = home
    c = _rules(r, m, Curfew([], unit), "curfew")
    if "property_m" in m:
        c.property_m = float(r.number(m["property_m"], "property_m", 1, 1000))
    if "away_m" in m:
        c.away_m = float(r.number(m["away_m"], "away_m", 1, 10000))
    if c.away_m <= c.property_m:
        raise r.fail(node, f"curfew away_m ({c.away_m}) must be beyond property_m ({c.property_m})")
    if "radio" in m:
        d = Radio()
        rm = r.mapping(m["radio"], "radio", {k: False for k in d.__dataclass_fields__})
        c.radio = Radio(**{k: float(r.number(v, k, -200, 200)) for k, v in rm.items()})
        if not 0 <= c.radio.loss <= 1:
            raise r.fail(m["radio"], "radio loss is a fraction, 0 to 1")
    if "replayer" in m:
        pm = r.mapping(m["replayer"], "replayer", {"capture": True, "replay": True})
        cap, rep = _span(r, pm["capture"], "capture", duration), _span(r, pm["replay"], "replay", duration)
        if rep[0] < cap[1]:
            raise r.fail(m["replayer"], "replayer: the replay must start after the capture ends")
        c.replayer = Replayer(cap, rep)
    if "mains_off" in m:
        c.mains_off = _gaps(r, m["mains_off"], duration, "mains_off spell")
    if "backup" in m:
        bm = r.mapping(m["backup"], "backup", {"start_mv": False, "drain_mv_per_h": False, "charge_mv_per_h": False})
        full = Backup()
        c.backup = Backup(int(r.number(bm["start_mv"], "start_mv", FLAT_MV, FULL_MV, integer=True))
                          if "start_mv" in bm else full.start_mv,
                          *(float(r.number(bm[k], k, 0, 2000)) if k in bm else getattr(full, k)
                            for k in ("drain_mv_per_h", "charge_mv_per_h")))
    if "unit_off" in m:
        c.unit_off = _gaps(r, m["unit_off"], duration, "unit_off spell")
    if "inputs" in m:
        c.inputs = _inputs(r, m["inputs"], duration, ("case",))
    if "orders" in m:
        if not isinstance(m["orders"], yaml.SequenceNode):
            raise r.fail(m["orders"], "curfew orders must be a list, e.g. [{at: 2h, schedule: [...]}]")
        last, rules = -1, c
        for i, on in enumerate(m["orders"].value):
            om = r.mapping(on, f"curfew order {i + 1}", {**_RULES, "at": True})
            at = r.duration(om["at"], "at", zero=True)
            if not last < at < duration:
                raise r.fail(on, f"curfew order {i + 1}: at {at} s must be after the one before and within "
                                 f"the {duration} s run")
            last, rules = at, _rules(r, om, rules, f"curfew order {i + 1}")
            c.orders.append((at, rules))
    return c


def _inputs(r: _Reader, node: yaml.Node, duration: int, pins: tuple[str, ...] = ("strap", "case")) -> list[Input]:
    if not isinstance(node, yaml.SequenceNode):
        raise r.fail(node, f"inputs must be a list, e.g. [{{at: 10m, {pins[0]}: open}}]")
    out = []
    for i, n in enumerate(node.value):
        m = r.mapping(n, f"input {i + 1}", {"at": True, **{p: False for p in pins}})
        names = [k for k in pins if k in m]
        if len(names) != 1 or r.value(m[names[0]]) not in ("open", "closed"):
            raise r.fail(n, f"input {i + 1}: expected one of {' or '.join(pins)}, set to open or closed")
        at = r.duration(m["at"], "at", zero=True)
        if at > duration:
            raise r.fail(m["at"], f"input {i + 1} at {at} s is after the {duration} s run")
        out.append(Input(at, names[0], r.value(m[names[0]]) == "open"))
    return sorted(out, key=lambda x: x.at_s)


def _alcohol(r: _Reader, node: yaml.Node, duration: int) -> AlcoholSpec:
    m = r.mapping(node, "alcohol", {"body": False, "drinks": False, "exposures": False, "obstruction": False,
                                    "removal": False, "sensor_fault": False, "must_peak_g_dl": False,
                                    "tac_ratio": False, "elimination_g_dl_h": False})
    spec = AlcoholSpec()
    if "body" in m:
        b = r.mapping(m["body"], "alcohol.body", {"weight_kg": False, "sex": False})
        if "weight_kg" in b:
            spec.weight_kg = float(r.number(b["weight_kg"], "alcohol.body.weight_kg", 35, 250))
        if "sex" in b:
            spec.sex = r.value(b["sex"])
            if spec.sex not in WIDMARK_R:
                raise r.fail(b["sex"], f"alcohol.body.sex {spec.sex!r}: expected {' or '.join(WIDMARK_R)}")
    for i, n in enumerate(_items(r, m, "drinks", "[{at: 19h, units: 2.3}]")):
        d = r.mapping(n, f"drink {i + 1}", {"at": True, "units": True})
        spec.drinks.append(Drink(_at(r, d["at"], duration, f"drink {i + 1}"),
                                 float(r.number(d["units"], f"drink {i + 1} units", 0.1, 30))))
    for i, n in enumerate(_items(r, m, "exposures", "[{at: 8h, kind: sanitiser}]")):
        e = r.mapping(n, f"exposure {i + 1}", {"at": True, "kind": True, "peak_g_dl": False})
        kind = r.value(e["kind"])
        if kind not in EXPOSURES:
            raise r.fail(e["kind"], f"exposure {i + 1} kind {kind!r}: expected one of {', '.join(EXPOSURES)}")
        peak, decay = EXPOSURES[kind]
        if "peak_g_dl" in e:
            peak = float(r.number(e["peak_g_dl"], f"exposure {i + 1} peak_g_dl", 0.001, 0.5))
        spec.exposures.append(Exposure(_at(r, e["at"], duration, f"exposure {i + 1}"), kind, peak, decay))
    spec.obstruction = _gaps(r, m["obstruction"], duration, "obstruction") if "obstruction" in m else []
    spec.removal = _gaps(r, m["removal"], duration, "removal") if "removal" in m else []
    spec.sensor_fault = _gaps(r, m["sensor_fault"], duration, "sensor_fault") if "sensor_fault" in m else []
    if "must_peak_g_dl" in m:
        spec.must_peak_g_dl = float(r.number(m["must_peak_g_dl"], "alcohol.must_peak_g_dl", 0.02, 0.4))
    if "tac_ratio" in m:
        spec.tac_ratio = float(r.number(m["tac_ratio"], "alcohol.tac_ratio", 0.3, 1.2))
    if "elimination_g_dl_h" in m:
        spec.elimination_g_dl_h = float(r.number(m["elimination_g_dl_h"], "alcohol.elimination_g_dl_h",
                                                 0.008, 0.03))
    spec.drinks.sort(key=lambda d: d.at_s)
    spec.exposures.sort(key=lambda e: e.at_s)
    return spec


def _items(r: _Reader, m: dict[str, yaml.Node], key: str, example: str) -> list[yaml.Node]:
    if key not in m:
        return []
    if not isinstance(m[key], yaml.SequenceNode):
        raise r.fail(m[key], f"alcohol.{key} must be a list, e.g. {example}")
    return list(m[key].value)


def _at(r: _Reader, node: yaml.Node, duration: int, what: str) -> int:
    at = r.duration(node, f"{what} at", zero=True)
    if at >= duration:
        raise r.fail(node, f"{what} at {at} s is not before the end ({duration} s)")
    return at


def _link(r: _Reader, node: yaml.Node) -> LinkSpec:
    m = r.mapping(node, "link", {"transport": False, "dialect": False, "denied": False, "drop_rate": False,
                                 "send_fail_rate": False, "slow_ms": False, "garbage_rate": False, "nitz": False})
    transport = r.value(m["transport"]) if "transport" in m else "serial"
    if transport not in ("serial", "cellular"):
        raise r.fail(m["transport"], f"transport {transport!r}: expected serial or cellular")
    dialect = r.value(m["dialect"]) if "dialect" in m else "sim7000"
    if dialect not in ("sim7000", "sim800", "a7670"):
        raise r.fail(m["dialect"], f"dialect {dialect!r}: expected sim7000, sim800 or a7670")
    rate = {k: float(r.number(m[k], k, 0, 1)) for k in ("drop_rate", "send_fail_rate", "garbage_rate") if k in m}
    denied = r.flag(m["denied"], "denied") if "denied" in m else False
    nitz = r.flag(m["nitz"], "nitz") if "nitz" in m else True
    slow = int(r.number(m["slow_ms"], "slow_ms", 0, 60000, integer=True)) if "slow_ms" in m else 0
    return LinkSpec(transport, dialect, denied, rate.get("drop_rate", 0.0), rate.get("send_fail_rate", 0.0), slow,
                    rate.get("garbage_rate", 0.0), nitz)


def _instants(r: _Reader, node: yaml.Node, duration: int, what: str) -> list[int]:
    if not isinstance(node, yaml.SequenceNode):
        raise r.fail(node, f"{what} must be a list of times from the start, e.g. [2h, 3h30m]")
    out = [r.duration(n, f"{what} {i + 1}") for i, n in enumerate(node.value)]
    for n, t in zip(node.value, out, strict=True):
        if t >= duration:
            raise r.fail(n, f"{what}: {t} s is not before the end ({duration} s)")
    return out


def _gaps(r: _Reader, node: yaml.Node, duration: int, what: str = "coverage gap") -> list[tuple[int, int]]:
    if not isinstance(node, yaml.SequenceNode):
        raise r.fail(node, f"{what}s must be a list of {{from, to}}")
    return [_span(r, gn, f"{what} {i + 1}", duration) for i, gn in enumerate(node.value)]


def _zones(r: _Reader, node: yaml.Node) -> list[zones.Zone]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise r.fail(node, "zones must be a list of at least one zone")
    out = []
    for i, zn in enumerate(node.value):
        m = r.mapping(zn, f"zone {i + 1}", {"name": True, "kind": False, "warning_m": False, "schedule": False,
                                            "circle": False, "geometry": False, "geojson": False})
        shapes = [k for k in ("circle", "geometry", "geojson") if k in m]
        if len(shapes) != 1:
            raise r.fail(zn, f"zone {i + 1} needs exactly one of circle, geometry, geojson")
        props = {"name": r.text(m["name"], "zone name"), "kind": r.value(m["kind"]) if "kind" in m else "exclusion",
                 "warning_m": r.value(m["warning_m"]) if "warning_m" in m else 0}
        if "schedule" in m:
            props["schedule"] = r.value(m["schedule"])
        shape_node = m[shapes[0]]
        if shapes[0] == "circle":
            c = r.mapping(shape_node, "circle", {"lat": True, "lon": True, "radius_m": True})
            lat, lon = r.number(c["lat"], "circle lat", -90, 90), r.number(c["lon"], "circle lon", -180, 180)
            props["radius_m"] = r.value(c["radius_m"])
            feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                       "properties": props}
        elif shapes[0] == "geometry":
            feature = {"type": "Feature", "geometry": r.value(shape_node), "properties": props}
        else:
            feature = _geojson_file(r, shape_node, props)
        try:
            z = zones.from_feature(feature, f"zone {props['name']!r}")
        except (zones.ZoneError, KeyError, TypeError, IndexError) as e:
            raise r.fail(shape_node, str(e) if isinstance(e, zones.ZoneError) else
                         f"zone {props['name']!r}: malformed geometry ({e!r})") from None
        _inside_uk(r, shape_node, z, shapes[0] == "circle")
        out.append(z)
    return out


def _geojson_file(r: _Reader, node: yaml.Node, props: dict[str, Any]) -> dict[str, Any]:
    import json

    path = r.path.parent / r.text(node, "geojson")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise r.fail(node, f"geojson {path}: cannot be read as JSON ({e})") from None
    if data.get("type") == "FeatureCollection":
        if len(data.get("features", [])) != 1:
            raise r.fail(node, f"geojson {path}: a FeatureCollection here must hold exactly one zone")
        data = data["features"][0]
    if data.get("type") != "Feature":
        raise r.fail(node, f"geojson {path}: expected a Feature")
    return {**data, "properties": {**props, **{k: v for k, v in (data.get("properties") or {}).items()
                                               if k in ("radius_m",)}}}


def in_uk(lat: float, lon: float) -> bool:
    return UK[0] <= lat <= UK[1] and UK[2] <= lon <= UK[3]


def off_uk(lat: float, lon: float, swapped: str) -> str:
    """Why a place lies off the UK grid: its two numbers the wrong way round, or it is
    somewhere else altogether."""
    return swapped if in_uk(lon, lat) else "that is not in the UK, where the programme runs"


def _inside_uk(r: _Reader, node: yaml.Node, z: zones.Zone, circle: bool) -> None:
    west, south, east, north = z.lonlat_bounds()
    if not (in_uk(south, west) and in_uk(north, east)):
        hint = "lat and lon swapped?" if circle else "GeoJSON positions are [lon, lat]"
        raise r.fail(node, f"zone {z.name!r} lies outside the UK grid; {off_uk(south, west, hint)}")


def _route(r: _Reader, node: yaml.Node) -> tuple[tuple[float, float] | None, list[Leg], Path | None]:
    m = r.mapping(node, "route", {"start": False, "legs": False, "gpx": False})
    if "gpx" in m:
        if "legs" in m or "start" in m:
            raise r.fail(node, "route takes either gpx or start and legs, not both")
        gpx = r.path.parent / r.text(m["gpx"], "gpx")
        if not gpx.exists():
            raise r.fail(m["gpx"], f"gpx file {gpx} does not exist")
        return None, [], gpx
    if "start" not in m or "legs" not in m:
        raise r.fail(node, "route needs start and legs (or gpx)")
    start = r.point(m["start"], "route start")
    legs_node = m["legs"]
    if not isinstance(legs_node, yaml.SequenceNode):
        raise r.fail(legs_node, "legs must be a list")
    legs = []
    for i, ln in enumerate(legs_node.value):
        lm = r.mapping(ln, f"leg {i + 1}", {"to": False, "mode": False, "speed_mps": False, "dwell": False,
                                            "env": False})
        env = r.value(lm["env"]) if "env" in lm else None
        if env is not None and env not in ENVIRONMENTS:
            raise r.fail(lm["env"], f"environment {env!r}: expected one of {', '.join(ENVIRONMENTS)}")
        if "dwell" in lm:
            if set(lm) - {"dwell", "env"}:
                raise r.fail(ln, f"leg {i + 1}: a dwell leg has only dwell (and env)")
            legs.append(Leg(None, 0.0, r.duration(lm["dwell"], f"leg {i + 1} dwell"), "dwell", env))
            continue
        if "to" not in lm:
            raise r.fail(ln, f"leg {i + 1} needs to: {{lat, lon}} (or dwell)")
        mode = r.value(lm["mode"]) if "mode" in lm else "walk"
        if mode not in MODES:
            raise r.fail(lm["mode"], f"mode {mode!r}: expected one of {', '.join(MODES)}")
        speed = r.number(lm["speed_mps"], "speed_mps", 0.1, 60) if "speed_mps" in lm else MODES[mode]
        legs.append(Leg(r.point(lm["to"], f"leg {i + 1} to"), float(speed), 0, mode, env))
    return start, legs, None


def _gnss(r: _Reader, node: yaml.Node | None,
          duration: int) -> tuple[int, tuple[str, ...], str, list[Segment], str, list[Fault]]:
    if node is None:
        return 1, ("RMC", "GGA", "GSA", "GSV"), "open_sky", [], "hot", []
    m = r.mapping(node, "gnss", {"rate_hz": False, "sentences": False, "default": False, "environment": False,
                                 "start": False, "faults": False})
    start = r.value(m["start"]) if "start" in m else "hot"
    if start not in ("hot", "cold"):
        raise r.fail(m["start"], f"start {start!r}: expected hot or cold")
    rate = int(r.number(m["rate_hz"], "rate_hz", 1, 10, integer=True)) if "rate_hz" in m else 1
    sentences = ("RMC", "GGA", "GSA", "GSV")
    if "sentences" in m:
        given = r.value(m["sentences"])
        if not isinstance(given, list) or not given or any(s not in SENTENCES for s in given):
            raise r.fail(m["sentences"], f"sentences must be a list drawn from {', '.join(SENTENCES)}")
        sentences = tuple(given)
    default = r.value(m["default"]) if "default" in m else "open_sky"
    if default not in ENVIRONMENTS:
        raise r.fail(m["default"], f"environment {default!r}: expected one of {', '.join(ENVIRONMENTS)}")
    segments = []
    for i, sn in enumerate(getattr(m.get("environment"), "value", []) or []):
        sm = r.mapping(sn, f"environment {i + 1}", {"from": True, "to": True, "env": True})
        env = r.value(sm["env"])
        if env not in ENVIRONMENTS:
            raise r.fail(sm["env"], f"environment {env!r}: expected one of {', '.join(ENVIRONMENTS)}")
        a = r.duration(sm["from"], "from", zero=True)
        b = r.duration(sm["to"], "to")
        if not a < b <= duration:
            raise r.fail(sn, f"environment {i + 1}: from {a} s to {b} s must lie within the {duration} s run")
        segments.append(Segment(a, b, env))
    faults = _faults(r, m["faults"], duration) if "faults" in m else []
    return rate, sentences, default, segments, start, faults


_FAULT_KEYS: dict[str, dict[str, bool]] = {  # each kind's keys, and whether it must be given
    "multipath": {"at": True, "fixes": True, "offset_m": True, "bearing": True},
    "jamming": {"from": True, "to": True},
    "spoofing": {"from": True, "to": True, "drift_mps": True, "bearing": True},
    "cold_start": {"at": True},
    "garbage": {"from": True, "to": True},
}


def _faults(r: _Reader, node: yaml.Node, duration: int) -> list[Fault]:
    if not isinstance(node, yaml.SequenceNode):
        raise r.fail(node, "faults must be a list, e.g. [{kind: jamming, from: 10m, to: 20m}]")
    out = []
    for i, fn in enumerate(node.value):
        what = f"fault {i + 1}"
        kind_node = next((v for k, v in getattr(fn, "value", []) if getattr(k, "value", None) == "kind"), None)
        kind = r.value(kind_node) if kind_node is not None else None
        if kind not in _FAULT_KEYS:
            raise r.fail(kind_node or fn, f"{what}: kind {kind!r}: expected one of {', '.join(FAULTS)}")
        m = r.mapping(fn, f"{what} ({kind})", {"kind": True, **_FAULT_KEYS[kind]})
        if "at" in m:
            a = b = r.duration(m["at"], "at", zero=True)
            if a >= duration:
                raise r.fail(fn, f"{what}: at {a} s is not before the end ({duration} s)")
        else:
            a, b = r.duration(m["from"], "from", zero=True), r.duration(m["to"], "to")
            if not a < b <= duration:
                raise r.fail(fn, f"{what}: from {a} s to {b} s must lie within the {duration} s run")
        out.append(Fault(
            kind, a, b,
            int(r.number(m["fixes"], "fixes", 1, 600, integer=True)) if "fixes" in m else 0,
            float(r.number(m["offset_m"], "offset_m", 1, 5000)) if "offset_m" in m else 0.0,
            float(r.number(m["bearing"], "bearing", 0, 360)) if "bearing" in m else 0.0,
            float(r.number(m["drift_mps"], "drift_mps", 0, 50)) if "drift_mps" in m else 0.0))
    return out


def _oracle(r: _Reader, node: yaml.Node) -> Oracle:
    limits: dict[str, tuple[float, float, bool]] = {
        "must_depth_m": (0, 1000, False), "must_duration_s": (1, 86400, True),
        "shallow_depth_m": (0, 1000, False), "shallow_duration_s": (1, 86400, True),
        "safe_distance_m": (0, 5000, False), "latency_limit_s": (1, 3600, True)}
    m = r.mapping(node, "oracle", dict.fromkeys(limits, False))
    given = {k: r.number(m[k], k, lo, hi, integer=whole) for k, (lo, hi, whole) in limits.items() if k in m}
    return Oracle(**{k: int(v) if limits[k][2] else float(v) for k, v in given.items()})  # type: ignore[arg-type]
