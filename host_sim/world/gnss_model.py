"""What a GNSS receiver on the wearer's ankle reports: the true position plus
error that follows the sky it sees, rendered as NMEA as a real receiver sends it
(GN talker, RMC, GGA, GSA, GSV at 1 Hz by default).

Error model: Gauss-Markov drift on each axis (30 s correlation), scaled by HDOP;
multipath jumps in urban canyons and indoors; fixes lost indoors and in tunnels;
after a long outage, a time to first fix before the receiver reports one again.
Powered on hot, a fix in seconds; cold, no time for a while (empty time and date
fields, as a NEO-6 sends them) and a fix within two minutes. A receiver switched
off is not asked: its next epoch carries the drift across the gap.
Deterministic from the scenario's seed."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import reduce
from operator import xor

from pyproj import Geod

from host_sim.world.scenario import Scenario
from host_sim.world.trace import TruePoint

GEOD = Geod(ellps="WGS84")
TAU_S = 30.0
LONG_OUTAGE_S = 30


@dataclass(frozen=True)
class Sky:
    hdop: tuple[float, float]
    sats: tuple[int, int]
    sigma_m: float  # 1-sigma error per axis at the middle of the HDOP range
    fix_prob: float
    jump_rate: float  # multipath episodes per second
    jump_m: tuple[float, float]
    snr: tuple[int, int]


SKIES = {
    "open_sky": Sky((0.8, 1.1), (10, 14), 1.5, 1.0, 0.0, (0, 0), (40, 48)),
    "urban_canyon": Sky((1.4, 2.6), (6, 9), 3.0, 0.98, 0.02, (20, 60), (28, 38)),
    "indoors": Sky((2.5, 6.0), (4, 6), 8.0, 0.4, 0.05, (20, 80), (18, 28)),
    "tunnel": Sky((99.0, 99.0), (0, 0), 0.0, 0.0, 0.0, (0, 0), (0, 0)),
}


def env_at(sc: Scenario, t: float, leg_env: str | None = None) -> str:
    """The sky at t: an environment segment's, else the leg's, else the default."""
    for seg in sc.environment:
        if seg.start_s <= t < seg.end_s:
            return seg.env
    return leg_env or sc.default_env


@dataclass
class Reported:
    """What the receiver said at one instant (for maps and reports)."""

    t_ms: int
    lat: float
    lon: float
    valid: bool
    hdop: float
    faked: bool = False  # a position the scenario's faults made (multipath, a spoofer)


JAMMED_SNR = (3, 14)  # C/N0 under a jammer: the satellites still listed, their signals buried
SPOOFED_SNR = (49, 50)  # one transmitter: every satellite at the same strong power
GARBAGE = b"$\x00\xff*,\r\n0123456789ABCDEFGPRMCGGA"


class Receiver:
    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        self.rnd = random.Random(sc.seed)
        self.ex = self.ey = 0.0
        self.jump_left = 0
        self.jx = self.jy = 0.0
        self.no_fix_s = 0
        self.ttff_left = 0
        self.no_time_left = 0  # a cold receiver's seconds before it knows UTC
        self._last_ms: int | None = None  # the previous epoch asked for
        self._gsv_cache: dict[tuple[str, int], list[str]] = {}
        self.faults = random.Random(sc.seed ^ 0x5EED)  # the faults' own draws: the sky's stay as they were
        self._multipath: tuple[int, float, float] = (0, 0.0, 0.0)  # fixes left, east m, north m
        self._spoof_from: tuple[int, float, float] | None = None  # first spoofed epoch: ms, lat, lon

    def power_on(self, cold: bool) -> None:
        if cold:
            self.ttff_left = self.rnd.randint(26, 110)
            self.no_time_left = self.rnd.randint(3, self.ttff_left // 2)
        else:
            self.ttff_left = self.rnd.randint(2, 5)

    def env_at(self, t: float, leg_env: str | None = None) -> str:
        return env_at(self.sc, t, leg_env)

    def epoch(self, t_ms: int, truth: TruePoint, nxt: TruePoint) -> tuple[bytes, Reported]:
        """The NMEA burst for the instant t_ms (ms from the start), between truth and nxt.
        Epochs not asked for (the receiver off) only let the drift decorrelate."""
        rnd = self.rnd
        steps = 1 if self._last_ms is None else max(1, round((t_ms - self._last_ms) * self.sc.rate_hz / 1000))
        since_ms = -1 if self._last_ms is None else self._last_ms
        self._last_ms = t_ms
        for f in self.sc.faults:  # instants passed since the last epoch
            if since_ms < f.start_s * 1000 <= t_ms and f.kind == "cold_start":
                self.power_on(cold=True)
            elif since_ms < f.start_s * 1000 <= t_ms and f.kind == "multipath":
                rad = math.radians(f.bearing)
                self._multipath = (f.fixes, f.offset_m * math.sin(rad), f.offset_m * math.cos(rad))
        if steps > 1:  # whatever multipath episode was under way is over
            self.jump_left = 0
            self.no_time_left = max(0, self.no_time_left - steps + 1)
        sky = SKIES[self.env_at(t_ms / 1000, truth.env)]
        frac = (t_ms % 1000) / 1000
        lat = truth.lat + (nxt.lat - truth.lat) * frac
        lon = truth.lon + (nxt.lon - truth.lon) * frac
        hdop = rnd.uniform(*sky.hdop)
        sats = rnd.randint(*sky.sats)
        have = rnd.random() < sky.fix_prob
        if have and self.ttff_left > 0:
            self.ttff_left -= 1
            have = False
        if not have:
            self.no_fix_s += 1
            if self.no_fix_s == LONG_OUTAGE_S:
                self.ttff_left = rnd.randint(3, 25)  # hot start once the sky returns
        else:
            self.no_fix_s = 0
        a = math.exp(-steps / (TAU_S * self.sc.rate_hz))  # Gauss-Markov: exact over any gap
        sigma = sky.sigma_m * hdop / (sum(sky.hdop) / 2) if sky.sigma_m else 0.0
        self.ex = a * self.ex + math.sqrt(1 - a * a) * rnd.gauss(0, sigma)
        self.ey = a * self.ey + math.sqrt(1 - a * a) * rnd.gauss(0, sigma)
        if self.jump_left == 0 and rnd.random() < sky.jump_rate:
            ang = rnd.uniform(0, 2 * math.pi)
            mag = rnd.uniform(*sky.jump_m)
            self.jump_left, self.jx, self.jy = rnd.randint(1, 4), mag * math.cos(ang), mag * math.sin(ang)
        east, north = self.ex, self.ey
        if self.jump_left:
            east, north = east + self.jx, north + self.jy
            self.jump_left -= 1
        lon1, lat1, _ = GEOD.fwd(lon, lat, 0, north)
        lon2, lat2, _ = GEOD.fwd(lon1, lat1, 90, east)
        speed = max(0.0, truth.speed_mps + rnd.gauss(0, 0.08)) if have else 0.0
        course, faked, fault = truth.course_deg, False, self.sc.faked(t_ms / 1000)
        left, me, mn = self._multipath
        if left and have:  # a reflection the receiver takes for the direct signal
            self._multipath = (left - 1, me, mn)
            lon2, lat2, _ = GEOD.fwd(lon2, lat2, math.degrees(math.atan2(me, mn)), math.hypot(me, mn))
            faked = True
        if fault == "jamming":
            have, sky = False, replace(sky, snr=JAMMED_SNR)
        elif fault == "spoofing":
            lat2, lon2, speed, course, hdop, sats = self._spoofed(t_ms, lat, lon)
            have, faked, sky = True, True, replace(sky, snr=SPOOFED_SNR)
        else:
            self._spoof_from = None
        reported = Reported(t_ms, lat2, lon2, have, hdop, faked)
        timeless = self.no_time_left > 0
        self.no_time_left -= timeless
        when = None if timeless else datetime.fromtimestamp(self.sc.start_utc + t_ms / 1000, UTC)
        lines = self._render(when, have, lat2, lon2, speed, course, hdop, sats, sky)
        burst = ("".join(s + "\r\n" for s in lines)).encode()
        if any(f.kind == "garbage" and f.covers(t_ms / 1000) for f in self.sc.faults):
            burst = self._garbled(burst)
        return burst, reported

    def _spoofed(self, t_ms: int, lat: float, lon: float) -> tuple[float, float, float, float, float, int]:
        """A spoofer's stream: from where the wearer was when it came on, a steady false
        walk, clean and self-consistent (lat, lon, speed, course, HDOP, satellites)."""
        f = next(f for f in self.sc.faults if f.kind == "spoofing" and f.covers(t_ms / 1000))
        if self._spoof_from is None:
            self._spoof_from = (t_ms, lat, lon)
        t0, lat0, lon0 = self._spoof_from
        lon1, lat1, _ = GEOD.fwd(lon0, lat0, f.bearing, f.drift_mps * (t_ms - t0) / 1000)
        return lat1, lon1, f.drift_mps, f.bearing, 0.9, 10

    def _garbled(self, burst: bytes) -> bytes:
        """The burst as a failing cable or a noisy UART delivers it: bytes changed, lost
        and inserted."""
        rnd, out = self.faults, bytearray()
        for b in burst:
            roll = rnd.random()
            if roll < 0.03:
                out.append(rnd.choice(GARBAGE))
            elif roll < 0.05:
                continue
            else:
                out.append(b)
            if roll > 0.995:
                out += bytes(rnd.choice(GARBAGE) for _ in range(rnd.randint(1, 40)))
        return bytes(out)

    def _render(self, when: datetime | None, have: bool, lat: float, lon: float, speed: float, course: float,
                hdop: float, sats: int, sky: Sky) -> list[str]:
        hms = dmy = ""
        if when:
            hms = f"{when.hour:02d}{when.minute:02d}{when.second:02d}.{when.microsecond // 10000:02d}"
            dmy = f"{when.day:02d}{when.month:02d}{when.year % 100:02d}"
        la, ns = _coord(lat, 2, "NS")
        lo, ew = _coord(lon, 3, "EW")
        out = []
        for kind in self.sc.sentences:
            fields: tuple[str, ...]
            if kind == "RMC":
                fields = ((hms, "A", la, ns, lo, ew, f"{speed / 0.514444:.3f}", f"{course:.2f}", dmy, "", "",
                           "A", "V") if have else (hms, "V", "", "", "", "", "", "", dmy, "", "", "N", "V"))
                out.append(sentence("GNRMC", fields))
            elif kind == "GGA":
                fields = ((hms, la, ns, lo, ew, "1", f"{sats:02d}", f"{hdop:.2f}", "118.0", "M", "48.0", "M",
                           "", "") if have else (hms, "", "", "", "", "0", f"{sats:02d}", "", "", "", "", "", "",
                                                 ""))
                out.append(sentence("GNGGA", fields))
            elif kind == "GSA":
                ids = [f"{i:02d}" for i in range(1, sats + 1)][:12] + [""] * max(0, 12 - sats)
                dops = (f"{hdop * 1.4:.2f}", f"{hdop:.2f}", f"{hdop * 1.1:.2f}") if have else ("", "", "")
                out.append(sentence("GNGSA", ("A", "3" if have else "1", *ids, *dops, "1")))
            elif kind == "GSV":
                out += self._gsv(sats, sky)
            elif kind == "VTG":
                out.append(sentence("GNVTG", (f"{course:.2f}", "T", "", "M", f"{speed / 0.514444:.3f}", "N",
                                              f"{speed * 3.6:.3f}", "K", "A" if have else "N")))
            elif kind == "GLL":
                out.append(sentence("GNGLL", (la, ns, lo, ew, hms, "A" if have else "V", "A" if have else "N")))
            elif kind == "ZDA":
                date = (f"{when.day:02d}", f"{when.month:02d}", f"{when.year:04d}") if when else ("", "", "")
                out.append(sentence("GNZDA", (hms, *date, "00", "00")))
        return out

    def _gsv(self, sats: int, sky: Sky) -> list[str]:
        key = (f"{sky.snr}", sats)
        if key not in self._gsv_cache:  # the sky changes slowly: one set of GSV per sky and count
            rnd = random.Random(sats * 7919 + sky.snr[0])
            view = [(i, rnd.randint(10, 85), rnd.randint(0, 359), rnd.randint(*sky.snr)) for i in range(1, sats + 1)]
            groups = [view[i:i + 4] for i in range(0, len(view), 4)] or [[]]
            msgs = []
            for n, g in enumerate(groups, 1):
                fields = [str(len(groups)), str(n), f"{len(view):02d}"]
                for prn, el, az, snr in g:
                    fields += [f"{prn:02d}", f"{el:02d}", f"{az:03d}", f"{snr:02d}"]
                msgs.append(sentence("GPGSV", fields))
            self._gsv_cache[key] = msgs
        return self._gsv_cache[key]


def sentence(head: str, fields: Iterable[str]) -> str:
    """One NMEA sentence, checksummed: what pynmea2's render() writes, without its objects
    (tests/host/test_gnss_model.py holds the two to the same bytes)."""
    body = head + "," + ",".join(fields)
    return f"${body}*{reduce(xor, body.encode(), 0):02X}"


def _coord(v: float, width: int, hemis: str) -> tuple[str, str]:
    a = abs(v)
    deg = int(a)
    minutes = (a - deg) * 60
    if round(minutes, 5) >= 60:
        deg, minutes = deg + 1, 0.0
    return f"{deg:0{width}d}{minutes:08.5f}", hemis[0] if v >= 0 else hemis[1]
