"""Zone input and the compiled format: clear refusals, and a tag that rejects
malformed zone bytes with ZoneError and nothing else."""

import math
import random
import struct
from typing import Any

import pytest

from host_sim.device import mp, zone_compiler
from host_sim.world import zones
from tests.host import zone_gen


def _square(lat: float, lon: float, half_m: float, **props: Any) -> dict[str, Any]:
    ring = [zone_gen.offset(lat, lon, e, n) for e, n in
            [(-half_m, -half_m), (half_m, -half_m), (half_m, half_m), (-half_m, half_m)]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            "properties": props}


@pytest.mark.parametrize(("feature", "says"), [
    ({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[-1.9, 52.4], [-1.8, 52.4],
      [-1.8, 52.5], [-1.9, 52.5]]]}, "properties": {}}, "ring 0 is not closed"),
    ({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[-1.9, 52.4], [-1.8, 52.5],
      [-1.8, 52.4], [-1.9, 52.5], [-1.9, 52.4]]]}, "properties": {}}, "invalid polygon: Self-intersection"),
    ({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[52.4, -1.9], [52.4, 95.0],
      [52.5, -1.8], [52.4, -1.9]]]}, "properties": {}}, "not lon, lat in degrees"),
    (_square(52.48, -1.89, 100, colour="red"), "unknown properties ['colour']"),
    (_square(52.48, -1.89, 100, kind="forbidden"), "expected 'exclusion' or 'inclusion'"),
    (_square(52.48, -1.89, 100, schedule=[{"days": "Mon-Fri", "start": "8am", "end": "18:00"}]),
     "expected HH:MM"),
    (_square(52.48, -1.89, 100, schedule=[{"days": "Weekdays", "start": "08:00", "end": "18:00"}]),
     "expected e.g. 'Mon-Fri'"),
    ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [-1.89, 52.48]}, "properties": {}},
     "needs radius_m"),
    ({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[-1.89, 52.48], [-1.8, 52.4]]},
      "properties": {}}, "expected Polygon, MultiPolygon or Point"),
])
def test_bad_zones_are_refused_with_the_reason(feature: dict[str, Any], says: str) -> None:
    with pytest.raises(zones.ZoneError, match=".*") as e:
        zones.from_feature(feature, "victim-1 home")
    assert says in str(e.value) and "victim-1 home" in str(e.value)


def test_too_large_a_zone_is_refused() -> None:
    z = zones.from_feature(_square(52.48, -1.89, 2200, warning_m=200), "town")
    with pytest.raises(zones.ZoneError, match="too large for one grid.*split it"):
        zone_compiler.compile_zone(z, b"\0" * 8)


def test_too_many_edges_are_refused() -> None:
    ring = [zone_gen.offset(52.48, -1.89, 800 * math.cos(a), 800 * math.sin(a))
            for a in (2 * math.pi * k / 600 for k in range(600))]
    f = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
         "properties": {}}
    with pytest.raises(zones.ZoneError, match="600 edges; the tag takes at most 512"):
        zone_compiler.compile_zone(zones.from_feature(f), b"\0" * 8)


def test_unit_is_the_finest_that_fits() -> None:
    small = zone_compiler.compile_zone(zones.from_feature(_square(52.48, -1.89, 50)), b"\0" * 8)
    mid = zone_compiler.compile_zone(zones.from_feature(_square(52.48, -1.89, 700)), b"\0" * 8)
    big = zone_compiler.compile_zone(zones.from_feature(_square(52.48, -1.89, 1800)), b"\0" * 8)
    assert (small.unit_cm, mid.unit_cm, big.unit_cm) == (5, 10, 20)


def test_zone_ids_reveal_nothing_and_are_stable() -> None:
    a = zone_compiler.zone_id("order-17", 0)
    assert a == zone_compiler.zone_id("order-17", 0) != zone_compiler.zone_id("order-17", 1)
    z = zones.from_feature(_square(52.48, -1.89, 50, name="12 Acacia Avenue"))
    blob = zone_compiler.compile_zone(z, a).blob
    assert b"Acacia" not in blob and a in blob


def test_geojson_round_trip_keeps_the_schedule() -> None:
    f = _square(52.48, -1.89, 100, kind="exclusion", warning_m=50, name="work",
                schedule=[{"days": "Mon-Fri", "start": "08:00", "end": "18:00"},
                          {"days": "Sat", "start": "22:00", "end": "06:00"}])
    z = zones.from_feature(f)
    again = zones.from_feature(zones.to_feature(z))
    assert again.schedule == z.schedule == [zones.Window(0x1F, 480, 1080), zones.Window(0x20, 1320, 360)]


def test_tag_rejects_malformed_zone_bytes(fw: mp.Service) -> None:
    """10,000 mutated zone files: each loads or raises ZoneError; never anything else."""
    rnd = random.Random(4)
    feats = [_square(52.48, -1.89, 100, warning_m=50,
                     schedule=[{"days": "daily", "start": "07:00", "end": "19:00"}]),
             {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-1.89, 52.48]},
              "properties": {"radius_m": 300}}]
    _, good = zone_compiler.compile_zones([zones.from_feature(f) for f in feats], "fuzz")
    blobs = []
    for _ in range(10_000):
        b = bytearray(good)
        op = rnd.randrange(4)
        if op == 0:
            for _ in range(rnd.randint(1, 4)):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
        elif op == 1:
            del b[rnd.randrange(len(b)):]
        elif op == 2:
            i = rnd.randrange(len(b))
            b[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 16)))
        else:
            struct.pack_into("<H", b, 4 + 10 + rnd.choice([0, 2, 4, 6]), rnd.randrange(65536))
        blobs.append(bytes(b).hex())
    outcomes = [fw.call("geofence_probe", "load_error", h) for h in blobs[:10_000]]
    refused = [o for o in outcomes if o is not None]
    assert all(o.startswith(("zone:", "zones:")) for o in refused), set(refused)
    assert len(refused) > 5_000
    assert fw.call("geofence_probe", "load_error", good.hex()) is None
