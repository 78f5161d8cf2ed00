"""The alcohol tag: Widmark's model against the formula's own figures, the tag's
episode rule inside MicroPython against a host reading of docs/alcohol.md, the
rule's properties on curves the model makes (real drinks reported, spikes from
the air never), the centre's episodes from the whole curve on the same curves,
the skin watch on a barrier and a removal, and an evening through the firmware to
`tagsim centre episodes` and its picture."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim.centre import episodes, views
from host_sim.device import mp
from host_sim.judge import alcohol_score, maps, verdict
from host_sim.paths import ROOT
from host_sim.run import sim
from host_sim.wire import Kind
from host_sim.world import alcohol, scenario
from host_sim.world.alcohol import AlcoholSpec, Drink, Exposure
from tests.conftest import RV32, X86_32

FW_PLATFORMS = (X86_32, RV32)  # the tag's rules on the simulator's board and on the C3's instruction set

CFG = {"threshold": 200, "confirm": 3, "absorb": 500, "elim": 250, "noise": 20, "spike_s": 3600}
STARTED, ENDED, SPIKE = 1, 2, 4


class Reference:
    """docs/alcohol.md's rule read afresh, one reading at a time."""

    def __init__(self) -> None:
        self.last: tuple[int, int] | None = None
        self.streak = 0
        self.since = 0  # the first reading of the streak
        self.opened = False
        self.pending: int | None = None  # the time of an unjudged fast rise
        self.tail = False  # a spike's tail: until below the threshold, or rising again

    def step(self, t: int, v: int) -> int:
        fell = False
        rose = self.last is None and v >= CFG["threshold"]  # nothing before it: a rise unjudged
        if self.last is not None and t > self.last[0]:  # a clock set back: no rate
            hours = (t - self.last[0]) / 3600
            change = v - self.last[1]
            rose = change > CFG["absorb"] * hours + 2 * CFG["noise"]
            fell = -change > CFG["elim"] * hours + 2 * CFG["noise"]
        if self.tail and (v < CFG["threshold"] or self.last is not None and v - self.last[1] > 2 * CFG["noise"]):
            self.tail = False
        self.last = (t, v)
        bits = 0
        if self.pending is None:
            self.pending = t if rose else None
        elif t - self.pending > CFG["spike_s"]:
            self.pending = None
        elif fell:
            self.pending, self.tail = None, True
            bits |= SPIKE
        th = CFG["threshold"]
        if v < th or self.streak == 0 or fell:
            self.since = t
        self.streak = 0 if v < th else 1 if (self.streak == 0 or fell) else min(self.streak + 1, CFG["confirm"])
        lasted = t - self.since >= CFG["spike_s"]  # longer than any spike from the air lasts
        if not self.opened and self.streak >= CFG["confirm"] and lasted and self.pending is None and not self.tail:
            self.opened, bits = True, bits | STARTED
        if self.opened and v < th:
            self.opened, bits = False, bits | ENDED
        return bits


def reference(series: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(index, bits) for each reading that decided anything."""
    rule = Reference()
    return [(i, bits) for i, (t, v) in enumerate(series) if (bits := rule.step(t, v))]


def _firmware(fw: mp.Service, series: list[tuple[int, int]]) -> list[tuple[int, int]]:
    got = fw.call("alcohol_probe", "run", [[t, v, 600, 330, 250] for t, v in series], {})
    return [(i, what) for i, kind, what in got if kind == "rule"]


def _sample(r: alcohol.Readings, start_s: int = 0) -> list[tuple[int, int]]:
    """The readings as the tag takes them: every 30 min, every 10 min while alcohol is
    present, an episode open or a fast rise unjudged (firmware/alcohol.py)."""
    out: list[tuple[int, int]] = []
    rule = Reference()
    t, end = start_s, (len(r.tac_e4) - 1) * 60
    while t <= end:
        v = int(r.tac_e4[t // 60])
        out.append((t, v))
        rule.step(t, v)
        t += 600 if v >= 100 or rule.opened or rule.pending is not None else 1800
    return out


@st.composite
def series(draw: Any) -> list[tuple[int, int]]:
    t, v, out = 1_796_000_000, 0, []
    for _ in range(draw(st.integers(2, 40))):
        t += draw(st.sampled_from([600, 1800, 1, 3600, -3600, 0]))  # and a clock set back
        v = max(0, min(4000, v + draw(st.integers(-600, 600))))
        out.append((t, v))
    return out


@given(series())
@settings(max_examples=150, deadline=None)
def test_the_firmware_rule_is_the_documented_rule(fw: mp.Service, s: list[tuple[int, int]]) -> None:
    assert _firmware(fw, s) == reference(s)


def test_a_spike_that_ends_an_episode_is_said_with_its_end(fw: mp.Service) -> None:
    t = 1_796_000_000
    s = [(t, 0)] + [(t + 3600 + 600 * i, 200 + 10 * i) for i in range(7)] + [(t + 7800, 900), (t + 8400, 100)]
    assert _firmware(fw, s) == reference(s) == [(7, STARTED), (9, ENDED | SPIKE)]


def test_widmark_figures() -> None:
    """Once a dose is absorbed, Widmark's line: A / (r W) less beta for every hour since."""
    for sex, weight, units in (("male", 80, 5), ("female", 60, 3), ("male", 100, 10)):
        spec = AlcoholSpec(weight_kg=weight, sex=sex, drinks=[Drink(0, units)])
        blood = alcohol.bac(spec, 6 * 60)
        grams = units * alcohol.UNIT_G
        widmark = grams / (alcohol.WIDMARK_R[sex] * weight * 10)  # per mille is g/L; g/dL a tenth
        for hours in (3, 4):
            line = widmark - alcohol.ELIMINATION_G_DL_H * hours
            if line > 0.002:
                assert blood[hours * 60] == pytest.approx(line, abs=2e-4)
        assert blood.max() < widmark
    # Widmark's own case: 0.68 for a man, 0.55 for a woman, beta 0.015 g/dL an hour
    assert (alcohol.WIDMARK_R["male"], alcohol.WIDMARK_R["female"], alcohol.ELIMINATION_G_DL_H) == (0.68, 0.55, 0.015)


def test_sweat_follows_the_blood_later_and_lower() -> None:
    spec = AlcoholSpec(drinks=[Drink(0, 6)])
    blood = alcohol.bac(spec, 12 * 60)
    sweat = alcohol.tac(spec, blood)
    assert sweat.max() < blood.max()
    assert 60 <= int(sweat.argmax()) - int(blood.argmax()) <= 150


drinks = st.lists(st.tuples(st.integers(0, 6 * 3600), st.floats(0.5, 4)), min_size=1, max_size=10)


@given(drinks, st.floats(45, 130), st.sampled_from(["male", "female"]), st.integers(0, 2**31))
@settings(max_examples=60, deadline=None)
def test_real_drinking_over_the_must_level_is_reported(given_drinks: list[tuple[int, float]], weight: float,
                                                       sex: str, seed: int) -> None:
    spec = AlcoholSpec(weight_kg=weight, sex=sex, drinks=[Drink(t, u) for t, u in sorted(given_drinks)])
    r = alcohol.readings(spec, 30 * 3600, seed)
    must = [e for e in alcohol.episodes(r.bac) if e[2] >= spec.must_peak_g_dl]
    readings = _sample(r)
    said = reference(readings)
    starts = [readings[i][0] for i, bits in said if bits & STARTED]
    ends = [readings[i][0] for i, bits in said if bits & ENDED]
    stored = [{"kind": Kind.DRINKING, "utc": t} for t in starts] + [{"kind": Kind.DRINKING_ENDED, "utc": t}
                                                                      for t in ends]
    for a, b, _ in must:  # each spell owed a report has an episode open about it, as the oracle asks
        assert any(alcohol_score.covers(r, ends, 0, a * 60, b * 60 + alcohol_score.REPORT_WITHIN_S)
                   for r in stored if r["kind"] == Kind.DRINKING), (a, b, starts, ends)
    assert not [i for i, bits in said if bits & SPIKE]  # and no drinking read as the air


def test_two_perfume_sprays_forty_minutes_apart_are_not_drinking() -> None:
    """The first caught on its rise at a body's pace: readings at or above the threshold
    for under an hour confirm nothing."""
    spec = AlcoholSpec(exposures=[Exposure(0, "perfume", 0.25, 12.0), Exposure(2362, "perfume", 0.125, 5.0)])
    r = alcohol.readings(spec, 24 * 3600, 0)
    assert not [i for i, bits in reference(_sample(r, 0)) if bits & STARTED]


spikes = st.lists(st.tuples(st.integers(0, 20 * 3600), st.sampled_from(sorted(alcohol.EXPOSURES)),
                            st.floats(0.005, 0.3), st.floats(5, 25)), min_size=1, max_size=6)


def _air(given_spikes: list[tuple[int, str, float, float]], seed: int, phase: int) -> list[tuple[int, int]]:
    """A day of spikes from the air, and nothing drunk, as the tag samples it."""
    spec = AlcoholSpec(exposures=[Exposure(t, k, p, d) for t, k, p, d in sorted(given_spikes)])
    return _sample(alcohol.readings(spec, 24 * 3600, seed), phase)


@given(spikes, st.integers(0, 2**31), st.integers(0, 1799))
@settings(max_examples=80, deadline=None)
def test_no_spike_from_the_air_alone_is_drinking(given_spikes: list[tuple[int, str, float, float]], seed: int,
                                                  phase: int) -> None:
    assert not [i for i, bits in reference(_air(given_spikes, seed, phase)) if bits & STARTED]


def _rows(series: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """Readings as the centre stores them (events 70)."""
    return [{"device": "alc", "seq": k, "utc": t, "kind": Kind.ALCOHOL_READING, "depth_m": v,
             "received_ms": t * 1000} for k, (t, v) in enumerate(series)]


@given(drinks, st.floats(45, 130), st.sampled_from(["male", "female"]), st.integers(0, 2**31))
@settings(max_examples=40, deadline=None)
def test_the_centre_confirms_real_drinking_from_the_whole_curve(given_drinks: list[tuple[int, float]],
                                                                weight: float, sex: str, seed: int) -> None:
    spec = AlcoholSpec(weight_kg=weight, sex=sex, drinks=[Drink(t, u) for t, u in sorted(given_drinks)])
    r = alcohol.readings(spec, 30 * 3600, seed)
    found = episodes.judge("alc", _rows(_sample(r)))
    for a, b, _ in (e for e in alcohol.episodes(r.bac) if e[2] >= spec.must_peak_g_dl):
        assert any(e.body and e.start_utc <= b * 60 + alcohol_score.REPORT_WITHIN_S and
                   (e.end_utc is None or e.end_utc >= a * 60) for e in found), (a, b, found)
    assert all(e.body for e in found), found


@given(spikes, st.integers(0, 2**31), st.integers(0, 1799))
@settings(max_examples=40, deadline=None)
def test_the_centre_finds_no_body_in_spikes_from_the_air(given_spikes: list[tuple[int, str, float, float]],
                                                         seed: int, phase: int) -> None:
    assert not [e for e in episodes.judge("alc", _rows(_air(given_spikes, seed, phase))) if e.body]


def test_the_centre_tells_a_drifting_sensor_and_a_spike_from_drinking() -> None:
    t = 1_796_000_000
    levels = [150 + 5 * k for k in range(23)] + [260 - 2 * j for j in range(1, 32)]  # to 0.026, down 0.0004/h
    drift = [(t + 1800 * k, v) for k, v in enumerate(levels)]
    (e,) = episodes.judge("alc", _rows(drift))
    assert not e.body and "drifting" in e.verdict and e.readings == sum(v >= 200 for v in levels)
    spike = [(t, 0), (t + 1800, 257), (t + 2400, 378), (t + 3000, 331), (t + 3600, 76)]
    (e,) = episodes.judge("alc", _rows(spike))
    assert e.verdict == "not a body's: over in 20 min, falls at 0.091 g/dL/h" and e.peak_e4 == 378  # 302 in 20 min
    # the tag's own rule confirms the spike's three readings neither
    assert not [bits for _, bits in reference(spike) if bits & STARTED]
    body = [(t + 600 * k, v) for k, v in enumerate([0, 90, 180, 260, 330, 380, 400, 390, 370, 350, 330, 310, 290,
                                                     270, 250, 230, 210, 190])]
    (e,) = episodes.judge("alc", _rows(body))
    assert e.verdict == episodes.CONFIRMED and (e.start_utc, e.end_utc) == (t + 1800, t + 10200)


def _worn(n: int, t0: int = 1_796_000_000) -> list[list[int]]:
    return [[t0 + 1800 * i, 0, 600, 330, 250] for i in range(n)]


def test_a_barrier_is_obstruction_and_a_removal_is_removal(fw: mp.Service) -> None:
    worn = _worn(6)
    t = worn[-1][0]
    barrier = [[t + 1800 * (i + 1), 0, 270, 330, 250] for i in range(3)]
    again = [[t + 1800 * (i + 4), 0, 600, 330, 250] for i in range(2)]
    got = fw.call("alcohol_probe", "run", worn + barrier + again, {})
    assert got == [[7, "skin", 2], [10, "skin", 3]]  # obstructed at the second odd reading, then on skin
    off = [[t + 1800 * (i + 1), 0, 20, 215, 210] for i in range(3)]
    got = fw.call("alcohol_probe", "run", worn + off + again, {})
    assert got == [[7, "skin", 1], [10, "skin", 3]]  # removed, then on skin


def test_the_model_tells_the_sensor_a_barrier_and_a_removal() -> None:
    spec = AlcoholSpec(obstruction=[(3600, 7200)], removal=[(10800, 14400)])
    r = alcohol.readings(spec, 5 * 3600, 1)
    worn, blocked, off = r.at(30), r.at(110), r.at(230)
    assert abs(blocked["ir"] - worn["ir"]) > 0.25 * worn["ir"]
    assert off["skin_c10"] - off["case_c10"] <= 20 < worn["skin_c10"] - worn["case_c10"]
    assert np.all(r.tac_e4 >= 0)


def test_an_evening_through_the_firmware_the_centre_episodes_command_and_the_picture(
        tmp_path: Path, centre_db: Path | str) -> None:
    """On SQLite and on PostgreSQL, as every centre command."""
    sc = scenario.load(ROOT / "scenarios/alcohol-evening-four-pints.yaml")
    run = sim.execute(sc, keep_nmea=False, db=centre_db)
    result = verdict.score(run)
    assert result.passed and result.episodes == {"owed": 1, "tag_reported": 1, "tag_false": 0,
                                                 "centre_reported": 1, "centre_false": 0, "centre_not_a_body": 0}
    maps.write(run, result, tmp_path)
    assert (tmp_path / f"{sc.name}.png").read_bytes()[:4] == b"\x89PNG"

    def episodes_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "host_sim.tagsim", "centre", "episodes", "--db", str(centre_db),
                               *args],
                              capture_output=True, text=True, cwd=ROOT)

    rows = json.loads(episodes_cli("--json").stdout)
    (row,) = rows
    drinking = [r for r in run.stored if r["kind"] == Kind.DRINKING]
    assert row["centre"] == "confirmed" and row["tag"] == views.iso(drinking[0]["utc"])
    assert 0.06 < row["peak_g_dl"] < 0.08 and row["start"] < row["peak"] < row["end"]
    table = episodes_cli().stdout
    assert "confirmed" in table and row["device"] in table and "GMT" in table
    assert episodes_cli("--device", "nobody").stdout.strip() == "no episodes for nobody"
    assert episodes_cli("--since", "2026-12-06").stdout.strip() == "no episodes"
    assert episodes_cli("--since", "Friday").returncode == 2


part_words = st.fixed_dictionaries({
    "uv": st.lists(st.integers(0, 3_100_000), min_size=8, max_size=8),  # the ESP32's ADC at 11 dB: to 3.1 V
    "ir": st.integers(0, 0xFFFF), "skin_raw": st.integers(-0x8000, 0x7FFF), "case_raw": st.integers(-0x8000, 0x7FFF)})


@given(st.lists(part_words, min_size=1, max_size=20))
@settings(max_examples=25, deadline=None)
def test_the_esp32_sensor_driver_reads_its_parts(cases: list[dict[str, Any]]) -> None:
    """boards/alcohol_sensors.py on the 32-bit interpreter, its machine module faked with
    the parts' registers: the fuel cell's millivolts over its zero by the board's scale,
    the VCNL4040's little-endian count, the TMP117s' signed big-endian 7.8125 m°C words."""
    board = ROOT / "boards" / "esp32_alcohol_sim7000g.json"
    spec = json.loads(board.read_text())["alcohol"]
    missing = {"uv": [0] * 8, "ir": None, "skin_raw": 0, "case_raw": 0}  # nothing answers at the IR's address
    env = {**os.environ, "MICROPYPATH": os.pathsep.join([str(ROOT / "tests" / "mp" / "esp32_fakes"),
                                                         str(ROOT / "boards"), str(ROOT / "firmware")])}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as given:
        json.dump([*cases, missing], given)
        given.flush()
        out = subprocess.run([mp.micropython(), str(ROOT / "tests" / "mp" / "alcohol_sensors_probe.py"), str(board),
                              given.name], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    setup, *got = (json.loads(line) for line in out.stdout.splitlines())
    assert ["adc", 3] in setup  # 11 dB: the fuel cell's amplifier swings to 3.1 V
    assert ["i2c_write", spec["ir_addr"], 0x03, "0000"] in setup  # proximity powered on
    for case, sample in zip(cases, got, strict=False):
        mv_over_zero = (sum(case["uv"]) // 8 - spec["tac_zero_mv"] * 1000) // 1000
        tac = min(32767, max(0, mv_over_zero * spec["tac_e4_per_v"] // 1000))
        tenths = [math.floor(case[k] * 7.8125 / 100) for k in ("skin_raw", "case_raw")]
        assert sample == [tac, case["ir"], *tenths], (case, sample)
    assert got[-1] == {"error": 19}  # ENODEV from the bus: the driver does not invent a reading


def test_sensors_that_stop_answering_are_said_once_and_the_tag_carries_on() -> None:
    sc = scenario.load(ROOT / "scenarios/alcohol-sensor-fault.yaml")
    run = sim.execute(sc, keep_nmea=False)
    assert sc.alcohol is not None and run.alcohol is not None
    (a, b), start = sc.alcohol.sensor_fault[0], sc.start_utc
    faults = [r for r in run.stored if r["kind"] == Kind.SENSOR_FAULT]
    assert len(faults) == 1 and a <= faults[0]["utc"] - start <= a + 1800 and faults[0]["depth_m"] == 19
    readings = [r["utc"] - start for r in run.stored if r["kind"] == Kind.ALCOHOL_READING]
    assert not [t for t in readings if a + 60 < t < b] and [t for t in readings if t > b]  # none invented
    assert [r for r in run.stored if r["kind"] == Kind.DRINKING] and verdict.score(run).passed


def test_readings_and_the_episode_wait_out_a_coverage_gap_and_arrive_whole() -> None:
    """Store and forward: what the tag read and decided in six hours without a signal
    reaches the centre after it, every sequence number once, nothing lost."""
    sc = scenario.load(ROOT / "scenarios/alcohol-drinking-in-coverage-gap.yaml")
    run = sim.execute(sc, keep_nmea=False)
    (a, b), start = sc.coverage_gaps[0], sc.start_utc
    seqs = sorted(r["seq"] for r in run.stored)
    assert seqs == list(range(seqs[0], seqs[-1] + 1))  # none missing, none twice
    held = [r for r in run.stored if a < r["utc"] - start < b]
    assert len([r for r in held if r["kind"] == Kind.ALCOHOL_READING]) >= (b - a) // 1800
    assert all(r["received_ms"] / 1000 - start >= b for r in held)  # each waited for the signal
    drinking = [r for r in run.stored if r["kind"] == Kind.DRINKING]
    assert drinking and a < drinking[0]["utc"] - start < b and verdict.score(run).passed
