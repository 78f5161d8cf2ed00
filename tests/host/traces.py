"""Synthetic GNSS fixes for decision tests: a true path plus receiver error
(Gauss-Markov drift scaled by HDOP, occasional multipath jumps), as the tag's
fix filter and zone machines would receive them."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from tests.host import zone_gen

START_MS = 1_796_083_200_000  # 2026-12-01T00:00:00Z


@dataclass
class Truth:
    east_m: float
    north_m: float
    speed_mps: float


def fixes(origin: tuple[float, float], truth: list[Truth], rnd: random.Random, hdop: float,
          jump_rate: float = 0.0, jump_m: float = 50.0, sigma_per_hdop: float = 1.5,
          tau_s: float = 20.0) -> list[list[int]]:
    """One fix per second: [utc_ms, lat_e7, lon_e7, hdop_x100, speed_cms, valid, now_ms]."""
    lat0, lon0 = origin
    a = math.exp(-1 / tau_s)
    ex = ey = 0.0
    jump_left, jx, jy = 0, 0.0, 0.0
    out = []
    for i, t in enumerate(truth):
        h = max(0.6, hdop + rnd.gauss(0, 0.1))
        sigma = sigma_per_hdop * h
        ex = a * ex + math.sqrt(1 - a * a) * rnd.gauss(0, sigma)
        ey = a * ey + math.sqrt(1 - a * a) * rnd.gauss(0, sigma)
        if jump_left == 0 and rnd.random() < jump_rate:
            ang = rnd.uniform(0, 2 * math.pi)
            jump_left, jx, jy = rnd.randint(1, 3), jump_m * math.cos(ang), jump_m * math.sin(ang)
        dx, dy = (jx, jy) if jump_left else (0.0, 0.0)
        jump_left = max(0, jump_left - 1)
        lon, lat = zone_gen.offset(lat0, lon0, t.east_m + ex + dx, t.north_m + ey + dy)
        speed = max(0.0, t.speed_mps + rnd.gauss(0, 0.1))  # Doppler: unmoved by multipath
        t_ms = START_MS + 1000 * i
        out.append([t_ms, round(lat * 1e7), round(lon * 1e7), round(h * 100), round(speed * 100), 1,
                    t_ms + 150])
    return out


def line(start: tuple[float, float], end: tuple[float, float], speed: float, dwell_s: int = 0) -> list[Truth]:
    """Straight from start to end (east, north metres) at speed, then dwell there."""
    (x0, y0), (x1, y1) = start, end
    n = max(1, round(math.hypot(x1 - x0, y1 - y0) / speed))
    path = [Truth(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n, speed) for k in range(n + 1)]
    return path + [Truth(x1, y1, 0.0)] * dwell_s
