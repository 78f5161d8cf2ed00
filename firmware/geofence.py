# Geofence kernel: signed distance from a point to a zone's boundary, in the
# zone's local integer grid, positive inside. Integer-only viper.
#
# Word size: grid coordinates lie in [-GRID, GRID] and are stored offset by GRID
# (so never negative: ptr32 loads zero-extend on 64-bit hosts). Every difference
# is then at most 2*GRID = 23170 in magnitude and every product or sum of two
# products at most 2 * 23170**2 < 2**31: the same results on the 32-bit ESP32 and
# the 64-bit PC. The perpendicular distance takes the edge's unit direction in
# Q15: |dx*uy - dy*ux| <= |d| * 32768 < 2**31 as well.
# host_sim/device/zone_compiler.py only emits zones inside that budget;
# tests/host/test_geofence_int32.py replays this arithmetic in int32.
import micropython
from micropython import const

GRID = const(11585)  # floor(sqrt(2**31 / 16))
EDGE_WORDS = const(7)  # ax, ay, bx, by (offset by GRID), len2, ux, uy (offset by UNIT)
UNIT = const(32768)  # the edge's unit direction (ux, uy) is stored times UNIT, plus UNIT
HEADER_WORDS = const(6)  # edges, min x, min y, max x, max y (offset), reach
FAR_START = const(32768)  # above any distance inside the grid (2*GRID*sqrt 2 < 32768)


@micropython.viper
def isqrt_round(n: int) -> int:
    # round(sqrt(n)) for 0 <= n < 2**30, bit by bit (every squared distance the
    # kernel forms is below 2 * (2 * GRID)**2 < 2**30; a literal 1 << 30 would be
    # a heap object to viper on the ESP32)
    r = 0
    bit = 1 << 28
    while bit > n:
        bit >>= 2
    while bit != 0:
        if n >= r + bit:
            n -= r + bit
            r = (r >> 1) + bit
        else:
            r >>= 1
        bit >>= 2
    if n > r:  # remainder above r: sqrt is past r + 1/2
        r += 1
    return r


@micropython.viper
def depth(zone: ptr32, px: int, py: int) -> int:
    # Signed distance (grid units) from (px, py), given offset by GRID, to the
    # boundary of a polygon zone (rings of edges, holes included, even-odd rule).
    # Beyond the bounding box by more than the zone's reach, returns minus a
    # lower bound of the distance, without visiting the edges.
    reach = int(zone[5])
    gx = int(zone[1]) - px
    if px - int(zone[3]) > gx:
        gx = px - int(zone[3])
    gy = int(zone[2]) - py
    if py - int(zone[4]) > gy:
        gy = py - int(zone[4])
    if gx > reach or gy > reach:
        return -(gx if gx > gy else gy)
    inside = 0
    best_v2 = FAR_START * FAR_START - 1  # squared distance to the nearest vertex
    best_q = FAR_START  # perpendicular distance to the nearest edge
    band = FAR_START  # no more than the nearest distance so far: edges wholly
    # farther above or below the point neither cross its ray nor come closer
    p = int(zone) + 4 * HEADER_WORDS
    end = p + 4 * EDGE_WORDS * int(zone[0])
    while p < end:
        e = ptr32(p)  # type: ignore[operator]  # the edge's words at constant offsets
        p += 4 * EDGE_WORDS
        ay = int(e[1])
        by = int(e[3])
        dy = py - ay
        if (dy > band and py - by > band) or (-dy > band and by - py > band):
            continue
        ax = int(e[0])
        dx = px - ax
        ex = int(e[2]) - ax
        ey = by - ay
        # even-odd ray to +x: the edge straddles y = py and passes right of the point
        if ay > py:
            if by <= py and ex * dy - ey * dx < 0:
                inside ^= 1
        elif by > py and ex * dy - ey * dx > 0:
            inside ^= 1
        t = dx * ex + dy * ey
        if t <= 0:
            d2 = dx * dx + dy * dy
            if d2 < best_v2:
                best_v2 = d2
                if dx < 0:
                    dx = -dx
                if dy < 0:
                    dy = -dy
                b = dx + (dy >> 1) + 1 if dx > dy else dy + (dx >> 1) + 1  # >= sqrt(d2)
                if b < band:
                    band = b
        elif t < int(e[4]):
            s = dx * (int(e[6]) - UNIT) - dy * (int(e[5]) - UNIT)
            if s < 0:
                s = -s
            q = (s + 16384) >> 15
            if q < best_q:
                best_q = q
                if q + 2 < band:  # q is rounded: leave the band room
                    band = q + 2
    d = int(isqrt_round(best_v2))
    if best_q < d:
        d = best_q
    return d if inside else -d


@micropython.viper
def circle_depth(x: int, y: int, r: int) -> int:
    # Signed distance from (x, y) (centred, not offset) to a circle of radius r
    # about the origin, positive inside. |x|, |y| <= GRID.
    return r - int(isqrt_round(x * x + y * y))
