# The geofence kernel in MicroPython: viper beside its bytecode twin, one call per
# point (as the tag makes them, one per fix). Prints one JSON line.
import json
import sys
import time
from array import array

import geofence
import geofence_twin


def _load(path, code):
    with open(path, "rb") as f:
        return array(code, f.read())


def _time(fn, zone, pts, repeat):
    n = len(pts) // 2
    total = 0
    t0 = time.ticks_us()
    for _ in range(repeat):
        for i in range(n):
            total += fn(zone, pts[2 * i], pts[2 * i + 1])
    us = time.ticks_diff(time.ticks_us(), t0)
    return n * repeat * 1000000 // us, total // repeat


def main():
    zone = _load(sys.argv[1], "I")
    pts = _load(sys.argv[2], "i")
    repeat = int(sys.argv[3])
    viper, vsum = _time(geofence.depth, zone, pts, repeat)
    twin, tsum = _time(geofence_twin.depth_bytecode, zone, pts, max(1, repeat // 20))
    print(json.dumps({"viper_checks_per_s": viper, "bytecode_checks_per_s": twin,
                      "viper_checksum": vsum, "bytecode_checksum": tsum, "points": len(pts) // 2}))


main()
