# A zone as the tag holds it: its grid, its edges for the viper kernel, its
# schedule. Zones arrive compiled (host_sim/device/zone_compiler.py writes the format
# below, docs/zones.md describes it); the tag can compile a circle itself.
#
# Blob, little-endian:
#   head    "<2sBBBBHHHH8siiqqqB": b"EZ", version 1, kind (0 exclusion,
#           1 inclusion), shape (0 polygon, 1 circle), unit cm, edges, warning m,
#           reach (grid units), radius (grid units, circles), id (8 bytes),
#           origin lat, lon (1e-7 degrees), KY, KX0, KXD (see geoproj), windows
#   windows "<BHH" each: days mask (bit 0 Monday), start, end minute (London)
#   bbox    "<HHHH": min x, min y, max x, max y, offset by GRID
#   edges   "<I" x 7 each: ax, ay, bx, by offset by GRID, squared length, unit
#           direction ux, uy times 32768, offset by 32768
import struct
from array import array

import geofence
import geoproj
import ukclock
from micropython import const

EXCLUSION = const(0)
INCLUSION = const(1)
_POLYGON = const(0)
_CIRCLE = const(1)
VERSION = const(1)
UNITS_CM = (5, 10, 20)  # finest first; 20 cm keeps depth within 0.5 m
MAX_EDGES = const(512)
_HEAD = "<2sBBBBHHHH8siiqqqB"
_HEAD_SIZE = struct.calcsize(_HEAD)
_WINDOW = "<BHH"
_WINDOW_SIZE = struct.calcsize(_WINDOW)


class ZoneError(ValueError):
    pass


class Zone:
    def __init__(self):
        self.kind = EXCLUSION
        self.shape = _CIRCLE
        self.unit_cm = 10
        self.warning_m = 0
        self.reach = 0
        self.radius = 0
        self.id = b"\0" * 8
        self.lat0 = 0
        self.lon0 = 0
        self.ky = self.kx0 = self.kxd = 0
        self.windows = []
        self.data = array("I")  # header and edges for geofence.depth (polygons)
        self._dlat_max = self._dlon_max = 0

    @classmethod
    def from_blob(cls, blob, at=0):
        # (zone, offset after it) from compiled bytes; ZoneError on anything malformed.
        z = cls()
        if len(blob) - at < _HEAD_SIZE:
            raise ZoneError("zone: truncated header")
        (magic, version, z.kind, z.shape, z.unit_cm, n, z.warning_m, z.reach, z.radius, z.id,
         z.lat0, z.lon0, z.ky, z.kx0, z.kxd, nw) = struct.unpack_from(_HEAD, blob, at)
        if magic != b"EZ" or version != VERSION:
            raise ZoneError("zone: not a version %d zone" % VERSION)
        if z.kind > INCLUSION or z.shape > _CIRCLE or z.unit_cm not in UNITS_CM or n > MAX_EDGES:
            raise ZoneError("zone: bad kind, shape, unit or edge count")
        if z.ky <= 0 or z.kx0 <= 0 or z.reach > geofence.GRID or abs(z.lat0) > 900000000:
            raise ZoneError("zone: bad grid")
        at += _HEAD_SIZE
        need = nw * _WINDOW_SIZE + 8 + 4 * geofence.EDGE_WORDS * n
        if len(blob) - at < need:
            raise ZoneError("zone: truncated body")
        z.windows = [struct.unpack_from(_WINDOW, blob, at + i * _WINDOW_SIZE) for i in range(nw)]
        for days, start, end in z.windows:
            if days > 0x7F or start >= 1440 or end > 1440:
                raise ZoneError("zone: bad schedule window")
        at += nw * _WINDOW_SIZE
        if z.shape == _POLYGON:
            if n < 3:
                raise ZoneError("zone: a polygon needs 3 edges")
            words = array("I", bytes(4 * (geofence.HEADER_WORDS + n * geofence.EDGE_WORDS)))
            words[0] = n
            for i in range(4):
                words[1 + i] = struct.unpack_from("<H", blob, at + 2 * i)[0]
            words[5] = z.reach
            w = geofence.EDGE_WORDS
            body = struct.unpack_from("<%dI" % (w * n), blob, at + 8)
            for i in range(w * n):
                v = body[i]
                if v > (2 * geofence.GRID if i % w < 4 else 1 << 30 if i % w == 4 else 2 * geofence.UNIT):
                    raise ZoneError("zone: edge outside the grid")
                words[geofence.HEADER_WORDS + i] = v
            z.data = words
        elif z.radius + z.reach > geofence.GRID or n:
            raise ZoneError("zone: circle outside the grid")
        z._limits()
        return z, at + 8 + 4 * geofence.EDGE_WORDS * n

    @classmethod
    def circle(cls, zone_id, kind, lat_e7, lon_e7, radius_m, warning_m, reach_m=250, windows=()):
        # Compile a circle on the tag: the finest grid unit that holds it and its reach.
        z = cls()
        z.id, z.kind, z.warning_m, z.windows = zone_id, kind, warning_m, list(windows)
        z.lat0, z.lon0 = lat_e7, lon_e7
        extent_cm = (radius_m + warning_m + reach_m) * 100
        for unit in UNITS_CM:
            if extent_cm // unit <= geofence.GRID:
                z.unit_cm = unit
                break
        else:
            raise ZoneError("zone: circle of %d m with its rings is too large for one grid" % radius_m)
        z.radius = radius_m * 100 // z.unit_cm
        z.reach = (warning_m + reach_m) * 100 // z.unit_cm
        z.ky, z.kx0, z.kxd = geoproj.constants(lat_e7, z.unit_cm)
        z._limits()
        return z

    def _limits(self):
        # Offsets (1e-7 degrees) beyond which a point is certainly off the grid, so
        # far points never reach the big-number projection.
        self._dlat_max = (geofence.GRID << 32) // self.ky + 1
        self._dlon_max = (geofence.GRID << 33) // self.kx0 + 1

    def active(self, utc_s):
        return ukclock.in_windows(self.windows, utc_s)

    def depth_cm(self, lat_e7, lon_e7):
        # Signed distance to the boundary in centimetres, positive inside. Off this
        # zone's grid the point is outside beyond the zone's reach: then a lower bound
        # of its distance, from the zone's origin and extent.
        dlat = lat_e7 - self.lat0
        dlon = lon_e7 - self.lon0
        if not (-self._dlat_max < dlat < self._dlat_max and -self._dlon_max < dlon < self._dlon_max):
            return self._far(dlat, dlon)
        x, y = geoproj.project(dlat, dlon, self.ky, self.kx0, self.kxd)
        g = geofence.GRID
        if x < -g or x > g or y < -g or y > g:
            return self._far(dlat, dlon)
        if self.shape == _CIRCLE:
            return geofence.circle_depth(x, y, self.radius) * self.unit_cm
        return geofence.depth(self.data, x + g, y + g) * self.unit_cm


    def _far(self, dlat, dlon):
        dy = abs(dlat) * 1113 // 1000  # cm: 1e-7 degree of latitude is 1.113 cm
        dx = abs(dlon) * 1113 // 1000 * self.kx0 // self.ky  # the parallel shrinks as the grid says
        dist = dx + dy // 2 if dx > dy else dy + dx // 2  # overstates hypot by up to 12 %
        dist = dist * 8 // 9
        if self.shape == _CIRCLE:
            extent = self.radius
        else:
            d = self.data
            g = geofence.GRID
            extent = max(abs(d[1] - g), abs(d[2] - g), abs(d[3] - g), abs(d[4] - g)) * 3 // 2  # > corner
        return -max((self.reach) * self.unit_cm, dist - extent * self.unit_cm)


def load_all(blob):
    # Every zone in a zones file: b"EZS" then a count byte, then the zones.
    if blob[:3] != b"EZS" or len(blob) < 4:
        raise ZoneError("zones: not a zones file")
    zones = []
    at = 4
    for _ in range(blob[3]):
        z, at = Zone.from_blob(blob, at)
        zones.append(z)
    if at != len(blob):
        raise ZoneError("zones: %d bytes after the last zone" % (len(blob) - at))
    return zones
