"""The tag's AT-command modem driver (inside MicroPython) against the modem
emulator, for each dialect, with the faults a cellular link has: the events reach
the centre, once each, whatever the modem does."""

from pathlib import Path

import pytest

from host_sim.judge import verdict
from host_sim.run import sim
from host_sim.world import scenario

SCENARIO = """name: cell
start: "2026-12-03 18:10"
duration: {duration}
seed: 11
zones:
  - {{name: victim, kind: exclusion, warning_m: 150, circle: {{lat: 52.4420, lon: -1.9365, radius_m: 200}}}}
route:
  start: {{lat: 52.4470, lon: -1.9250}}
  legs: [{{to: {{lat: 52.4421, lon: -1.9360}}, mode: walk}}, {{dwell: 5m}}]
link: {link}
{extra}"""


def _run(tmp_path: Path, link: str, duration: str = "20m", extra: str = "") -> sim.Run:
    path = tmp_path / "cell.yaml"
    path.write_text(SCENARIO.format(link=link, duration=duration, extra=extra))
    return sim.execute(scenario.load(path), keep_nmea=False)


@pytest.mark.parametrize("dialect", ["sim7000", "sim800", "a7670"])
def test_each_dialect_delivers_the_breach(tmp_path: Path, dialect: str) -> None:
    run = _run(tmp_path, f"{{transport: cellular, dialect: {dialect}}}")
    result = verdict.score(run)
    assert result.passed and result.detected == 1 and result.latencies_s[0] <= 60
    assert run.link_stats["sessions"] == 1 and run.counters["queued"] == 0
    assert [r["seq"] for r in run.stored] == list(range(1, len(run.stored) + 1))


@pytest.mark.parametrize("dialect", ["sim7000", "a7670"])
def test_faults_lose_nothing_and_duplicate_nothing(tmp_path: Path, dialect: str) -> None:
    run = _run(tmp_path, f"{{transport: cellular, dialect: {dialect}, drop_rate: 0.2, send_fail_rate: 0.1, "
                         "slow_ms: 400, garbage_rate: 0.1}")
    s = run.link_stats
    assert s["dropped"] > 0 and s["send_fail"] > 0 and s["garbage"] > 0 and s["sessions"] > 3
    assert run.counters["modem_errors"] > 0  # the garbage was seen, and survived
    seqs = [r["seq"] for r in run.stored]
    assert seqs == list(range(1, len(seqs) + 1))  # all, once
    assert run.counters["acked"] == seqs[-1] and run.counters["queued"] <= 2  # the rest still on its way
    assert verdict.score(run).passed


def test_registration_denied_keeps_everything_and_resets_the_modem(tmp_path: Path) -> None:
    run = _run(tmp_path, "{transport: cellular, dialect: sim800, denied: true}")
    assert run.stored == []
    assert run.counters["queued"] > 0  # still in the store, waiting
    assert run.counters["modem_resets"] >= 1


def test_coverage_gap_on_cellular(tmp_path: Path) -> None:
    run = _run(tmp_path, "{transport: cellular, dialect: a7670}", duration="50m",
               extra="coverage_gaps: [{from: 5m, to: 35m}]\n")
    start = run.scenario.start_utc
    in_gap = [r for r in run.stored if start + 300 <= r["utc"] < start + 2100]
    assert len(in_gap) >= 29
    assert all(r["received_ms"] >= (start + 2100) * 1000 for r in in_gap)
    assert [r["seq"] for r in run.stored] == list(range(1, len(run.stored) + 1))
    assert run.link_stats["sessions"] >= 2
