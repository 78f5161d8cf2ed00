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

from host_sim import curfew_score, device_image, oracle, trace, wire, zone_compiler, zones
from host_sim.centre import SILENCE_S, Centre, Server
from host_sim.energy import Energy
from host_sim.gnss_model import Receiver, Reported
from host_sim.heap import HEAP
from host_sim.home_unit import HomeUnit, tag_settings, unit_id
from host_sim.lockstep import Firmware
from host_sim.modem_emulator import Faults, ModemEmulator
from host_sim.pty_console import PtyConsole
from host_sim.scenario import Scenario
from host_sim.uplink import ONE_WAY_MS, Uplink
from host_sim.wire import Kind

ENTER, EXIT, WARN_ENTER, WARN_EXIT = Kind.BREACH, Kind.EXIT, Kind.WARNING, Kind.WARNING_EXIT
EVENT_NAMES: dict[int, str] = {k: wire.EVENT_NAMES[k] for k in (ENTER, EXIT, WARN_ENTER, WARN_EXIT)}  # zone events
NMEA_DELAY_MS = 50
CONFIRM_WINDOW_S = 2  # an event's confirming fixes: its own second and the two before
ENERGY_NOTE = "a 1200 mAh battery; currents in host_sim/energy.py"
HOME_RADIUS_M = 100  # the tag's idea of "at home", around the scenario's home
TAMPER_STAMP_S = 5  # NIJ: a tamper time-stamped within 5 s (either side: a clock set from the cell runs a second
# or two off) ...
TAMPER_DELIVERY_S = 180  # ... and at the centre within 3 min of that stamp
TEAR_WAIT_S = 120
COMMS_SLACK_S = 120  # a comms-loss alert: SILENCE_S after the last call, checked once a minute, calls once a minute


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
    energy: dict[str, float]
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


@dataclass
class PowerCut:
    """The tag loses power at at_s for off_s. With tear, the power goes instead during
    the first flash program after at_s, tear bytes into it (or TEAR_WAIT_S later if
    the firmware programs nothing meanwhile)."""

    at_s: int
    off_s: int
    tear: int = 0


def execute(sc: Scenario, keep_nmea: bool = True, orders: list[Order] | None = None,
            cuts: list[PowerCut] | None = None, console: PtyConsole | None = None,
            config: dict[str, Any] | None = None, heap: str | None = None) -> Run:
    """heap: the firmware's heap cap (default HEAP, host_sim/heap.py)."""
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
    rx = Receiver(sc)
    start_ms = sc.start_utc * 1000
    nmea = bytearray()
    reported: list[Reported] = []
    step = 1000 // sc.rate_hz
    device, key = sc.name[:8], device_key(sc)
    with tempfile.TemporaryDirectory(prefix="emtag-sim-") as tmp:
        cellular = sc.link.transport == "cellular"
        settings: dict[str, Any] = {"device_id": device, "key": key.hex(), "transport": sc.link.transport}
        if sc.home:
            settings["home"] = [zone_compiler.e7(sc.home[0]), zone_compiler.e7(sc.home[1]), HOME_RADIUS_M]
        if sc.curfew:
            settings.update(tag_settings(sc))
        settings.update(config or {})
        image = device_image.build(Path(tmp) / "tag", settings, blob,
                                   board_changes={"modem": {"dialect": sc.link.dialect}})
        clock = [start_ms]
        centre = Centre(Path(tmp) / "centre.db", clock=lambda: clock[0])
        centre.register(device, key)
        gaps = [(start_ms + a * 1000, start_ms + b * 1000) for a, b in sc.coverage_gaps]
        with Server(centre) as server:
            uplink = Uplink(server.port, [] if cellular else gaps)
            modem = ModemEmulator(sc.link.dialect, server.port, Faults(
                gaps, sc.link.denied, sc.link.drop_rate, sc.link.send_fail_rate, sc.link.slow_ms,
                sc.link.garbage_rate, sc.seed, sc.link.nitz))

            def to_centre(now_ms: int, data: bytes) -> None:
                clock[0] = now_ms + ONE_WAY_MS
                uplink.from_tag(now_ms, data)

            def to_modem(now_ms: int, data: bytes) -> None:
                clock[0] = now_ms
                modem.from_tag(now_ms, data)

            cold = sc.gnss_start == "cold"
            gnss = {"on": True, "since": start_ms, "on_ms": 0, "starts": 1, "cold": False}
            if cold:
                rx.power_on(cold=True)
            switches: list[tuple[int, bool]] = []

            def power(now_ms: int, part: str, on: bool) -> None:
                if part == "modem" and not on:
                    modem.power_off()
                if part != "gnss" or on == gnss["on"]:
                    return
                switches.append((now_ms, on))
                if on:
                    gnss["since"], gnss["starts"] = now_ms, gnss["starts"] + 1
                    rx.power_on(cold=bool(gnss["cold"]))  # cold only at the tag's own power-on, if so
                    gnss["cold"] = False
                else:
                    gnss["on_ms"] += now_ms - gnss["since"]
                gnss["on"] = on

            unit = HomeUnit(sc, Path(tmp) / "unit", centre, server.port, truth, heap, clock) if sc.curfew else None

            # until when nothing reaches the tag: the step's NMEA, then the next step
            quiet = [start_ms]

            def quiet_until() -> int:
                return min([quiet[0], *(d for d, _ in uplink.pending), *(d for d, _ in modem.pending)])

            def boot(at_ms: int) -> Firmware:
                f = Firmware(start_ms=at_ms, device=image, heap=heap, on_power=power)
                f.quiet_until = quiet_until
                f.on_link = to_centre
                f.on_modem = to_modem
                if unit:
                    f.on_advert = unit.tag_advert
                if console:
                    f.on_console = console.from_tag
                return f

            def deliver(fw: Firmware, before_ms: int) -> None:
                # the tag's own deadlines and the answers due to it from the centre (serial) or
                # the modem, in time order, up to before_ms: a deadline may bring an answer due
                # before the next, and each answer stays pending until it arrives, so a tag
                # running ahead never passes one
                while True:
                    answers = [(d, 0, x) for d, x in uplink.pending] + [(d, 1, x) for d, x in modem.pending]
                    nxt = min(answers) if answers else None
                    if nxt and nxt[0] > before_ms:
                        nxt = None
                    if fw.wake_ms is not None and fw.wake_ms < (nxt[0] if nxt else before_ms):
                        fw.run_until(fw.wake_ms + 1)
                        continue
                    if nxt is None:
                        return
                    due, channel, data = nxt
                    (uplink, modem)[channel].pending.remove((due, data))
                    (fw.link if channel == 0 else fw.modem)(data)
                    fw.advance(max(due, fw.now_ms))

            fw = boot(start_ms)
            lines: list[tuple[int, str]] = []
            logs: list[str] = []
            outages: list[tuple[float, float, bool]] = []
            issued = list(orders or [])
            pending_cuts = sorted([*(cuts or []), *(PowerCut(a, b - a) for a, b in sc.tag_off)],
                                  key=lambda c: c.at_s)
            pins = list(sc.inputs)
            state = {"strap": 0, "case": 0}
            off_until = -1
            tear_until = -1  # a torn cut armed: the power goes at the next flash program, or at this time
            end_ms = sc.duration_s * 1000
            for t_ms in range(0, end_ms + 1000, step):
                if off_until < 0:  # what was due before this step's inputs, cuts and orders
                    quiet[0] = start_ms + t_ms
                    deliver(fw, start_ms + t_ms)
                quiet[0] = start_ms + min(t_ms + NMEA_DELAY_MS, end_ms)
                if off_until >= 0 and t_ms >= off_until:  # power back
                    fw = boot(start_ms + t_ms)
                    off_until = -1
                    for name, level in state.items():
                        fw.set_input(name, level)
                while pins and pins[0].at_s * 1000 <= t_ms:
                    pin = pins.pop(0)
                    state[pin.name] = 1 if pin.opened else 0
                    if off_until < 0:
                        fw.set_input(pin.name, state[pin.name])
                if t_ms % 60000 == 0 and off_until < 0:
                    fw.set_input("battery", sc.battery.mv_at(t_ms / 1000))
                due = off_until < 0 and pending_cuts and pending_cuts[0].at_s * 1000 <= t_ms
                if due and pending_cuts[0].tear and tear_until < 0:
                    fw.cut_during_program(pending_cuts[0].tear)
                    tear_until = t_ms + TEAR_WAIT_S * 1000
                if due and (tear_until < 0 or fw.cut or t_ms >= tear_until):
                    cut = pending_cuts.pop(0)
                    tear_until = -1
                    torn = fw.cut
                    fw.kill()
                    modem.power_off()  # the same battery feeds the modem ...
                    power(start_ms + t_ms, "gnss", False)  # ... and the receiver
                    gnss["cold"] = cold
                    lines += fw.out.lines
                    logs += fw.out.logs
                    uplink.pending.clear()  # answers to a tag that is gone
                    off_until = t_ms + cut.off_s * 1000
                    outages.append((t_ms / 1000, off_until / 1000, torn))
                while issued and issued[0].at_s * 1000 <= t_ms:
                    o = issued.pop(0)
                    _, zones_file = zone_compiler.compile_zones(o.zones, seed=f"{sc.name}/{sc.seed}/{o.version}")
                    centre.order(device, o.version, o.settings, zones_file)
                on = off_until < 0
                if console:
                    console.pace(t_ms)
                    typed = console.poll()
                    if typed and on:
                        fw.console(typed)
                modem.tick(start_ms + t_ms)
                if t_ms % 60000 == 0:  # the centre looks for silent devices once a minute
                    clock[0] = start_ms + t_ms
                    centre.check_silence()
                if on:
                    deliver(fw, start_ms + t_ms + NMEA_DELAY_MS)
                else:
                    uplink.due(start_ms + t_ms + NMEA_DELAY_MS)
                    modem.due(start_ms + t_ms + NMEA_DELAY_MS)
                if t_ms >= end_ms:
                    continue
                i = t_ms // 1000
                heard = on and bool(gnss["on"])  # a receiver switched off says nothing: nothing to render
                synth0 = time.perf_counter()  # pure computation: its wall time is its CPU, and cheaper to read
                burst, rep = rx.epoch(t_ms, truth[i], truth[min(i + 1, len(truth) - 1)], render=keep_nmea or heard)
                synth_s += time.perf_counter() - synth0
                reported.append(rep)
                if keep_nmea:
                    nmea += burst
                if on:
                    if heard:
                        fw.gnss(burst)
                    if unit:
                        for rssi, adv in unit.for_tag:
                            fw.radio(rssi, adv)
                    quiet[0] = start_ms + t_ms + step
                    fw.advance(start_ms + t_ms + NMEA_DELAY_MS)
                if unit:
                    unit.for_tag.clear()
                    unit.advance(start_ms + t_ms + NMEA_DELAY_MS)
            if off_until >= 0:
                fw = boot(start_ms + sc.duration_s * 1000)
            fw.stop()
            lines += fw.out.lines
            logs += fw.out.logs
            turns = fw.wakes, fw.round_trips
            if unit:
                unit.stop()
            uplink.close()
            modem.close()
        if gnss["on"]:
            gnss["on_ms"] += start_ms + sc.duration_s * 1000 - gnss["since"]
        st = modem.stats
        sends = st["sends"] + st["send_fail"] + st["dropped"] if cellular else uplink.sent_frames
        energy = Energy(gnss["on_ms"] / 1000, gnss["starts"], sends, cellular, turns[0], sc.duration_s)
        stored = centre.events(device)
        unit_stored = centre.events(unit_id(sc)) if unit else []
        silences = centre.silences()
        link_stats = {**modem.stats, "commands": len(modem.log), "rejected": centre.stats.rejected,
                      "duplicates": centre.stats.duplicates, "frames": centre.stats.frames}
    events = [Event(r["kind"], ids.get(r["zone_id"], -1), r["utc"], r["utc"], r["received_ms"], r["depth_m"],
                    r["lat_e7"] / 1e7, r["lon_e7"] / 1e7) for r in stored if r["kind"] in EVENT_NAMES]
    counters, fixes, valid = _console(lines)
    own, kids = _cpu(resource.RUSAGE_SELF) - own0, _cpu(resource.RUSAGE_CHILDREN) - kids0
    cpu = {"firmware": kids, "nmea_and_trace": synth_s, "centre": centre.cpu_s,
           "lockstep_and_rest": own - synth_s - centre.cpu_s}
    return Run(sc, truth, reported, bytes(nmea), events, counters, fixes, valid, compiled,
               time.perf_counter() - t0, stored, link_stats, energy, switches, unit_stored,
               unit.stats.as_dict() if unit else {}, silences, {k: round(v, 3) for k, v in cpu.items()}, logs,
               outages, turns)


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
    for pin in (p for p in sc.inputs if p.opened):
        kind = Kind.TAMPER_STRAP if pin.name == "strap" else Kind.TAMPER_CASE
        t = start + pin.at_s
        seen = [r for r in run.stored if r["kind"] == kind and abs(r["utc"] - t) <= TAMPER_STAMP_S]
        if seen and seen[0]["received_ms"] <= seen[0]["utc"] * 1000 + TAMPER_DELIVERY_S * 1000:
            tamper_latencies.append(round(seen[0]["received_ms"] / 1000 - t, 1))
        else:
            missed.append({"tamper": pin.name, "at_s": pin.at_s,
                           "why": "late" if seen else f"no {pin.name} tamper stamped within {TAMPER_STAMP_S} s"})
    detected = len(musts) - len([m for m in missed if "zone" in m])
    curfew = curfew_score.score(sc, run.truth, run.unit_stored) if sc.curfew else curfew_score.CurfewScore()
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
