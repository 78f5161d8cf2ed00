"""The simulator: the scenario library through the firmware, determinism, exit
status, reports, and clear errors for malformed scenarios."""

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from host_sim.judge import verdict
from host_sim.paths import ROOT
from host_sim.run import sim
from host_sim.run.heap import BUDGET
from host_sim.world import scenario

LIBRARY = sorted((ROOT / "scenarios").glob("*.yaml"))
QUICK = [p for p in LIBRARY if "24h" not in p.name]  # the 24 h day runs in make sim and make bench


def test_the_library_covers_the_pilot() -> None:
    names = {p.stem for p in LIBRARY}
    assert len(names) >= 12
    for needed in ("direct-approach", "near-miss-drift", "loitering-boundary", "corner-drive",
                   "indoors-reappears-inside", "urban-canyon-beside-zone", "workplace-hours",
                   "outage-during-approach", "day-in-the-life-24h", "bus-skirts-zone", "two-victims",
                   "gap-between-buildings"):
        assert needed in names


@pytest.mark.parametrize("path", QUICK, ids=lambda p: p.stem)
def test_scenario_passes(path: Path) -> None:
    # in a GPS tag's heap budget: a firmware that needed more would die of a MemoryError
    sc = scenario.load(path)
    run = sim.execute(sc, keep_nmea=False, heap=BUDGET)
    result = verdict.score(run)
    assert result.passed, (result.missed, result.false)
    assert 0 < result.heap_peak_bytes < 64 * 1024  # the live peak, sampled after collections
    assert len(run.resets) == len(sc.tag_hangs)  # the watchdog bites a hung tag, and only that


def test_a_day_in_the_life_fits_the_budget() -> None:
    """The 24 h day through the cellular modem, its sends, breadcrumbs and reports, in 64 KiB."""
    result = verdict.score(sim.execute(scenario.load(ROOT / "scenarios" / "day-in-the-life-24h.yaml"),
                                   keep_nmea=False, heap=BUDGET))
    assert BUDGET == "64K" and result.passed and result.false_alerts == 0
    assert 0 < result.heap_peak_bytes < 64 * 1024


def test_required_alerts_are_really_required() -> None:
    """The library is not all quiet: the oracle asks for alerts, and the firmware raised them."""
    results = [verdict.score(sim.execute(scenario.load(ROOT / "scenarios" / f"{n}.yaml"), keep_nmea=False))
               for n in ("direct-approach", "corner-drive", "workplace-hours")]
    assert [r.must_alert for r in results] == [1, 1, 1]
    assert all(r.detected == 1 and r.latencies_s[0] <= 240 for r in results)


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    for run_dir in ("a", "b"):
        proc = subprocess.run(
            [sys.executable, "-m", "host_sim.tagsim", "run", str(ROOT / "scenarios/two-victims.yaml"),
             "--json", str(tmp_path / run_dir / "r.json"), "--nmea", str(tmp_path / run_dir)],
            capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
    for name in ("r.json", "two-victims.nmea"):
        a, b = (tmp_path / "a" / name).read_bytes(), (tmp_path / "b" / name).read_bytes()
        assert a == b and len(a) > 400, name


def _failing_scenario(tmp_path: Path) -> Path:
    # An oracle that wants the alert within 1 s of the true entry: no tag confirming over
    # several fixes can do that, so this must FAIL.
    text = (ROOT / "scenarios/direct-approach.yaml").read_text()
    path = tmp_path / "strict.yaml"
    path.write_text(text.replace("name: direct-approach", "name: strict") + "oracle: {latency_limit_s: 1}\n")
    return path


def test_failing_scenario_fails_the_run_and_the_reports(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "host_sim.tagsim", "run", str(_failing_scenario(tmp_path)),
         str(ROOT / "scenarios/corner-drive.yaml"), "--json", str(out / "r.json"),
         "--junit", str(out / "j.xml"), "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "strict" in proc.stdout and "FAIL" in proc.stdout
    data = json.loads((out / "r.json").read_text())
    by_name = {s["name"]: s for s in data["scenarios"]}
    assert not by_name["strict"]["passed"] and by_name["corner-drive"]["passed"]
    for key in ("name", "passed", "must_alert", "detected", "false_alerts", "latencies_s"):
        assert key in by_name["strict"]
    assert data["summary"]["failed"] == 1
    suite = ET.parse(out / "j.xml").getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    assert (out / "corner-drive.png").read_bytes()[:4] == b"\x89PNG"
    gj = json.loads((out / "corner-drive.geojson").read_text())
    roles = {f["properties"]["role"] for f in gj["features"]}
    assert {"zone", "warning_ring", "true_trace", "reported_fixes", "alert"} <= roles


def _broken(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    return subprocess.run([sys.executable, "-m", "host_sim.tagsim", "run", str(path)],
                          capture_output=True, text=True, cwd=ROOT)


GOOD = (ROOT / "scenarios/direct-approach.yaml").read_text()
CURFEW = (ROOT / "scenarios/curfew-replay-device.yaml").read_text()
ALCOHOL = (ROOT / "scenarios/alcohol-sensor-fault.yaml").read_text()


@pytest.mark.parametrize(("text", "at", "says"), [
    ("name: x\nstart: [unclosed\n", None, "not valid YAML"),
    (GOOD.replace("seed: 11", "seed: 11\ncolour: red"), "colour: red", "unknown key 'colour'"),
    (GOOD.replace("duration: 40m", "duration: -5m"), "duration: -5m", "must be positive"),
    (GOOD.replace("home: {lat: 52.4534, lon: -1.9110}", "home: {lat: -1.9110, lon: 52.4534}"),
     "home: {lat: -1.9110", "outside the UK grid"),
    (GOOD.replace("    circle: {lat: 52.4420, lon: -1.9365, radius_m: 200}",
                  "    geometry: {type: Polygon, coordinates: [[[-1.94, 52.44], [-1.93, 52.44], [-1.93, 52.45],"
                  " [-1.94, 52.45]]]}"), "geometry:", "is not closed"),
    (GOOD.replace("mode: walk}\n    - {dwell", "mode: skate}\n    - {dwell"), "skate", "mode 'skate'"),
    (CURFEW.replace('start: "19:00"', 'start: "7pm"'), "7pm", "expected HH:MM"),
    (CURFEW.replace("  schedule:", "  grace: 5m\n  schedule:"), "grace: 5m", "unknown key 'grace' in curfew"),
    (CURFEW.replace("replay: {from: 50m", "replay: {from: 20m"), "replayer:", "replay must start after the capture"),
    (ALCOHOL.replace("sex: male", "sex: man"), "sex: man", "expected male or female"),
    (ALCOHOL.replace("{at: 19h, units: 2.6}", "{at: 31h, units: 2.6}"), "drinks:", "is not before the end"),
    (ALCOHOL.replace("sensor_fault: [{from: 9h, to: 13h}]", "sensor_fault: [{from: 9h}]"), "sensor_fault:",
     "needs 'to'"),
    (ALCOHOL.replace("  drinks:", "  exposures: {at: 8h, kind: sanitiser}\n  drinks:"), "exposures:",
     "must be a list"),
    (ALCOHOL.replace("  drinks:", "  exposures: [{at: 8h, kind: gin}]\n  drinks:"), "kind: gin",
     "expected one of sanitiser, perfume, spill"),
    (ALCOHOL.replace("  sensor_fault:", "  sensor_faults:"), "sensor_faults:", "unknown key 'sensor_faults'"),
    (ALCOHOL.replace("alcohol:\n", "trail: {}\nalcohol:\n"), "body:", "no zones or trail with alcohol"),
    (CURFEW.replace("home: {lat: 52.90400, lon: -1.48000}\n", ""), "  schedule: [", "needs unit"),
    (CURFEW.replace("  schedule:", "  backup: {start_mv: 5000}\n  schedule:"), "backup:", "start_mv"),
    (CURFEW.replace("  schedule:", "  backup: {volts: 4}\n  schedule:"), "backup:", "unknown key 'volts'"),
    (CURFEW.split("curfew:")[0] + "route:" + CURFEW.split("route:")[1], None,
     "needs zones, a curfew, a trail or alcohol"),
    (GOOD.replace("  default: open_sky", "  default: open_sky\n  start: lukewarm"), "lukewarm", "expected hot or cold"),
    (GOOD + "tag_off: [{from: 10m, to: 12m}, {from: 11m, to: 13m}]\n", "tag_off:", "overlap"),
    (GOOD + "tag_off: [{from: 10m, to: 50m}]\n", "tag_off:", "tag_off spell 1: from 600 s to 3000 s"),
    (GOOD + "tag_hangs: 20m\n", "tag_hangs:", "a list of times from the start"),
    (GOOD + "tag_hangs: [20m, 45m]\n", "tag_hangs:", "2700 s is not before the end"),
])
def test_malformed_scenario_names_file_line_and_fix(tmp_path: Path, text: str, at: str | None,
                                                    says: str) -> None:
    proc = _broken(tmp_path, text)
    assert proc.returncode == 2
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if at in ln) if at else None
    where = f"broken.yaml:{line}:" if line else "broken.yaml:"
    assert where in proc.stderr and says in proc.stderr, proc.stderr


@pytest.mark.parametrize(("old", "new", "hint", "not_hint"), [
    ("circle: {lat: 52.4420, lon: -1.9365", "circle: {lat: -1.9365, lon: 52.4420", "lat and lon swapped?", "GeoJSON"),
    ("    circle: {lat: 52.4420, lon: -1.9365, radius_m: 200}",
     "    geometry: {type: Polygon, coordinates: [[[52.44, -1.94], [52.44, -1.93], [52.45, -1.93], [52.44, -1.94]]]}",
     "GeoJSON positions are [lon, lat]", "swapped"),
    ("home: {lat: 52.4534, lon: -1.9110}", "home: {lat: 48.8566, lon: 2.3522}", "not in the UK", "swapped"),
    ("    circle: {lat: 52.4420, lon: -1.9365, radius_m: 200}",
     "    circle: {lat: 48.8566, lon: 2.3522, radius_m: 200}", "not in the UK", "GeoJSON"),
])
def test_a_place_off_the_uk_grid_gets_the_right_hint(tmp_path: Path, old: str, new: str, hint: str,
                                                      not_hint: str) -> None:
    assert old in GOOD
    path = tmp_path / "off.yaml"
    path.write_text(GOOD.replace(old, new))
    with pytest.raises(scenario.ScenarioError) as e:
        scenario.load(path)
    assert hint in str(e.value) and not_hint not in str(e.value), str(e.value)


def test_help_explains_run() -> None:
    out = subprocess.run([sys.executable, "-m", "host_sim.tagsim", "run", "--help"], capture_output=True,
                         text=True, cwd=ROOT).stdout
    for flag in ("--json", "--junit", "--out", "--nmea", "--jobs"):
        assert flag in out


def test_a_firmware_that_dies_fails_its_scenario_and_the_run_goes_on(tmp_path: Path) -> None:
    """20K is too small to boot: the scenario is a CRASH with the firmware's own error, the
    others in the run are still run and scored, and the report files are written."""
    files = [str(ROOT / "scenarios" / "corner-drive.yaml"), str(ROOT / "scenarios" / "near-miss-drift.yaml")]
    proc = subprocess.run([sys.executable, "-m", "host_sim.tagsim", "run", *files, "--heap", "20K",
                           "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.xml")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 1
    assert "CRASH" in proc.stdout and "the run stopped: MemoryError" in proc.stderr, proc.stderr
    got = json.loads((tmp_path / "r.json").read_text())
    assert [s["passed"] for s in got["scenarios"]] == [False, False]
    assert all("MemoryError" in s["error"] for s in got["scenarios"])
    assert "MemoryError" in (tmp_path / "r.xml").read_text()


def test_the_scenario_format_page_names_every_key() -> None:
    page = (ROOT / "docs" / "scenario-format.md").read_text()
    for key, required in scenario.TOP_KEYS.items():
        assert f"`{key}`" in page, key
        if required:
            assert f"{key}:" in page and "# required" in page.split(f"{key}:")[1].split("\n")[0], key
