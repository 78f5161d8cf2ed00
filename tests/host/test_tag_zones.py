"""The whole tag on the host board: NMEA bytes in, zone events out over its link."""

import random
from pathlib import Path

from host_sim import device_image, zone_compiler, zones
from host_sim.lockstep import Firmware
from tests.host import nmea_gen, traces, zone_gen

HALF = 150


def _nmea(fix: list[int]) -> bytes:
    t_ms, lat, lon, hdop, speed, _, _ = fix
    secs = (t_ms // 1000) % 86400
    hms = f"{secs // 3600:02d}{secs % 3600 // 60:02d}{secs % 60:02d}.00"

    def coord(v: int, width: int, pos: str, neg: str) -> tuple[str, str]:
        a = abs(v)
        deg, minutes = divmod(a * 60, 600_000_000)
        return f"{a // 10_000_000:0{width}d}{minutes / 10_000_000:08.5f}", pos if v >= 0 else neg

    la, ns = coord(lat, 2, "N", "S")
    lo, ew = coord(lon, 3, "E", "W")
    kn = speed / 51.444
    rmc = f"GNRMC,{hms},A,{la},{ns},{lo},{ew},{kn:.3f},,011226,,,A,V"
    gga = f"GNGGA,{hms},{la},{ns},{lo},{ew},1,10,{hdop / 100:.2f},120.0,M,48.0,M,,"
    return "".join(nmea_gen.checksum(s) + "\r\n" for s in (rmc, gga)).encode()


def test_walk_into_a_zone_raises_one_breach_event(tmp_path: Path) -> None:
    origin = (52.4862, -1.8904)
    ring = [zone_gen.offset(*origin, e, n) for e, n in [(-HALF, -HALF), (HALF, -HALF), (HALF, HALF),
                                                        (-HALF, HALF)]]
    f = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
         "properties": {"warning_m": 50}}
    compiled, blob = zone_compiler.compile_zones([zones.from_feature(f)], "tag-zones")
    device = device_image.build(tmp_path, {"device_id": "tag-9"}, blob)
    truth = traces.line((HALF + 150, 0), (HALF - 60, 0), 1.4, dwell_s=30)
    fixes = traces.fixes(origin, truth, random.Random(3), 1.0)
    with Firmware(start_ms=traces.START_MS, device=device, heap="64K") as fw:
        for f_ in fixes:
            fw.gnss(_nmea(f_))
            fw.advance(f_[0] + 100)
        fw.advance(fixes[-1][0] + 2000)
        fw.stop()
    lines = fw.out.link.decode().splitlines()
    events = [ln.split() for ln in lines if ln.startswith("EVT ")]
    assert [e[1] for e in events] == ["3", "1"], lines[-5:]  # warning ring, then the breach
    assert all(e[2] == compiled[0].zone_id.hex() for e in events)
    breach = events[1]
    crossing = traces.START_MS // 1000 + next(i for i, t in enumerate(truth) if t.east_m < HALF)
    assert 0 <= int(breach[4]) - crossing <= 30  # confirmed within 30 s of the true crossing
    assert int(breach[5]) >= 13  # metres deep when confirmed
    assert sum(ln.startswith("FIX ") for ln in lines) == len(fixes)
    stat = dict(kv.split("=") for kv in lines[-1].split()[1:])
    assert 0 < int(stat["heap_peak"]) < 64 * 1024  # ran in a 64 KiB heap
