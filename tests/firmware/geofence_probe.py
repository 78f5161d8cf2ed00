# Firmware-side helpers for the geofence tests (called through tests/mp/service.py).
import binascii

import geofence
import geofence_twin
import geoproj
import micropython
import zone


def depths(blob_hex, points):
    # Each zone's depth (cm, None off-grid) at each (lat_e7, lon_e7).
    zones = zone.load_all(binascii.unhexlify(blob_hex))
    return [[z.depth_cm(lat, lon) for lat, lon in points] for z in zones]


def kernel_pair(blob_hex, grid_points):
    # The viper kernel and its bytecode twin on the same grid points (centred).
    z = zone.load_all(binascii.unhexlify(blob_hex))[0]
    g = geofence.GRID
    return [(geofence.depth(z.data, x + g, y + g), geofence_twin.depth_bytecode(z.data, x + g, y + g))
            for x, y in grid_points]


def constants(lat0_e7, unit_cm):
    return list(geoproj.constants(lat0_e7, unit_cm))


def circle_depths(zone_id_hex, kind, lat, lon, radius_m, warning_m, points):
    z = zone.Zone.circle(binascii.unhexlify(zone_id_hex), kind, lat, lon, radius_m, warning_m)
    return {"unit_cm": z.unit_cm, "depths": [z.depth_cm(a, b) for a, b in points]}


def load_error(blob_hex):
    try:
        zone.load_all(binascii.unhexlify(blob_hex))
    except zone.ZoneError as e:
        return str(e)
    return None


def ptr32_reads(values):
    # What viper reads back through ptr32 from an array('i') holding values.
    from array import array

    a = array("i", values)
    return [_ptr32_load(a, i) for i in range(len(values))]


@micropython.viper
def _ptr32_load(a: ptr32, i: int) -> int:
    return a[i]
