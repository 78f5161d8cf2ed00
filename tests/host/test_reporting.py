"""Store and forward end to end: the tag firmware, its link over real TCP, the
centre's SQLite; coverage gaps, breach latency, orders sent down the link."""

import json
import struct
from pathlib import Path

from host_sim import wire
from host_sim.device import device_image, flash_image, zone_compiler
from host_sim.judge import verdict
from host_sim.paths import ROOT
from host_sim.run import sim
from host_sim.run.lockstep import Firmware
from host_sim.world import scenario, zones
from tests.host import zone_gen

START = 1_796_083_200_000


def test_breach_reaches_the_centre_within_60s() -> None:
    run = sim.execute(scenario.load(ROOT / "scenarios/direct-approach.yaml"), keep_nmea=False)
    breaches = [r for r in run.stored if r["kind"] == 1]
    assert len(breaches) == 1
    assert breaches[0]["received_ms"] - breaches[0]["utc"] * 1000 <= 60_000
    assert verdict.score(run).latencies_s[0] <= 60


def test_six_hour_coverage_gap(tmp_path: Path) -> None:
    """Every event of the gap arrives afterwards, once, in order, with its own time."""
    (tmp_path / "gap.yaml").write_text(
        'name: gap\nstart: "2026-12-01 00:00"\nduration: 7h30m\nseed: 5\n'
        "zones: [{name: far, circle: {lat: 52.50, lon: -1.80, radius_m: 100}}]\n"
        "route: {start: {lat: 52.4862, lon: -1.8904}, legs: [{dwell: 7h30m}]}\n"
        "coverage_gaps: [{from: 1h, to: 7h}]\n")
    sc = scenario.load(tmp_path / "gap.yaml")
    run = sim.execute(sc, keep_nmea=False)
    rows = run.stored
    seqs = [r["seq"] for r in rows]
    assert seqs == list(range(1, len(rows) + 1))  # all of them, none twice
    start = sc.start_utc
    in_gap = [r for r in rows if start + 3600 <= r["utc"] < start + 7 * 3600]
    assert len(in_gap) >= 355  # a breadcrumb a minute for six hours
    assert all(r["received_ms"] >= (start + 7 * 3600) * 1000 for r in in_gap)
    received = [r["received_ms"] for r in rows]
    assert received == sorted(received)
    assert [r["utc"] for r in rows if r["kind"] == 10] == sorted(r["utc"] for r in rows if r["kind"] == 10)


def test_new_zone_from_the_centre_is_in_force_within_a_reporting_period(tmp_path: Path) -> None:
    (tmp_path / "o.yaml").write_text(
        'name: order\nstart: "2026-12-01 10:00"\nduration: 25m\nseed: 9\n'
        "zones: [{name: first, circle: {lat: 52.50, lon: -1.80, radius_m: 100}}]\n"
        "route: {start: {lat: 52.4862, lon: -1.8904}, legs: [{to: {lat: 52.4900, lon: -1.8904}, mode: walk},"
        " {dwell: 20m}]}\n")
    sc = scenario.load(tmp_path / "o.yaml")
    lon, lat = -1.8904, 52.4900
    new = zones.from_feature({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                              "properties": {"radius_m": 150, "name": "second"}})
    order_at = 5 * 60
    run = sim.execute(sc, keep_nmea=False, orders=[sim.Order(order_at, 2, [*sc.zones, new])])
    applied = [r for r in run.stored if r["kind"] == 13]
    assert [r["depth_m"] for r in applied] == [2]
    # the next exchange after the order: far from every zone the tag reports every 300 s
    assert applied[0]["utc"] - sc.start_utc <= order_at + 300 + 2
    breaches = [r for r in run.stored if r["kind"] == 1]
    second = zone_compiler.compile_zones([*sc.zones, new], seed=f"{sc.name}/{sc.seed}/2")[0][1].zone_id.hex()
    assert [r["zone_id"] for r in breaches] == [second]
    assert breaches[0]["utc"] >= applied[0]["utc"]


def _events(key: bytes, fw: Firmware) -> list[wire.Event]:
    found: dict[int, wire.Event] = {}
    for frame in wire.Unslip().feed(bytes(fw.out.link)):
        _, _, payload = wire.open_frame(key, frame)
        for e in wire.events_of(payload):
            found[e.seq] = e
    return [found[k] for k in sorted(found)]


def test_tampered_and_replayed_orders_are_refused(tmp_path: Path) -> None:
    key = bytes(range(32))
    dev = wire.device_id("tag-0001")
    lat, lon = 52.4862, -1.8904
    ring = [zone_gen.offset(lat, lon, e, n) for e, n in [(-50, -50), (50, -50), (50, 50), (-50, 50)]]
    z = zones.from_feature({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                            "properties": {}})
    _, zfile = zone_compiler.compile_zones([z], "orders")
    settings = json.dumps({"confirm_fixes": 4}).encode()
    image = device_image.build(tmp_path, {"device_id": "tag-0001", "key": key.hex()})
    with Firmware(start_ms=START, device=image, heap=sim.HEAP) as fw:
        def deliver(frame: bytes, at_s: int) -> None:
            fw.link(wire.slip(frame))
            fw.advance(START + at_s * 1000)

        deliver(wire.config_frame(b"x" * 32, dev, 5, settings, zfile), 1)  # forged: wrong key
        deliver(wire.config_frame(key, dev, 2, settings, zfile), 2)  # genuine
        deliver(wire.config_frame(key, dev, 1, settings, zfile), 3)  # older: a replay
        good = wire.config_frame(key, dev, 3, settings, zfile)
        deliver(good[:-1] + bytes([good[-1] ^ 1]), 4)  # tampered
        deliver(wire.config_frame(key, dev, 4, b'{"margin_m": "five"}', zfile), 5)  # malformed
        deliver(wire.config_frame(key, dev, 2, settings, zfile), 6)  # the one in force again: ignored
        fw.advance(START + 20_000)
        fw.stop()
    order_events = [(e.kind, e.depth_m) for e in _events(key, fw) if e.kind in (13, 14)]
    assert order_events == [(13, 2), (14, 1), (14, 4)]
    stat = dict(kv.split("=") for kv in [t for _, t in fw.out.lines if t.startswith("STAT")][-1].split()[1:])
    assert stat["order"] == "2" and int(stat["rejected"]) == 2
    assert struct.unpack_from("<I", flash_image.files(tmp_path)["order.bin"])[0] == 2


def test_order_survives_a_reboot(tmp_path: Path) -> None:
    key = bytes(range(32))
    dev = wire.device_id("tag-0001")
    _, zfile = zone_compiler.compile_zones([], "none")
    image = device_image.build(tmp_path, {"device_id": "tag-0001", "key": key.hex()})
    with Firmware(start_ms=START, device=image, heap=sim.HEAP) as fw:
        fw.link(wire.slip(wire.config_frame(key, dev, 7, b"{}", zfile)))
        fw.advance(START + 1000)
        fw.stop()
    with Firmware(start_ms=START + 60_000, device=image, heap=sim.HEAP) as fw2:
        fw2.advance(START + 61_000)
        fw2.stop()
    stat = [t for _, t in fw2.out.lines if t.startswith("STAT")][-1]
    assert "order=7" in stat
