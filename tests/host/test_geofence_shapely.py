"""The tag's geofence (zone compiler, grid projection, viper kernel, run inside
MicroPython) against pyproj's geodesic projection and shapely.

Inside/outside agrees wherever the point is farther than 1.5 grid units from the
boundary (vertices and the point are each rounded to the grid: up to half a
diagonal each); the depth (signed distance to the boundary) agrees within 0.5 m
wherever it is within the zone's reach; beyond the reach the tag reports the
point outside and at least that far."""

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host_sim.device import mp, zone_compiler
from host_sim.world import zones
from tests.conftest import RV32, X86_32
from tests.host import zone_gen

FW_PLATFORMS = (X86_32, RV32)  # the kernels checked on the simulator's board and on the C3's ISA

DEPTH_TOL_M = 0.5


def _points(feature: dict[str, Any], cz: zone_compiler.CompiledZone,
            rnd: random.Random) -> list[tuple[int, int]]:
    z = cz.zone
    assert z.geometry is not None
    west, south, east, north = z.geometry.bounds
    pad_lat = (cz.reach * cz.unit_cm / 100 + 50) / 111_000
    pad_lon = pad_lat * 1.8
    pts = [(rnd.uniform(south - pad_lat, north + pad_lat), rnd.uniform(west - pad_lon, east + pad_lon))
           for _ in range(60)]
    polys = list(z.geometry.geoms) if z.geometry.geom_type == "MultiPolygon" else [z.geometry]
    for p in polys:
        for ring in [p.exterior, *p.interiors]:
            coords = list(ring.coords)
            for (x1, y1), (x2, y2) in zip(coords, coords[1:], strict=False):
                pts.append((y1, x1))  # a vertex
                t = rnd.random()
                pts.append((y1 + t * (y2 - y1), x1 + t * (x2 - x1)))  # on an edge
                pts.append((y1, rnd.uniform(west - pad_lon, east + pad_lon)))  # a vertex's parallel
    return [(zone_compiler.e7(lat), zone_compiler.e7(lon)) for lat, lon in pts]


@given(zone_gen.zone_feature(), st.randoms(use_true_random=False))
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_depth_agrees_with_shapely(fw: mp.Service, feature: dict[str, Any], rnd: random.Random) -> None:
    zone = zones.from_feature(feature)
    (cz,), blob = zone_compiler.compile_zones([zone], "test")
    pts = _points(feature, cz, rnd)
    (tag,) = fw.call("geofence_probe", "depths", blob.hex(), pts)
    oracle = zone_gen.Oracle(zone.geometry, cz.lat0 / 1e7, cz.lon0 / 1e7)
    unit_m = cz.unit_cm / 100
    reach_m = cz.reach * unit_m
    for (lat, lon), got_cm in zip(pts, tag, strict=True):
        want = oracle.depth(lat / 1e7, lon / 1e7)
        where = (f"{feature['properties']['name']} zone, point {lat},{lon}: "
                 f"tag {got_cm} cm, shapely {want:.3f} m")
        if got_cm is None or got_cm / 100 <= -reach_m:
            assert want < -reach_m + DEPTH_TOL_M + unit_m, where
            if got_cm is not None:
                assert got_cm / 100 >= want - DEPTH_TOL_M, where  # a lower bound of the distance
            continue
        got = got_cm / 100
        assert abs(got - want) <= DEPTH_TOL_M, where
        if abs(want) > 1.5 * unit_m:
            assert (got > 0) == (want > 0), where


@given(zone_gen.centre(), st.integers(10, 1500), st.sampled_from([0, 100, 500]),
       st.randoms(use_true_random=False))
@settings(max_examples=60)
def test_circle_compiled_on_the_tag(fw: mp.Service, centre: tuple[float, float], radius: int,
                                   warning: int, rnd: random.Random) -> None:
    lat, lon = centre
    pts = []
    for _ in range(40):
        lon2, lat2 = zone_gen.offset(lat, lon, rnd.uniform(-1, 1) * (radius + warning + 200),
                                     rnd.uniform(-1, 1) * (radius + warning + 200))
        pts.append((zone_compiler.e7(lat2), zone_compiler.e7(lon2)))
    lat_e7, lon_e7 = zone_compiler.e7(lat), zone_compiler.e7(lon)
    got = fw.call("geofence_probe", "circle_depths", "00" * 8, 0, lat_e7, lon_e7, radius, warning, pts)
    for (a, b), cm in zip(pts, got["depths"], strict=True):
        _, _, dist = zone_gen.GEOD.inv(lon_e7 / 1e7, lat_e7 / 1e7, b / 1e7, a / 1e7)
        assert cm is not None
        assert abs(cm / 100 - (radius - dist)) <= DEPTH_TOL_M, (a, b, cm, radius - dist)


@given(zone_gen.centre(), st.sampled_from(zone_compiler.UNITS_CM))
@settings(max_examples=100)
def test_grid_constants_tag_integer_vs_host_float(fw: mp.Service, centre: tuple[float, float],
                                                   unit: int) -> None:
    lat_e7 = zone_compiler.e7(centre[0])
    tag = fw.call("geofence_probe", "constants", lat_e7, unit)
    host = zone_compiler.constants(lat_e7, unit)
    for t, h in zip(tag, host, strict=True):
        assert abs(t - h) <= max(2, abs(h) * 1e-9), (tag, host)


def test_circle_too_large_for_a_grid_is_refused_on_the_tag(fw: mp.Service) -> None:
    from host_sim.device.mp import MicroPythonError

    try:
        fw.call("geofence_probe", "circle_depths", "00" * 8, 0, 524800000, -19000000, 2200, 500, [])
    except MicroPythonError as e:
        assert "too large for one grid" in str(e)
    else:
        raise AssertionError("a 2.2 km circle with a 500 m ring was accepted")
