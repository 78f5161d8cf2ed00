"""make bench keeps working. Speeds are printed by make bench, never asserted here;
allocation counts are deterministic and are."""

from pathlib import Path

from host_sim import bench


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
    r = bench.bench_centre(tmp_path)["centre"]  # raises unless every event was stored
    assert r["frames"] == 2000 and r["frames_per_s"] > 0


def test_fleet_bench_runs_and_counts_the_cpu(tmp_path: Path) -> None:
    r = bench.bench_fleet(tmp_path, tags=2)["fleet"]
    assert r["tags"] == 2 and r["tag_days"] == 2.0 and r["passed"] == 2
    assert r["cpu_s"] > 0 and r["tag_days_per_cpu_minute"] > 0
