"""The home monitoring unit in a scenario: its own firmware process (role hmu on
the host board), its serial link to the centre, the RF model between it and the
tag, a replay device if the scenario plants one, and its mains supply.

The tag's adverts reach the unit at the virtual time they were sent, with the
signal the RF model gives the tag's true position then; the unit's adverts reach
the tag at the tag's next turn."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from host_sim.centre.server import Centre
from host_sim.device import device_image
from host_sim.device.pty_console import PtyConsole
from host_sim.run.energy import StateClock
from host_sim.run.lockstep import POWER_ON, Firmware
from host_sim.run.uplink import ONE_WAY_MS, Uplink
from host_sim.world.rf import RfModel
from host_sim.world.scenario import Curfew, Scenario
from host_sim.world.trace import TruePoint
from host_sim.world.zones import Window

REPLAY_EVERY_MS = 5000
REPLAY_RSSI_DBM = -45  # the recorder stands beside the unit
TAG_BEACON_ID, UNIT_BEACON_ID = "7a600001", "4b550001"
NO_ZONES = b"EZS\0"  # a zones file with none: a unit's order carries no zones


def tag_id(sc: Scenario) -> str:
    """The scenario's tag's device id: 8 characters, as the frame holds, named like a real tag's."""
    return "tag-" + hashlib.sha256(sc.name.encode()).hexdigest()[:4]


def unit_id(sc: Scenario) -> str:
    return "hmu-" + tag_id(sc)[4:]


def _key(kind: str, sc: Scenario) -> bytes:
    return hashlib.sha256(f"emtag-sim/{kind}/{sc.name}/{sc.seed}".encode()).digest()


def tag_settings(sc: Scenario) -> dict[str, Any]:
    """What the tag's configuration needs to beacon to this unit and hear it."""
    return {"pair_key": _key("pair", sc).hex(), "beacon_id": TAG_BEACON_ID, "hmu_beacon_id": UNIT_BEACON_ID}


def _windows(schedule: list[Window]) -> list[list[int]]:
    return [[w.days, w.start_min, w.end_min] for w in schedule]


def rules(c: Curfew) -> dict[str, Any]:
    """The curfew's rules as the unit's settings (what an order may change, config.UNIT_ORDER_KEYS)."""
    return {"curfew": _windows(c.schedule), "curfew_changes": [[a, b, int(on)] for a, b, on in c.changes],
            "late_return_grace_s": c.late_return_grace_s, "early_leave_grace_s": c.early_leave_grace_s,
            "absence_timeout_s": c.absence_timeout_s}


def unit_settings(sc: Scenario, c: Curfew) -> dict[str, Any]:
    return {"device_id": unit_id(sc), "key": _key("unit", sc).hex(), **tag_settings(sc), **rules(c)}


@dataclass
class Stats:
    tag_adverts: int = 0  # sent by the tag
    heard_by_unit: int = 0  # of those, through the RF model
    unit_adverts: int = 0
    heard_by_tag: int = 0
    captured: int = 0  # by the replay device
    replayed: int = 0
    backup_s: int = 0  # the unit on its backup battery
    scanning_s_on_backup: int = 0  # of that, its radio scanning for the tag
    scanning_s_on_mains: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class HomeUnit:
    def __init__(self, sc: Scenario, folder: Path, centre: Centre, port: int, truth: list[TruePoint],
                 heap: str, clock: list[int], console: PtyConsole | None = None,
                 config: dict[str, Any] | None = None) -> None:
        """clock: the centre's idea of now, set to each frame's virtual time as it leaves;
        console: the unit's technician console (tagsim device); config: settings over the scenario's."""
        c = sc.curfew
        assert c is not None
        self.sc, self.c, self.truth = sc, c, truth
        self.start_ms = sc.start_utc * 1000
        centre.register(unit_id(sc), _key("unit", sc))
        self._centre = centre
        self._orders = list(enumerate(c.orders, 1))  # (version, (at s, rules)) still to issue
        self.console = console
        self._image = device_image.build(folder, {**unit_settings(sc, c), **(config or {})},
                                         board_changes={"role": "hmu", "name": "host-hmu", "strap": None})
        self._heap, self._clock = heap, clock
        self.rf = RfModel(c.radio, c.unit, sc.seed)
        self.uplink = Uplink(port, [])
        self._dead = False  # in a unit_off spell: no process at all
        self._mains = True
        self._scanning = False
        self.radio_states = StateClock(self.start_ms, "mains.off")  # its supply and whether its radio scans
        self.fw = self._boot(self.start_ms)
        self.for_tag: list[tuple[int, bytes]] = []  # (RSSI, advert) for the tag's next turn
        self._from_tag: list[tuple[int, bytes]] = []  # (UTC ms, advert) not yet delivered
        self._captured: list[bytes] = []
        self._next_replay_ms = self.start_ms + c.replayer.replay[0] * 1000 if c.replayer else None
        self._case = list(c.inputs)  # the case opened or shut, still to come
        self._case_open = False
        self._minute = -1  # the last minute the backup battery's voltage was given
        self._quiet = self.start_ms  # until when nothing reaches the unit from here
        self.stats = Stats()

    def _boot(self, at_ms: int, cause: int = POWER_ON) -> Firmware:
        fw = Firmware(at_ms, self._image, heap=self._heap, reset_cause=cause, on_power=self._power)
        # between deliveries the unit runs its own deadlines without a round trip
        fw.quiet_until = lambda: min([self._quiet, *(d for d, _ in self.uplink.pending)])

        def to_centre(now_ms: int, data: bytes) -> None:
            self._clock[0] = now_ms + ONE_WAY_MS
            self.uplink.from_tag(now_ms, data)

        fw.on_link = to_centre
        fw.on_advert = self._unit_advert
        if self.console:
            fw.on_console = self.console.from_tag
        return fw

    def _power(self, now_ms: int, part: str, on: bool) -> None:
        if part == "scan":  # the host board says when its radio starts and stops scanning
            self._scanning = on
            self._radio_state(now_ms)

    def _radio_state(self, now_ms: int) -> None:
        supply = "dead" if self._dead else "mains" if self._mains else "backup"
        self.radio_states.enter(now_ms, f"{supply}.{'scanning' if self._scanning else 'off'}")

    def _restart(self, at_ms: int, cause: int) -> None:
        self._scanning = False  # until the new boot's radio scans
        self._radio_state(at_ms)
        self.fw = self._boot(at_ms, cause)
        self._minute = -1
        if not self._mains:  # its pins read as they are
            self.fw.set_input("mains", 0)
        if self._case_open:
            self.fw.set_input("case", 1)

    def _powered(self, until_ms: int) -> bool:
        # False through a unit_off spell: the process killed at its start, booted again at its end
        off = any(a * 1000 <= until_ms - self.start_ms < b * 1000 for a, b in self.c.unit_off)
        if off and not self._dead:
            self.fw.kill()
            self.uplink.pending.clear()  # answers to a unit that is gone
            self._dead, self._scanning = True, False
            self._radio_state(until_ms)
        elif not off and self._dead:
            self._mains, self._dead = True, False
            self._restart(until_ms, POWER_ON)
        return not self._dead

    def _position(self, utc_ms: int) -> TruePoint:
        return self.truth[min(max(0, (utc_ms - self.start_ms) // 1000), len(self.truth) - 1)]

    def tag_advert(self, utc_ms: int, advert: bytes) -> None:
        """The tag sent an advert (called from the tag's lockstep)."""
        self.stats.tag_adverts += 1
        self._from_tag.append((utc_ms, advert))
        rep = self.c.replayer
        if rep and rep.capture[0] * 1000 <= utc_ms - self.start_ms < rep.capture[1] * 1000:
            self._captured.append(advert)
            self.stats.captured += 1

    def _unit_advert(self, utc_ms: int, advert: bytes) -> None:
        self.stats.unit_adverts += 1
        p = self._position(utc_ms)
        rssi = self.rf.rssi(p.lat, p.lon)
        if rssi is not None:
            self.for_tag.append((rssi, advert))
            self.stats.heard_by_tag += 1

    def advance(self, until_ms: int) -> None:
        """Deliver what the tag sent and the replayer plays, in time order, then run the unit to until_ms."""
        while self._orders and self.start_ms + self._orders[0][1][0] * 1000 <= until_ms:
            version, (_, c) = self._orders.pop(0)  # the court's new rules: the unit has them at its next frame
            self._centre.order(unit_id(self.sc), version, rules(c), NO_ZONES)
        if not self._powered(until_ms):
            self._from_tag = []  # nobody listening
            return
        if self.fw.reset:  # the unit reset itself (a new pairing, its watchdog): it boots again at once
            self.fw.kill()
            self.uplink.pending.clear()
            self._restart(self.fw.now_ms, self.fw.reset)
        events: list[tuple[int, int, bytes]] = []
        for t, adv in self._from_tag:
            if t > until_ms:
                break
            p = self._position(t)
            rssi = self.rf.rssi(p.lat, p.lon)
            if rssi is not None:
                events.append((t, rssi, adv))
                self.stats.heard_by_unit += 1
        self._from_tag = [(t, adv) for t, adv in self._from_tag if t > until_ms]  # a tag running ahead: later
        rep = self.c.replayer
        while (rep and self._captured and self._next_replay_ms is not None and self._next_replay_ms <= until_ms
               and self._next_replay_ms < self.start_ms + rep.replay[1] * 1000):
            events.append((self._next_replay_ms, REPLAY_RSSI_DBM,
                           self._captured[self.stats.replayed % len(self._captured)]))
            self.stats.replayed += 1
            self._next_replay_ms += REPLAY_EVERY_MS
        for t, rssi, adv in sorted(events, key=lambda e: e[0]):
            self._answers(t)
            self.fw.radio(rssi, adv)
            self._quiet = t
            self.fw.advance(max(t, self.fw.now_ms))
        mains = not any(a * 1000 <= until_ms - self.start_ms < b * 1000 for a, b in self.c.mains_off)
        if mains != self._mains:
            self._mains = mains
            self._radio_state(until_ms)
            self.fw.set_input("mains", int(mains))
        minute = (until_ms - self.start_ms) // 60000
        if minute != self._minute:  # the backup battery, read as the tag's is, once a minute
            self._minute = minute
            self.fw.set_input("battery", self.c.backup_mv((until_ms - self.start_ms) / 1000))
        while self._case and self.start_ms + self._case[0].at_s * 1000 <= until_ms:
            self._case_open = self._case.pop(0).opened
            self.fw.set_input("case", int(self._case_open))  # the host board's case pin: 0 closed
        typed = self.console.poll() if self.console else b""
        if typed:
            self.fw.console(typed)
        self._answers(until_ms)
        self._quiet = until_ms
        self.fw.advance(max(until_ms, self.fw.now_ms))

    def next_ms(self, until_ms: int) -> int:
        """After an advance to until_ms, the UTC ms by which the unit must be advanced again:
        at once while it has adverts for the tag or a technician may type; else its own next
        deadline, an answer due, an order, a replay, a mains, power or case change, a minute
        (its backup battery), or the end."""
        if self.for_tag or self.console or (not self._dead and self.fw.reset):
            return until_ms
        s = self.start_ms
        due = [s + self.sc.duration_s * 1000, s + ((until_ms - s) // 60000 + 1) * 60000]
        if not self._dead and self.fw.wake_ms is not None:
            due.append(self.fw.wake_ms)
        due += [d for d, _ in self.uplink.pending]
        due += [s + at * 1000 for _, (at, _) in self._orders[:1]] + [s + i.at_s * 1000 for i in self._case[:1]]
        if self._next_replay_ms is not None:
            due.append(self._next_replay_ms)
        edges = [s + e * 1000 for spell in (*self.c.mains_off, *self.c.unit_off) for e in spell]
        due += [e for e in edges if e > until_ms]
        return min(due)

    def _answers(self, before_ms: int) -> None:
        for due, data in self.uplink.due(before_ms):
            self.fw.link(data)
            self.fw.advance(max(due, self.fw.now_ms))

    def stop(self) -> None:
        if not self._dead and not self.fw.reset:
            self.fw.stop()
        self.uplink.close()
        ms = self.radio_states.close(self.start_ms + self.sc.duration_s * 1000)
        self.stats.backup_s = (ms.get("backup.off", 0) + ms.get("backup.scanning", 0)) // 1000
        self.stats.scanning_s_on_backup = ms.get("backup.scanning", 0) // 1000
        self.stats.scanning_s_on_mains = ms.get("mains.scanning", 0) // 1000
