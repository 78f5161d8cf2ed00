"""The whole tag on the host board: NMEA bytes in, zone events out over its link."""

import random
from pathlib import Path

from host_sim import wire
from host_sim.device import device_image, zone_compiler
from host_sim.run import sim
from host_sim.run.lockstep import Firmware
from host_sim.world import zones
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
    key = bytes(range(32))
    device = device_image.build(tmp_path, {"device_id": "tag-9", "key": key.hex()}, blob)
    truth = traces.line((HALF + 150, 0), (HALF - 60, 0), 1.4, dwell_s=30)
    fixes = traces.fixes(origin, truth, random.Random(3), 1.0)
    with Firmware(start_ms=traces.START_MS, device=device, heap=sim.HEAP) as fw:
        for f_ in fixes:
            fw.gnss(_nmea(f_))
            fw.advance(f_[0] + 100)
        fw.advance(fixes[-1][0] + 2000)
        fw.stop()
    # nothing acknowledged the frames, so the tag sent its first batch again and again:
    # every event is in the first frame of the last retry
    frames = [wire.open_frame(key, fr) for fr in wire.Unslip().feed(bytes(fw.out.link))]
    assert frames and all(kind == wire.EVENTS and dev == wire.device_id("tag-9") for kind, dev, _ in frames)
    events = {e.seq: e for _, _, p in frames for e in wire.events_of(p)}
    zone_events = [e for e in events.values() if e.kind in (1, 3)]
    assert [e.kind for e in zone_events] == [3, 1]  # warning ring, then the breach
    assert all(e.zone_id == compiled[0].zone_id for e in zone_events)
    breach = zone_events[1]
    crossing = traces.START_MS // 1000 + next(i for i, t in enumerate(truth) if t.east_m < HALF)
    assert 0 <= breach.utc - crossing <= 30  # confirmed within 30 s of the true crossing
    assert breach.depth_m >= 13  # metres deep when confirmed
    lines = [text for _, text in fw.out.lines]
    assert sum(ln.startswith("FIX ") for ln in lines) == len(fixes)
    assert not any(ln.startswith("EVT") for ln in lines)  # the console says nothing of zones
