"""Run a scenario through the tag firmware in virtual time and score it.

The receiver model's NMEA reaches the firmware's GNSS UART 50 ms after each
epoch; whatever the firmware writes on its link arrives at the simulator's
receiver at the virtual time it was written. The oracle's required alerts are
matched against the breach events received."""

from __future__ import annotations

import hashlib
import resource
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from host_sim import cores, wire
from host_sim.centre.server import Centre, Server
from host_sim.device import device_image, zone_compiler
from host_sim.device.pty_console import PtyConsole
from host_sim.run.energy import Energy
from host_sim.run.heap import HEAP
from host_sim.run.home_unit import HomeUnit, tag_id, tag_settings, unit_id
from host_sim.run.tag_rig import NMEA_DELAY_MS, PowerCut, TagRig, on_grid
from host_sim.wire import Kind
from host_sim.world import trace, zones
from host_sim.world.alcohol import Readings
from host_sim.world.gnss_model import Reported
from host_sim.world.scenario import HOME_RADIUS_M, Scenario

ENTER, EXIT, WARN_ENTER, WARN_EXIT = Kind.BREACH, Kind.EXIT, Kind.WARNING, Kind.WARNING_EXIT
EVENT_NAMES: dict[int, str] = {k: wire.EVENT_NAMES[k] for k in (ENTER, EXIT, WARN_ENTER, WARN_EXIT)}  # zone events
ENERGY_NOTE = "a 1200 mAh battery; currents in host_sim/run/energy.py"


@dataclass
class Event:
    kind: int
    zone: int  # index in the scenario's zones
    first_utc: int
    confirm_utc: int
    received_ms: int
    depth_m: int
    lat: float
    lon: float
    seq: int = -1  # the tag's sequence number: (device, seq) names the event at the centre


@dataclass
class Run:
    """Everything one scenario run produced: for scoring, maps and determinism checks."""

    scenario: Scenario
    truth: list[trace.TruePoint]
    reported: list[Reported]
    nmea: bytes
    events: list[Event]
    counters: dict[str, int]
    fixes: int
    valid_fixes: int
    compiled: list[zone_compiler.CompiledZone]
    wall_s: float
    stored: list[dict[str, Any]]  # everything the centre stored, breadcrumbs included
    link_stats: dict[str, Any] = field(default_factory=dict)  # the modem emulator's and the centre's
    energy: Energy | None = None
    gnss_switches: list[tuple[int, bool]] = field(default_factory=list)  # (UTC ms, on) as the tag switched
    unit_stored: list[dict[str, Any]] = field(default_factory=list)  # what the centre stored from the home unit
    radio: dict[str, Any] = field(default_factory=dict)  # adverts sent, heard, replayed
    silences: list[dict[str, Any]] = field(default_factory=list)  # the centre's comms-loss alerts
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by part (cpu_split)
    logs: list[str] = field(default_factory=list)  # the firmware's log lines, every boot
    # the tag unpowered: s from the start, s back, and whether the cut tore a flash program
    outages: list[tuple[float, float, bool]] = field(default_factory=list)
    turns: tuple[int, int] = (0, 0)  # the firmware's last boot: loop turns, and how many were round trips
    resets: list[float] = field(default_factory=list)  # the watchdog reset the tag, s from the start
    alcohol: Readings | None = None  # an alcohol tag's: the true blood alcohol and what its sensors read


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def device_key(sc: Scenario) -> bytes:
    return hashlib.sha256(f"emtag-sim/{sc.name}/{sc.seed}".encode()).digest()


@dataclass
class Order:
    """A new order the centre issues during a run (for tests of the downlink)."""

    at_s: int
    version: int
    zones: list[zones.Zone]
    settings: dict[str, Any] = field(default_factory=dict)


def execute(sc: Scenario, keep_nmea: bool = True, orders: list[Order] | None = None,
            cuts: list[PowerCut] | None = None, console: PtyConsole | None = None,
            config: dict[str, Any] | None = None, heap: str | None = None,
            unit_console: PtyConsole | None = None, unit_config: dict[str, Any] | None = None,
            db: Path | str | None = None) -> Run:
    """heap: the firmware's heap cap (default HEAP, host_sim/run/heap.py); console and
    unit_console: the tag's and the home unit's technician consoles; config and
    unit_config: settings over the scenario's; db: the centre's database (default: a
    temporary one)."""
    heap = heap or HEAP
    t0 = time.perf_counter()
    own0, kids0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    synth0 = time.thread_time()
    truth = trace.synthesise(sc)
    synth_s = time.thread_time() - synth0
    compiled, blob = zone_compiler.compile_zones(sc.zones, seed=f"{sc.name}/{sc.seed}")
    ids = {c.zone_id.hex(): k for k, c in enumerate(compiled)}
    for o in orders or []:  # zones an order brings are scored as zones too
        extra, _ = zone_compiler.compile_zones(o.zones, seed=f"{sc.name}/{sc.seed}/{o.version}")
        ids.update({c.zone_id.hex(): len(sc.zones) + k for k, c in enumerate(extra) if c.zone_id.hex() not in ids})
    start_ms, end_ms = sc.start_utc * 1000, sc.duration_s * 1000
    device, key = tag_id(sc), device_key(sc)
    with cores.one(), tempfile.TemporaryDirectory(prefix="emtag-sim-") as tmp:  # firmware and simulator take turns
        settings: dict[str, Any] = {"device_id": device, "key": key.hex(), "transport": sc.link.transport}
        if sc.home:
            settings["home"] = [zone_compiler.e7(sc.home[0]), zone_compiler.e7(sc.home[1]), HOME_RADIUS_M]
        if sc.curfew:
            settings.update(tag_settings(sc))
        settings.update(sc.trail or {})
        settings.update(config or {})
        changes: dict[str, Any] = {"modem": {"dialect": sc.link.dialect}}
        if sc.alcohol:  # the alcohol tag's role, its sensors given by the simulator
            changes |= {"role": "alcohol", "alcohol": {"driver": "host_alcohol"}}
        image = device_image.build(Path(tmp) / "tag", settings, blob, board_changes=changes)
        clock = [start_ms]
        centre = Centre(db or Path(tmp) / "centre.db", clock=lambda: clock[0])
        centre.register(device, key)
        with Server(centre) as server:
            unit = (HomeUnit(sc, Path(tmp) / "unit", centre, server.port, truth, heap, clock, unit_console, unit_config)
                    if sc.curfew else None)
            tag = TagRig(sc, image, heap, server.port, clock, cuts or [], unit, console)
            issued = list(orders or [])
            t_ms = 0
            while t_ms <= end_ms:
                tag.inputs(t_ms)
                while issued and issued[0].at_s * 1000 <= t_ms:
                    o = issued.pop(0)
                    _, zones_file = zone_compiler.compile_zones(o.zones, seed=f"{sc.name}/{sc.seed}/{o.version}")
                    centre.order(device, o.version, o.settings, zones_file)
                if t_ms % 60000 == 0:  # the centre looks for silent devices once a minute
                    clock[0] = start_ms + t_ms
                    centre.check_silence()
                tag.answers(t_ms)
                if t_ms >= end_ms:
                    break
                i = t_ms // 1000
                tag.epoch(t_ms, truth[i], truth[min(i + 1, len(truth) - 1)], unit.for_tag if unit else [], keep_nmea)
                nxt = tag.next_step(t_ms)
                if unit:
                    unit.for_tag.clear()
                    unit.advance(start_ms + t_ms + NMEA_DELAY_MS)
                    nxt = min(nxt, max(t_ms + tag.step_ms, on_grid(unit.next_ms(start_ms + t_ms + NMEA_DELAY_MS)
                                                                    - start_ms - NMEA_DELAY_MS, tag.step_ms)))
                if issued:
                    nxt = min(nxt, max(t_ms + tag.step_ms, on_grid(issued[0].at_s * 1000, tag.step_ms)))
                t_ms = min(nxt, end_ms)  # the steps between: nothing reaches either device
            turns = tag.finish()
            if unit:
                unit.stop()
        modem = tag.modem
        stored = centre.events(device)
        unit_stored = centre.events(unit_id(sc)) if unit else []
        silences = centre.silences()
        centre.close()
        link_stats = {**modem.stats, "commands": len(modem.log), "rejected": centre.stats.rejected,
                      "duplicates": centre.stats.duplicates, "frames": centre.stats.frames}
    events = [Event(r["kind"], ids.get(r["zone_id"], -1), r["utc"], r["utc"], r["received_ms"], r["depth_m"],
                    r["lat_e7"] / 1e7, r["lon_e7"] / 1e7, r["seq"]) for r in stored if r["kind"] in EVENT_NAMES]
    counters, fixes, valid = _console(tag.lines)
    synth_s += tag.synth_s
    own, kids = _cpu(resource.RUSAGE_SELF) - own0, _cpu(resource.RUSAGE_CHILDREN) - kids0
    cpu = {"firmware": kids, "nmea_and_trace": synth_s, "centre": centre.cpu_s,
           "lockstep_and_rest": own - synth_s - centre.cpu_s}
    return Run(sc, truth, tag.reported, bytes(tag.nmea), events, counters, fixes, valid, compiled,
               time.perf_counter() - t0, stored, link_stats, tag.energy(), tag.gnss.switches, unit_stored,
               unit.stats.as_dict() if unit else {}, silences, {k: round(v, 3) for k, v in cpu.items()}, tag.logs,
               tag.outages, turns, tag.resets, tag.alcohol)


def _console(lines: list[tuple[int, str]]) -> tuple[dict[str, int], int, int]:
    counters, fixes, valid = {}, 0, 0
    for _, text in lines:
        word, *rest = text.split()
        if word == "FIX":
            fixes += 1
            valid += rest[4] == "1"
        elif word == "STAT":
            counters = {k: int(v) for k, v in (kv.split("=") for kv in rest)}
    return counters, fixes, valid
