"""The wearer's body and the alcohol tag's sensors (docs/alcohol.md).

Blood alcohol follows Widmark's model: each drink's ethanol is absorbed from the
gut at a first-order rate, spread through the body water (Widmark's r times body
weight), and eliminated at a constant rate. Transdermal alcohol, what the sweat
at the ankle carries, follows the blood through two first-order stages (about
an hour and a half behind it) at a lower level. On top of it the sensor adds
environmental alcohol (sanitiser, perfume: sharp spikes gone within the hour),
its own noise and drift; a barrier or a tag slid off the ankle changes what it
and its IR and temperature sensors read. The simulator gives the tag these
readings once a minute (host_sim/run/tag_rig.py); the oracle (host_sim/judge/
alcohol_score.py) judges from the blood alcohol, never from the readings."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

UNIT_G = 8.0  # a UK unit: 10 ml of ethanol
WIDMARK_R = {"male": 0.68, "female": 0.55}  # Widmark's body-water factors
ELIMINATION_G_DL_H = 0.015  # Widmark's beta, the population mean
ABSORPTION_PER_H = 3.0  # first-order: half a drink absorbed in 14 min
TAC_STAGE_MIN = 45.0  # each of the two stages from blood to the ankle's sweat
TAC_RATIO = 0.8  # sweat's level against the blood's
NOISE_G_DL = 0.0008  # the sensor's noise (one sigma), clipped at 2.5 sigma
AMBIENT_C = 20.0
SKIN_C = 33.0
CASE_ABOVE_AMBIENT_C = 4.0  # the case, worn, warmed by the leg
IR_WORN = 600  # counts, on the skin; each wearer within 100 of it
EXPOSURES = {"sanitiser": (0.06, 10.0), "perfume": (0.03, 15.0), "spill": (0.05, 20.0)}  # peak g/dL, decay min
EXPOSURE_RISE_MIN = 3.0
OFF_SKIN_MIN = 5.0  # the sensor's reading, off the skin, falls this fast (time constant)
COOL_MIN = 8.0  # the skin sensor, off the ankle, cools towards the air this fast


@dataclass(frozen=True)
class Drink:
    at_s: int
    units: float


@dataclass(frozen=True)
class Exposure:
    at_s: int
    kind: str
    peak_g_dl: float
    decay_min: float


@dataclass
class AlcoholSpec:
    """A scenario's `alcohol:` section."""

    weight_kg: float = 80.0
    sex: str = "male"
    drinks: list[Drink] = field(default_factory=list)
    exposures: list[Exposure] = field(default_factory=list)
    obstruction: list[tuple[int, int]] = field(default_factory=list)  # s from the start
    removal: list[tuple[int, int]] = field(default_factory=list)
    sensor_fault: list[tuple[int, int]] = field(default_factory=list)  # the sensors' bus answering nothing
    elimination_g_dl_h: float = ELIMINATION_G_DL_H
    tac_ratio: float = TAC_RATIO
    must_peak_g_dl: float = 0.05  # oracle: a drinking spell whose blood alcohol peaks this high must be reported


def bac(spec: AlcoholSpec, minutes: int) -> np.ndarray:
    """Blood alcohol (g/dL) at each minute from the start, by Widmark's model."""
    r = WIDMARK_R[spec.sex]
    dose = np.zeros(minutes + 1)
    for d in spec.drinks:
        m = d.at_s // 60
        if m <= minutes:
            dose[m] += d.units * UNIT_G
    keep = math.exp(-ABSORPTION_PER_H / 60)
    body_dl = r * spec.weight_kg * 10  # grams per kilo of body is per mille; g/dL is a tenth of that
    beta = spec.elimination_g_dl_h / 60
    out = np.zeros(minutes + 1)
    gut = c = 0.0
    for m in range(minutes + 1):
        out[m] = c  # at the minute's start; what it brings shows at the next
        gut += dose[m]
        absorbed = gut * (1 - keep)
        gut -= absorbed
        c = max(0.0, c + absorbed / body_dl - beta)
    return out


def tac(spec: AlcoholSpec, blood: np.ndarray) -> np.ndarray:
    """Transdermal alcohol (g/dL) from the blood's, minute by minute: two first-order stages."""
    k = 1 - math.exp(-1 / TAC_STAGE_MIN)
    out = np.zeros_like(blood)
    a = b = 0.0
    for m, c in enumerate(blood):
        a += (spec.tac_ratio * c - a) * k
        b += (a - b) * k
        out[m] = b
    return out


def exposure_curve(spec: AlcoholSpec, minutes: int) -> np.ndarray:
    """Environmental alcohol at the sensor (g/dL): each exposure rises in minutes and decays."""
    t = np.arange(minutes + 1, dtype=float)
    out = np.zeros(minutes + 1)
    for e in spec.exposures:
        dt = t - e.at_s / 60
        rise = np.clip(dt / EXPOSURE_RISE_MIN, 0, 1)
        decay = np.exp(-np.clip(dt - EXPOSURE_RISE_MIN, 0, None) / e.decay_min)
        out += np.where(dt >= 0, e.peak_g_dl * rise * decay, 0.0)
    return out


@dataclass
class Readings:
    """What the tag's sensors read at each minute, as the board gives them."""

    bac: np.ndarray  # the truth: g/dL
    tac_e4: np.ndarray  # 1e-4 g/dL
    ir: np.ndarray  # counts
    skin_c10: np.ndarray  # 0.1 °C
    case_c10: np.ndarray
    fault: np.ndarray  # 1 while the sensors' bus answers nothing

    def at(self, minute: int) -> dict[str, int]:
        m = min(max(0, minute), len(self.tac_e4) - 1)
        return {"tac": int(self.tac_e4[m]), "ir": int(self.ir[m]), "skin_c10": int(self.skin_c10[m]),
                "case_c10": int(self.case_c10[m]), "fault": int(self.fault[m])}


def _spells(minutes: int, spells: list[tuple[int, int]]) -> np.ndarray:
    """Minutes since each spell began (inf outside every spell)."""
    out = np.full(minutes + 1, np.inf)
    t = np.arange(minutes + 1, dtype=float)
    for a, b in spells:
        inside = (t >= a / 60) & (t < b / 60)
        out[inside] = t[inside] - a / 60
    return out


def readings(spec: AlcoholSpec, duration_s: int, seed: int) -> Readings:
    minutes = duration_s // 60
    rng = np.random.default_rng([seed, 0xA1C0])
    blood = bac(spec, minutes)
    noise = np.clip(rng.normal(0, NOISE_G_DL, minutes + 1), -2.5 * NOISE_G_DL, 2.5 * NOISE_G_DL)
    drift = rng.uniform(-0.0002, 0.0002) * np.arange(minutes + 1) / 1440  # g/dL a day
    sensed = tac(spec, blood) + exposure_curve(spec, minutes) + drift
    ir_worn = IR_WORN + int(rng.integers(-100, 101))
    ir = ir_worn + rng.normal(0, 6, minutes + 1)
    skin = SKIN_C + rng.normal(0, 0.15, minutes + 1)
    case = np.full(minutes + 1, AMBIENT_C + CASE_ABOVE_AMBIENT_C)
    blocked = _spells(minutes, spec.obstruction)
    off = _spells(minutes, spec.removal)
    # a barrier: the sensor reads the trapped air, the IR its nearer, paler surface
    fade = np.exp(-np.where(np.isfinite(blocked), blocked, 0) / OFF_SKIN_MIN)
    sensed = np.where(np.isfinite(blocked), sensed * fade, sensed)
    noise = np.where(np.isfinite(blocked), noise / 4, noise)
    ir = np.where(np.isfinite(blocked), ir * 0.45, ir)
    # off the ankle: nothing to read, nothing near, and the skin sensor cools to the case's air
    fade = np.exp(-np.where(np.isfinite(off), off, 0) / OFF_SKIN_MIN)
    cool = np.exp(-np.where(np.isfinite(off), off, 0) / COOL_MIN)
    sensed = np.where(np.isfinite(off), sensed * fade, sensed)
    noise = np.where(np.isfinite(off), noise / 4, noise)
    ir = np.where(np.isfinite(off), 20 + rng.normal(0, 3, minutes + 1), ir)
    skin = np.where(np.isfinite(off), AMBIENT_C + (skin - AMBIENT_C) * cool, skin)
    case = np.where(np.isfinite(off), AMBIENT_C + CASE_ABOVE_AMBIENT_C * cool, case)
    tac_e4 = np.clip(np.round((sensed + noise) * 1e4), 0, 32767).astype(int)
    return Readings(blood, tac_e4, np.round(ir).astype(int), np.round(skin * 10).astype(int),
                    np.round(case * 10).astype(int), np.isfinite(_spells(minutes, spec.sensor_fault)).astype(int))


def episodes(blood: np.ndarray, threshold: float = 0.02) -> list[tuple[int, int, float]]:
    """(first minute, last minute, peak g/dL) of each spell with blood alcohol above the threshold."""
    above = blood > threshold
    out = []
    m = 0
    n = len(blood)
    while m < n:
        if above[m]:
            e = m
            while e + 1 < n and above[e + 1]:
                e += 1
            out.append((m, e, float(blood[m : e + 1].max())))
            m = e + 1
        else:
            m += 1
    return out
