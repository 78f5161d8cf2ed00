"""make bench keeps working. Speeds are printed by make bench, never asserted here;
allocation counts are deterministic and are."""

from pathlib import Path

from host_sim import bench
from host_sim.centre import crimes
from host_sim.device import mp


def test_nmea_bench_runs_and_the_parser_does_not_allocate(tmp_path: Path) -> None:
    r = bench.bench_nmea(tmp_path)["nmea"]
    assert r["sentences"] > 10_000 and r["naive_sentences"] > 10_000
    assert r["sentences_per_s"] > 0 and r["naive_sentences_per_s"] > 0
    assert r["heap"] == "256K"
    assert r["alloc_bytes_per_sentence"] <= 400
    assert r["naive_alloc_bytes_per_sentence"] > r["alloc_bytes_per_sentence"]


def test_geofence_bench_runs_and_three_kernels_agree(tmp_path: Path) -> None:
    r = bench.bench_geofence(tmp_path)["geofence"]  # raises when viper, bytecode and C disagree
    assert r["vertices"] == 64 and r["points"] == 2000
    assert r["viper_checks_per_s"] > 0 and r["bytecode_checks_per_s"] > 0 and r["c_checks_per_s"] > 0


def test_centre_bench_runs_and_stores_everything(tmp_path: Path) -> None:
    r = bench.bench_centre(tmp_path, n=300, tags=20)["centre"]  # raises unless every event was stored, on both
    assert r["frames"] == 300 and r["frames_per_s"] > 0 and r["frames_per_s_postgresql"] > 0
    assert r["frames_per_s_fleet"] > 0 and r["frames_per_s_postgresql_fleet"] > 0 and r["fleet_tags"] == 20
    assert r["cpu_us_per_frame"] > 0 and r["sqlite_bare_inserts_frames_per_s"] > 0


def test_trail_bench_runs_and_matches_every_crime(tmp_path: Path) -> None:
    r = bench.bench_trail(tmp_path, tags=4, days=2, n=60)["trail"]
    assert r["breadcrumbs"] > 100 and r["crimes"] == 60 and r["match_s"] >= 0 and r["index_s"] >= 0
    assert r["match_rtree_s"] >= 0
    assert set(r["hits"]) == set(crimes.RANK) and sum(r["hits"].values()) > 0


def test_alcohol_bench_runs_and_reads_the_role_s_heap(tmp_path: Path) -> None:
    r = bench.bench_alcohol(tmp_path, week="alcohol-evening-four-pints", heap_of="alcohol-tag-off*.yaml")["alcohol"]
    assert r["transport"] == "cellular sim7000" and 24 <= r["battery_life_h"] < 10_000
    assert r["readings"] >= 48 and r["modem_sends"] > 0
    assert list(r["heap_peak_by_scenario"]) == ["alcohol-evening-four-pints", "alcohol-tag-off-the-skin"]
    assert 0 < r["heap_peak_bytes"] <= 64 * 1024 and r["heap_cap"] == "64K"


def test_fleet_bench_runs_and_counts_the_cpu(tmp_path: Path) -> None:
    r = bench.bench_fleet(tmp_path, tags=2)["fleet"]
    assert r["tags"] == 2 and r["tag_days"] == 2.0 and r["passed"] == 2
    assert r["cpu_s"] > 0 and r["tag_days_per_cpu_minute"] > 0
    split = r["cpu_split_s"]
    assert set(split) == {"firmware", "nmea_and_trace", "lockstep_and_rest", "centre"}
    assert split["firmware"] > 0 and split["nmea_and_trace"] > 0 and split["centre"] > 0
    assert sum(split.values()) <= r["cpu_s"] * 1.05  # parts of the whole, not more
    assert 0 < r["heap_peak_bytes_max"] < 65536 and r["heap_cap"] == "64K"
    worst = r["worst_battery"]
    assert worst["wearer"] in ("tag-0001", "tag-0002") and worst["battery_life_h"] == r["battery_life_h"]["min"] > 0


def test_the_simulator_s_interpreter_has_32_bit_words() -> None:
    assert mp.run(bench._WORD_BITS).stdout.strip() == "32"


def test_the_home_unit_figure_reads_its_scan_on_mains_and_backup() -> None:
    from host_sim.paths import ROOT

    r = bench.unit_scan(ROOT / "scenarios" / "curfew-unit-power-loss.yaml")
    assert r["backup_s"] == 3600 and 0 < r["scan_share_on_backup"] < 0.15 < 0.99 < r["scan_share_on_mains"]
    # the C3 scans through the whole of every interval: 85 mA while it scans
    assert abs(r["scan_ma_on_backup"] - 85.0 * r["scan_share_on_backup"]) <= 0.1
