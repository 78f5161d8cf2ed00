"""The radio between the tag at the wearer's ankle and the home unit indoors:
log-distance path loss, the house's outer wall while the tag is outside it,
lognormal shadowing, and a flat loss for collisions and scan gaps. The same
model carries both directions. Deterministic from the seed."""

from __future__ import annotations

import math
import random

from host_sim.world.scenario import Radio

_M_PER_DEG = 111_195.0  # metres per degree of latitude (mean Earth radius); plenty for a few hundred metres


class RfModel:
    def __init__(self, radio: Radio, unit: tuple[float, float], seed: int) -> None:
        self.radio = radio
        self.unit = unit
        self.rnd = random.Random(seed)

    def distance_m(self, lat: float, lon: float) -> float:
        dy = (lat - self.unit[0]) * _M_PER_DEG
        dx = (lon - self.unit[1]) * _M_PER_DEG * math.cos(math.radians(self.unit[0]))
        return math.hypot(dx, dy)

    def rssi(self, lat: float, lon: float) -> int | None:
        """The signal strength one advert arrives with, or None if it does not."""
        r = self.radio
        d = max(1.0, self.distance_m(lat, lon))
        level = r.rssi_1m_dbm - 10 * r.path_loss_exponent * math.log10(d) + self.rnd.gauss(0, r.shadowing_db)
        if d > r.house_m:
            level -= r.wall_db
        if self.rnd.random() < r.loss or level < r.sensitivity_dbm:
            return None
        return round(level)
