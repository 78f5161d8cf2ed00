"""A small cohort end to end: generated scenario files, a local run and a run on
a real dask.distributed LocalCluster with the same results, resuming after an
interruption, and the cohort report."""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from host_sim import fleet
from host_sim.centre import crimes
from host_sim.centre.server import Centre
from host_sim.judge import curfew_oracle, fleet_report, oracle
from host_sim.paths import ROOT
from host_sim.world import cohort, scenario, trace

TAGS, ACQUISITIVE, ALCOHOL, SEED = 3, 2, 1, 11


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cohort")
    cohort.generate(out, TAGS, SEED, breach_share=0.7, curfew_share=0.5, acquisitive=ACQUISITIVE,
                    alcohol=ALCOHOL)
    return out


def _required(sc: scenario.Scenario) -> list[tuple[str, int]]:
    tr = trace.synthesise(sc)
    out = [("zone", m.entry_t) for m in oracle.must_alerts(sc, oracle.truths(sc, tr))]
    if sc.curfew:
        out += [("absence", r.breach_t) for r in curfew_oracle.required(sc, curfew_oracle.truth(sc, tr))]
    return out


@given(st.integers(0, 10_000), st.integers(0, 499))
@settings(max_examples=12)
def test_a_wearer_is_asked_to_alert_on_what_was_planted_and_nothing_else(seed: int, k: int) -> None:
    sc_map, entry = cohort.wearer(k, seed, breach_share=0.5, curfew_share=0.5)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wearer.yaml"
        path.write_text(yaml.safe_dump(sc_map, sort_keys=False))
        sc = scenario.load(path)  # an ordinary, valid scenario
    assert sc.duration_s == 86400 and sc.zones and bool(sc.curfew) == entry["curfew"]
    required = _required(sc)
    planted = [(fleet_report.PLANTED_TO[p["kind"]], p["from_s"], p["to_s"]) for p in entry["planted"]]
    for kind, a, b in planted:  # every planted breach is one the oracle requires an alert for
        assert any(k2 == kind and a - 1800 <= t <= b + 1800 for k2, t in required), (planted, required)
    for k2, t in required:  # and it requires nothing that was not planted
        assert any(k2 == kind and a - 1800 <= t <= b + 1800 for kind, a, b in planted), (planted, required)


@given(st.integers(0, 10_000), st.integers(0, 99))
@settings(max_examples=10)
def test_a_trail_wearers_crimes_are_what_they_say_by_the_true_trace(seed: int, k: int) -> None:
    """Planted: within 20 m of where he truly stood, all through its window. In place:
    150-300 m from him, all through. In time: where he stood, while he was at least
    700 m away. Judged from the true trace, not from the matcher."""
    sc_map, entry, crimes = cohort.trail_wearer(k, seed)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "trail.yaml"
        path.write_text(yaml.safe_dump(sc_map, sort_keys=False))
        sc = scenario.load(path)
    assert sc.trail == scenario.TRAIL_MODE and not sc.zones and entry["trail"]
    tr = trace.synthesise(sc)
    kinds = [c["kind"] for c in crimes]
    assert kinds.count("planted") == 1 and kinds.count("near miss in place") == 1
    assert kinds.count("unrelated") == cohort.UNRELATED_PER_WEARER
    for c in crimes:
        a, b = (scenario.london_minute(c[w]) - sc.start_utc for w in ("from", "to"))
        scene = (float(c["lat"]), float(c["lon"]))
        d = [cohort._metres(scene, (p.lat, p.lon)) for p in tr[a:b + 1]]
        if c["kind"] == "planted":
            assert b > a and max(d) <= 20.5, (c, max(d))
        elif c["kind"] == "near miss in place":
            assert b > a and 149 <= min(d) and max(d) <= 301, (c, min(d), max(d))
        elif c["kind"] == "near miss in time":
            assert min(d) >= 700, (c, min(d))


@given(st.integers(0, 10_000), st.integers(0, 99))
@example(10_000, 2)  # a lapse whose last drinks are after midnight
@settings(max_examples=15)
def test_an_alcohol_wearers_days_are_what_the_manifest_says(seed: int, k: int) -> None:
    """Abstinent: not a drink. A lapse: one evening's few drinks; a relapse: heavy
    evenings. Every drink before the last day, so each episode ends in the run; a
    tamper attempt inside it."""
    sc_map, entry = cohort.alcohol_wearer(k, seed)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "alcohol.yaml"
        path.write_text(yaml.safe_dump(sc_map, sort_keys=False))
        sc = scenario.load(path)
    assert sc.alcohol is not None and not sc.zones and sc.duration_s == cohort.ALCOHOL_DAYS * 86400
    drinks = sc.alcohol.drinks
    evenings = {(d.at_s - 12 * 3600) // 86400 for d in drinks}  # noon to noon: an evening runs past midnight
    if entry["alcohol"] == "abstinent":
        assert not drinks
    elif entry["alcohol"] == "lapse":
        assert len(evenings) == 1 and 2 <= len(drinks) <= 5
    else:
        assert len(evenings) >= 2 and len(drinks) >= 10
    assert all(d.at_s <= (cohort.ALCOHOL_DAYS - 1) * 86400 + 6 * 3600 for d in drinks)
    spells = sc.alcohol.obstruction + sc.alcohol.removal
    assert len(spells) == (entry["tamper"] is not None)
    assert all(0 < a < b < sc.duration_s and 2 * 3600 <= b - a <= 4 * 3600 for a, b in spells)


def test_the_alcohol_wearers_episodes_are_reported_by_the_tag_and_the_centre(
        small: Path, local: dict[str, dict[str, Any]]) -> None:
    manifest = json.loads((small / "cohort.json").read_text())
    e = fleet_report.summarise(manifest, local)["episodes"]
    assert e is not None and e["tags"] == ALCOHOL and e["owed"] >= 1  # this seed's wearer lapses
    assert e["tag_reported"] == e["centre_reported"] == e["owed"] and e["tag_false"] == e["centre_false"] == 0


def test_same_seed_same_cohort(tmp_path: Path) -> None:
    a, b = cohort.generate(tmp_path / "a", 5, 9), cohort.generate(tmp_path / "b", 5, 9)
    assert a == b
    for f in (tmp_path / "a").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes()


def _stable(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {f: v for f, v in r.items() if f not in fleet.VARIABLE} for k, r in results.items()}


@pytest.fixture(scope="module")
def local(small: Path) -> dict[str, dict[str, Any]]:
    return fleet.run(small, small / "local", jobs=2)


def test_local_run_passes_and_catches_what_was_planted(small: Path, local: dict[str, dict[str, Any]]) -> None:
    manifest = json.loads((small / "cohort.json").read_text())
    assert manifest["planted"] >= 1
    s = fleet_report.summarise(manifest, local)
    assert s["run"] == TAGS + ACQUISITIVE + ALCOHOL and not s["failed"] and s["false_alerts"] == 0
    assert s["planted_detected"] == s["planted"] == manifest["planted"]
    assert s["required"] >= s["planted"] and s["detected"] == s["required"]
    # the wearer whose battery lasts least, and what it was spent on
    worst = min(local.values(), key=lambda r: r["energy"]["battery_life_h"])
    assert s["worst_battery"]["wearer"] == worst["name"]
    assert s["worst_battery"]["battery_life_h"] == s["battery_life_h"]["min"] == worst["energy"]["battery_life_h"]
    cost = s["worst_battery"]["costliest_mah"]
    assert cost and all(k.split(".")[0] in ("mcu", "gnss", "modem", "ble") for k, _ in cost)
    assert [v for _, v in cost] == sorted((v for _, v in cost), reverse=True)
    assert "worst battery" in fleet_report.table(s) and worst["name"] in fleet_report.table(s)


def test_the_trail_wearers_planted_crimes_are_matched_and_no_near_miss_is_a_fix_inside(
        small: Path, local: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    manifest = json.loads((small / "cohort.json").read_text())
    t = fleet_report.crimes_summary(manifest, small, fleet.trail_dbs(manifest, small / "local"), local)
    assert t is not None and t["planted"] == ACQUISITIVE and t["planted_matched"] == ACQUISITIVE
    assert t["near_miss_strong"] == 0 and not t["trail_tags_without_database"]
    assert t["by_kind"]["unrelated"]["crimes"] == ACQUISITIVE * cohort.UNRELATED_PER_WEARER
    assert "planted crimes matched" in fleet_report.table({**fleet_report.summarise(manifest, local), "crimes": t})
    # the matcher is what finds them: with every breadcrumb gone, none is matched
    blank = tmp_path / "results"
    shutil.copytree(small / "local", blank)
    for db in fleet.trail_dbs(manifest, blank).values():
        c = Centre(db)
        with c.db.transaction():
            c.db.execute("DELETE FROM events WHERE kind = 10")
        crimes.reindex(c)
        c.close()
    gone = fleet_report.crimes_summary(manifest, small, fleet.trail_dbs(manifest, blank), local)
    assert gone is not None and gone["planted_matched"] == 0


def test_dask_local_cluster_gives_the_same_results(small: Path, local: dict[str, dict[str, Any]]) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        on_dask = fleet.run(small, small / "dask", scheduler=cluster.scheduler_address)
    assert _stable(on_dask) == _stable(local)


def test_resumes_after_an_interruption(small: Path, local: dict[str, dict[str, Any]]) -> None:
    resumed = small / "resumed"
    shutil.copytree(small / "local", resumed)
    (resumed / "tag-0002.json").unlink()  # never finished
    (resumed / "tag-0003.json").write_text('{"scenario_sha256": "')  # torn as it was written
    ran: list[str] = []
    again = fleet.run(small, resumed, jobs=2, on_progress=lambda d, t, label: ran.append(label))
    assert ran[0] == f"{1 + ACQUISITIVE + ALCOHOL} already done" and sorted(ran[1:]) == ["tag-0002", "tag-0003"]
    assert _stable(again) == _stable(local)


def test_fleet_report_command(small: Path, local: dict[str, dict[str, Any]]) -> None:
    proc = subprocess.run([sys.executable, "-m", "host_sim.tagsim", "fleet", "report", str(small), "--results",
                           str(small / "local")], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "planted breaches detected" in proc.stdout and "alerts per tag-day" in proc.stdout
    for png in ("latency.png", "alerts_per_tag_day.png", "battery_life.png", "cohort_map.png"):
        assert (small / "report" / png).read_bytes()[:4] == b"\x89PNG"
    data = json.loads((small / "report" / "report.json").read_text())
    assert data["summary"]["tags"] == TAGS + ACQUISITIVE + ALCOHOL
    assert data["summary"]["crimes"]["planted_matched"] == ACQUISITIVE
    assert set(data["tags"]) == {f"tag-{i:04d}" for i in range(1, TAGS + 1)} | {
        f"trl-{i:04d}" for i in range(1, ACQUISITIVE + 1)} | {f"alc-{i:04d}" for i in range(1, ALCOHOL + 1)}
    assert "drinking episodes reported" in proc.stdout


def test_help_explains_cohort_and_fleet() -> None:
    for cmd, words in ((["cohort", "--help"], ("--tags", "--breach-share", "planted")),
                       (["fleet", "--help"], ("--scheduler", "--jobs", "interruption", "Dask"))):
        out = subprocess.run([sys.executable, "-m", "host_sim.tagsim", *cmd], capture_output=True, text=True,
                             cwd=ROOT).stdout
        assert all(w in out for w in words), (cmd, out)


def test_a_crashing_tag_is_a_failed_tag_and_runs_again(tmp_path: Path) -> None:
    from host_sim.run import sim

    cohort.generate(tmp_path, 1, SEED)
    real = sim.HEAP
    sim.HEAP = "20K"  # too small to boot: the firmware dies with a MemoryError
    try:
        crashed = fleet.run_tag(str(tmp_path / "tag-0001.yaml"))
    finally:
        sim.HEAP = real
    assert crashed["passed"] is False and "MemoryError" in crashed["error"]
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "tag-0001.json").write_text(json.dumps(crashed))
    assert fleet.done(tmp_path / "results", tmp_path / "tag-0001.yaml") is None
    s = fleet_report.summarise(json.loads((tmp_path / "cohort.json").read_text()), {"tag-0001": crashed})
    assert s["failed"] == ["tag-0001"] and "MemoryError" in s["errors"]["tag-0001"]
