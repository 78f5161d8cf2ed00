# The geofence kernel's algorithm (firmware/geofence.py depth()) in plain
# bytecode: the twin the viper kernel is measured against (geofence_bench.py) and
# differentially tested against (tests/firmware/geofence_probe.py). No device
# runs it, so it is not firmware.
from geofence import EDGE_WORDS, FAR_START, HEADER_WORDS, UNIT


def depth_bytecode(zone, px, py):
    reach = zone[5]
    gx = max(zone[1] - px, px - zone[3])
    gy = max(zone[2] - py, py - zone[4])
    if gx > reach or gy > reach:
        return -max(gx, gy)
    inside = 0
    best_v2 = FAR_START * FAR_START - 1
    best_q = band = FAR_START
    for i in range(HEADER_WORDS, HEADER_WORDS + zone[0] * EDGE_WORDS, EDGE_WORDS):
        ax, ay, bx, by = zone[i], zone[i + 1], zone[i + 2], zone[i + 3]
        dy = py - ay
        if (dy > band and py - by > band) or (-dy > band and by - py > band):
            continue
        dx, ex, ey = px - ax, bx - ax, by - ay
        if (ay > py and by <= py and ex * dy - ey * dx < 0) or (ay <= py < by and ex * dy - ey * dx > 0):
            inside ^= 1
        t = dx * ex + dy * ey
        if t <= 0:
            if dx * dx + dy * dy < best_v2:
                best_v2 = dx * dx + dy * dy
                hi, lo = max(abs(dx), abs(dy)), min(abs(dx), abs(dy))
                band = min(band, hi + (lo >> 1) + 1)
        elif t < zone[i + 4]:
            s = abs(dx * (zone[i + 6] - UNIT) - dy * (zone[i + 5] - UNIT))
            q = (s + 16384) >> 15
            if q < best_q:
                best_q = q
                band = min(band, q + 2)
    d = min(_isqrt_round_bytecode(best_v2), best_q)
    return d if inside else -d


def _isqrt_round_bytecode(n):
    r = 0
    bit = 1 << 28
    while bit > n:
        bit >>= 2
    while bit:
        if n >= r + bit:
            n -= r + bit
            r = (r >> 1) + bit
        else:
            r >>= 1
        bit >>= 2
    return r + (n > r)
