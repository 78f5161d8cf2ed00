"""The tag's rig: its firmware in lockstep, booted again after each power cut, with the
receiver it hears, the link it reports over (the modem emulator, or the serial uplink)
and the pins and battery it reads. The run (host_sim/run/sim.py) moves it one step at a
time, with the centre and the home unit beside it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from host_sim.device.pty_console import PtyConsole
from host_sim.run.energy import Energy, StateClock
from host_sim.run.home_unit import HomeUnit
from host_sim.run.lockstep import POWER_ON, WATCHDOG, Firmware
from host_sim.run.modem_emulator import Faults, ModemEmulator
from host_sim.run.uplink import ONE_WAY_MS, Uplink
from host_sim.world import alcohol
from host_sim.world.gnss_model import Receiver, Reported
from host_sim.world.scenario import Scenario
from host_sim.world.trace import TruePoint

NMEA_DELAY_MS = 50  # an epoch's NMEA reaches the UART this long after its time
TEAR_WAIT_S = 120  # a torn cut waits this long for a flash program, then cuts anyway


def on_grid(ms: int, step_ms: int) -> int:
    """ms rounded up to the run's step grid."""
    return -(-ms // step_ms) * step_ms


@dataclass
class PowerCut:
    """The tag loses power at at_s for off_s. With tear, the power goes instead during
    the first flash program after at_s, tear bytes into it (or TEAR_WAIT_S later if
    the firmware programs nothing meanwhile)."""

    at_s: int
    off_s: int
    tear: int = 0


@dataclass
class ReceiverPower:
    """The GNSS receiver's power as the tag switches it: for the energy model and maps
    (the time in each state is the rig's gnss_states)."""

    on: bool = True
    starts: int = 1
    cold_next: bool = False  # the next power-on is a cold start (the tag's own, after a cut)
    switches: list[tuple[int, bool]] = field(default_factory=list)  # (UTC ms, on)


class TagRig:
    def __init__(self, sc: Scenario, image: Path, heap: str, server_port: int, clock: list[int],
                 cuts: list[PowerCut], unit: HomeUnit | None, console: PtyConsole | None) -> None:
        """clock: the centre's virtual clock, which the tag's link moves as frames leave."""
        self.sc, self.image, self.heap, self.clock = sc, image, heap, clock
        self.unit, self.console = unit, console
        self.start_ms = sc.start_utc * 1000
        self.end_ms = sc.duration_s * 1000
        self.step_ms = 1000 // sc.rate_hz
        self.cellular = sc.link.transport == "cellular"
        gaps = [(self.start_ms + a * 1000, self.start_ms + b * 1000) for a, b in sc.coverage_gaps]
        self.uplink = Uplink(server_port, [] if self.cellular else gaps)
        self.modem = ModemEmulator(sc.link.dialect, server_port, Faults(
            gaps, sc.link.denied, sc.link.drop_rate, sc.link.send_fail_rate, sc.link.slow_ms,
            sc.link.garbage_rate, sc.seed, sc.link.nitz), start_ms=self.start_ms)
        self.rx = Receiver(sc)
        self.cold = sc.gnss_start == "cold"
        # an alcohol tag has no receiver: its sensors' readings instead, given once a minute
        self.alcohol = alcohol.readings(sc.alcohol, sc.duration_s, sc.seed) if sc.alcohol else None
        self.gnss = ReceiverPower(on=self.alcohol is None)
        self.gnss_states = StateClock(self.start_ms, "off" if self.alcohol else "acquiring")
        self.scan_states = StateClock(self.start_ms, "off")  # the radio listening for the home unit
        self.waits_ms = {"awake": 0, "light_sleep": 0}  # the board's account, over every boot
        self.turns = 0  # loop turns, over every boot
        self.adverts = 0  # BLE adverts the tag sent
        if self.cold and self.gnss.on:
            self.rx.power_on(cold=True)
        self.reported: list[Reported] = []
        self.nmea = bytearray()
        self.synth_s = 0.0  # CPU in the receiver model
        self.lines: list[tuple[int, str]] = []
        self.logs: list[str] = []
        self.outages: list[tuple[float, float, bool]] = []  # s from the start, s back, torn
        self.resets: list[float] = []  # the watchdog reset the tag, s from the start
        self._hangs = list(sc.tag_hangs)
        self._cuts = sorted([*cuts, *(PowerCut(a, b - a) for a, b in sc.tag_off)], key=lambda c: c.at_s)
        self._pins = list(sc.inputs)
        self._levels = {"strap": 0, "case": 0}
        self._off_until = -1  # ms from the start the power comes back, -1 while on
        self._tear_until = -1  # a torn cut armed: the power goes at the next flash program, or at this time
        self._quiet = self.start_ms  # until when nothing reaches the tag from here
        self.fw = self._boot(self.start_ms)

    @property
    def on(self) -> bool:
        return self._off_until < 0

    # one step ---------------------------------------------------------------------
    def inputs(self, t_ms: int) -> None:
        """What was due before the step, then its power, pins, battery and any cut."""
        if self.on:
            self._quiet = self.start_ms + t_ms
            self._deliver(self.start_ms + t_ms)
        self._quiet = self.start_ms + min(t_ms + NMEA_DELAY_MS, self.end_ms)
        if not self.on and t_ms >= self._off_until:  # power back
            self._off_until = -1
            self._restart(t_ms, POWER_ON)
        if self.on and self.fw.reset:  # the watchdog, or the firmware, reset the chip: it boots again at once
            cause = self.fw.reset
            self._collect()
            self.fw.kill()
            if cause == WATCHDOG:
                self.resets.append(t_ms / 1000)
            self._restart(t_ms, cause)
        while self._hangs and self._hangs[0] * 1000 <= t_ms:
            self._hangs.pop(0)
            if self.on:
                self.fw.hang()
        while self._pins and self._pins[0].at_s * 1000 <= t_ms:
            pin = self._pins.pop(0)
            self._levels[pin.name] = 1 if pin.opened else 0
            if self.on:
                self.fw.set_input(pin.name, self._levels[pin.name])
        if t_ms % 60000 == 0 and self.on:
            self.fw.set_input("battery", self.sc.battery.mv_at(t_ms / 1000))
        if t_ms % 60000 == 0 and self.alcohol is not None:
            for name, value in self.alcohol.at(t_ms // 60000).items():
                if self._levels.get(name) != value:  # kept for a boot after a cut, as the pins are
                    self._levels[name] = value
                    if self.on:
                        self.fw.set_input(name, value)
        self._cut_if_due(t_ms)

    def answers(self, t_ms: int) -> None:
        """The technician's typing, the network, and the answers due up to this step's NMEA."""
        if self.console:
            self.console.pace(t_ms)
            typed = self.console.poll()
            if typed and self.on:
                self.fw.console(typed)
        self.modem.tick(self.start_ms + t_ms)
        before = self.start_ms + t_ms + NMEA_DELAY_MS
        if self.on:
            self._deliver(before)
        else:  # nobody to hear them
            self.uplink.due(before)
            self.modem.due(before)

    def epoch(self, t_ms: int, here: TruePoint, nxt: TruePoint, adverts: list[tuple[int, bytes]],
              keep_nmea: bool) -> None:
        """The receiver's epoch (if the tag has it switched on) and the home unit's
        adverts reach the tag; it runs until the next step."""
        if not self.on:
            return
        if self.gnss.on:  # a receiver switched off says nothing
            synth0 = time.perf_counter()  # pure computation: its wall time is its CPU, and cheaper to read
            burst, rep = self.rx.epoch(t_ms, here, nxt)
            self.synth_s += time.perf_counter() - synth0
            if rep.valid and self.gnss_states.state == "acquiring":
                self.gnss_states.enter(self.start_ms + t_ms, "tracking")
            self.reported.append(rep)
            if keep_nmea:
                self.nmea += burst
            self.fw.gnss(burst)
        for rssi, adv in adverts:
            self.fw.radio(rssi, adv)
        self._quiet = self.start_ms + t_ms + self.step_ms
        self.fw.advance(self.start_ms + t_ms + NMEA_DELAY_MS)

    def next_step(self, t_ms: int) -> int:
        """The first step after t_ms that anything reaches the tag, or that it needs: the next
        while its receiver streams or a technician may type; else the next of its own
        deadlines, an answer due, a pin, hang, cut, power back, coverage edge, or minute (its
        battery). The steps between would find nothing to do (host_sim/run/sim.py skips them)."""
        nxt = t_ms + self.step_ms
        if self.console or self._tear_until >= 0 or (self.on and (self.gnss.on or self.fw.reset)):
            return nxt
        due = [self.end_ms, (t_ms // 60000 + 1) * 60000]
        if not self.on:
            due.append(self._off_until)
        elif self.fw.wake_ms is not None:
            due.append(self.fw.wake_ms - self.start_ms - NMEA_DELAY_MS)
        due += [d - self.start_ms - NMEA_DELAY_MS for d, _ in (*self.uplink.pending, *self.modem.pending)]
        due += [a * 1000 for a in (*(p.at_s for p in self._pins[:1]), *self._hangs[:1],
                                  *(c.at_s for c in self._cuts[:1]))]
        due += [e - self.start_ms for gap in self.modem.f.gaps_ms for e in gap if e > self.start_ms + t_ms]
        return max(nxt, on_grid(min(due), self.step_ms))

    def finish(self) -> tuple[int, int]:
        """Stop the firmware (booted again if the run ends in a cut) and the link; the last
        boot's loop turns and round trips."""
        if self.on and self.fw.reset:  # reset at the very end: nothing more to hear from that boot
            self._collect()
            self.fw.kill()
        if not self.on or self.fw.reset:
            self.fw = self._boot(self.start_ms + self.end_ms)
        self.fw.settle(self.start_ms + self.end_ms)
        self.fw.stop()
        self._collect()
        self.uplink.close()
        self.modem.close()
        return self.fw.wakes, self.fw.round_trips

    def energy(self) -> Energy:
        """The run's cost to the battery, once finished."""
        st = self.modem.stats
        end = self.start_ms + self.end_ms
        sends = st["sends"] + st["send_fail"] + st["dropped"] if self.cellular else self.uplink.sent_frames
        return Energy.of(self.sc.duration_s, self.waits_ms, self.turns, self.gnss_states.close(end), self.gnss.starts,
                         self.modem.states.close(end) if self.cellular else None, sends, self.adverts,
                         self.scan_states.close(end))

    # the parts ----------------------------------------------------------------------
    def _restart(self, t_ms: int, cause: int) -> None:
        self._power(self.start_ms + t_ms, "scan", False)  # until the new boot listens again
        self.fw = self._boot(self.start_ms + t_ms, cause)
        for name, level in self._levels.items():
            self.fw.set_input(name, level)

    def _boot(self, at_ms: int, cause: int = POWER_ON) -> Firmware:
        sensors = self.alcohol.at((at_ms - self.start_ms) // 60000) if self.alcohol is not None else None
        f = Firmware(start_ms=at_ms, device=self.image, heap=self.heap, on_power=self._power, reset_cause=cause,
                     sensors=sensors)
        f.quiet_until = self._quiet_until
        f.on_link = self._to_centre
        f.on_modem = self._to_modem
        f.on_advert = self._advert
        if self.console:
            f.on_console = self.console.from_tag
        return f

    def _advert(self, now_ms: int, adv: bytes) -> None:
        self.adverts += 1
        if self.unit:
            self.unit.tag_advert(now_ms, adv)

    def _quiet_until(self) -> int:
        # until when nothing reaches the tag: the step's NMEA, then the next step, or an answer
        return min([self._quiet, *(d for d, _ in self.uplink.pending), *(d for d, _ in self.modem.pending)])

    def _to_centre(self, now_ms: int, data: bytes) -> None:
        self.clock[0] = now_ms + ONE_WAY_MS
        self.uplink.from_tag(now_ms, data)

    def _to_modem(self, now_ms: int, data: bytes) -> None:
        self.clock[0] = now_ms
        self.modem.from_tag(now_ms, data)

    def _power(self, now_ms: int, part: str, on: bool) -> None:
        g = self.gnss
        if part == "scan":
            self.scan_states.enter(now_ms, "scanning" if on else "off")
        elif part == "modem":
            self.modem.power(now_ms, on)
        elif part == "dtr":
            self.modem.dtr(now_ms, on)
        if part != "gnss" or on == g.on:
            return
        self.gnss_states.enter(now_ms, "acquiring" if on else "off")
        g.switches.append((now_ms, on))
        if on:
            g.starts += 1
            self.rx.power_on(cold=g.cold_next)  # cold only at the tag's own power-on, if so
            g.cold_next = False
        g.on = on

    def _deliver(self, before_ms: int) -> None:
        # the tag's own deadlines and the answers due to it from the centre (serial) or the
        # modem, in time order, up to before_ms: a deadline may bring an answer due before
        # the next, and each answer stays pending until it arrives, so a tag running ahead
        # never passes one
        fw = self.fw
        while True:
            answers = [(d, 0, x) for d, x in self.uplink.pending] + [(d, 1, x) for d, x in self.modem.pending]
            nxt = min(answers) if answers else None
            if nxt and nxt[0] > before_ms:
                nxt = None
            if fw.wake_ms is not None and fw.wake_ms < (nxt[0] if nxt else before_ms):
                fw.run_until(fw.wake_ms + 1)
                continue
            if nxt is None:
                return
            due, channel, data = nxt
            (self.uplink, self.modem)[channel].pending.remove((due, data))
            (fw.link if channel == 0 else fw.modem)(data)
            fw.advance(max(due, fw.now_ms))

    def _cut_if_due(self, t_ms: int) -> None:
        due = self.on and self._cuts and self._cuts[0].at_s * 1000 <= t_ms
        if due and self._cuts[0].tear and self._tear_until < 0:
            self.fw.cut_during_program(self._cuts[0].tear)
            self._tear_until = t_ms + TEAR_WAIT_S * 1000
        if not due or (self._tear_until >= 0 and not self.fw.cut and t_ms < self._tear_until):
            return
        cut = self._cuts.pop(0)
        self._tear_until = -1
        torn = self.fw.cut
        self.fw.settle(self.start_ms + t_ms)
        self.fw.kill()
        self.modem.power(self.start_ms + t_ms, False)  # the same battery feeds the modem ...
        self._power(self.start_ms + t_ms, "gnss", False)  # ... and the receiver, and the radio
        self._power(self.start_ms + t_ms, "scan", False)
        self.gnss.cold_next = self.cold
        self._collect()
        self.uplink.pending.clear()  # answers to a tag that is gone
        self._off_until = t_ms + cut.off_s * 1000
        self.outages.append((t_ms / 1000, self._off_until / 1000, torn))

    def _collect(self) -> None:
        for k, v in self.fw.waits_ms.items():
            self.waits_ms[k] += v
        self.turns += self.fw.wakes
        self.lines += self.fw.out.lines
        self.logs += self.fw.out.logs
