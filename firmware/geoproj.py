# Zone-local grid projection on the WGS84 ellipsoid, in exact integer arithmetic
# (so a fix lands on the same grid point on the ESP32 and the PC).
#
# For a grid with origin (lat0, lon0) and unit u cm, a point dlat, dlon (1e-7
# degrees) from the origin projects to
#   y = round(dlat * KY / 2**32)
#   x = round(dlon * (KX0 + floor(dlat * KXD / 2**32)) / 2**32)
# where KY is the meridian's grid units per 1e-7 degree, KX0 the parallel's at
# the origin, and KXD its change halfway to the point's latitude: an
# equirectangular map taken at the mid latitude, good to millimetres over a grid.
# constants() computes the three in Q48 fixed point with series for sin and cos;
# host_sim/device/zone_compiler.py computes them independently in floating point.
from micropython import const

_Q = const(48)
_ONE = const(1 << 48)
_PI = const(884279719003555)  # pi * 2**48
_E2 = const(1884300451817)  # WGS84 first eccentricity squared * 2**48
_A = const(6378137)  # WGS84 semi-major axis, metres
_E7_PER_DEG = const(10000000)


def _isqrt(n):
    # floor(sqrt(n)) by Newton's method (MicroPython ints have no bit_length)
    if n <= 0:
        return 0
    x = n
    while True:
        y = (x + n // x) >> 1
        if y >= x:
            return x
        x = y


def _sin_cos(phi):
    # Q48 sine and cosine of phi (Q48 radians, |phi| <= pi/2), by their series.
    p2 = (phi * phi) >> _Q
    s = term = phi
    k = 1
    while term:
        term = -(term * p2 >> _Q) // ((2 * k) * (2 * k + 1))
        s += term
        k += 1
    c = term = _ONE
    k = 1
    while term:
        term = -(term * p2 >> _Q) // ((2 * k - 1) * (2 * k))
        c += term
        k += 1
    return s, c


def constants(lat0_e7, unit_cm):
    # (KY, KX0, KXD) for a grid of unit_cm centimetres at latitude lat0_e7.
    units_per_m = 100 // unit_cm
    per_e7 = 180 * _E7_PER_DEG  # radians per 1e-7 degree = pi / per_e7
    s, c = _sin_cos(lat0_e7 * _PI // per_e7)
    w = _ONE - ((_E2 * ((s * s) >> _Q)) >> _Q)  # 1 - e2 sin^2
    sw = _isqrt(w << _Q)
    n = (_A << (2 * _Q)) // sw  # prime vertical radius, Q48 metres
    m = (n * (_ONE - _E2)) // w  # meridian radius
    # d(N cos phi)/d phi = -N sin phi (1 - e2) / w
    dn = -(((n * s) >> _Q) * (_ONE - _E2)) // w
    # metres per 1e-7 degree, Q96 (a Q48 value times pi in Q48)
    my = m * _PI // per_e7
    mx = ((n * c) >> _Q) * _PI // per_e7
    dmx = (dn * _PI // per_e7) * _PI // per_e7 >> _Q
    return (
        (my * units_per_m) >> (2 * _Q - 32),
        (mx * units_per_m) >> (2 * _Q - 32),
        (dmx * units_per_m) >> (2 * _Q - 63),  # Q64, halved: taken at mid latitude
    )


def project(dlat, dlon, ky, kx0, kxd):
    # Grid (x, y) of a point dlat, dlon (1e-7 degrees) from the origin.
    kx = kx0 + ((dlat * kxd) >> 32)
    return (dlon * kx + (1 << 31)) >> 32, (dlat * ky + (1 << 31)) >> 32
