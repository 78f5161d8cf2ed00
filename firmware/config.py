# The device's configuration (config.json on the device): defaults, overrides, checks.
import json


def defaults():
    # A new dict each call, built by code in flash: no second copy lives in the heap.
    # Breach-policy defaults and their reasons: docs/breach-policy.md
    return {
        "device_id": "unset",
        "key": "",  # the device's HMAC key, hex; without one the link stays silent
        "tech_token": "",  # hex; fit and pair on the console need it
        "transport": "serial",  # or "cellular": through the board's AT-command modem
        "apn": "internet",
        "centre_host": "centre.example.net",
        "centre_port": 7600,
        "gnss_idle_ms": 120,  # receiver quiet this long: the epoch is complete
        "status_period_s": 300,
        "heartbeat_period_s": 60,
        "report_period_s": 60,  # breadcrumbs go to the centre at least this often
        "breadcrumb_s": 60,  # one position event per this many seconds of valid fixes
        "zones_file": "zones.bin",
        "home": [],  # [lat_e7, lon_e7, radius_m]: where a lost fix is no event
        "location_lost_s": 600,  # no valid fix this long, away from home: an event
        "adaptive": True,  # GNSS powered as the distance to the nearest zone demands
        "max_fix_interval_s": 50,  # far from zones: a fix at least a minute apart, with the time to get it
        "home_fix_interval_s": 300,  # at home and still
        "near_zone_m": 500,  # nearer than this to a warning ring: GNSS on at 1 Hz
        "far_report_period_s": 300,  # far from zones: breadcrumbs go up this often
        "home_report_period_s": 900,  # at home
        "clear_tamper": False,  # in an order: the centre clears a latched tamper (strap and case whole)
        "uere_m": 4,  # user equivalent range error: uncertainty = 2 x HDOP x UERE
        "min_uncertainty_m": 5,
        "max_uncertainty_m": 50,  # fixes less certain than this decide nothing
        "max_age_s": 5,  # a fix older than this decides nothing
        "max_speed_mps": 50,  # no wearer moves faster (180 km/h)
        "reanchor_fixes": 8,  # consecutive rejected jumps after which the new place is believed
        "settle_fixes": 5,  # agreeing fixes before the first position is believed
        "margin_m": 5,  # entry needs depth >= uncertainty + margin
        "hysteresis_m": 10,  # exit needs distance >= uncertainty + hysteresis the other way
        "confirm_fixes": 3,  # consecutive fixes to confirm any change of zone state
        # RF curfew (docs/curfew.md); the tag and its home unit share the pair key
        "pair_key": "",  # hex; without one there is no beacon
        "beacon_id": "",  # 8 hex digits: the tag's id on air
        "hmu_beacon_id": "",  # 8 hex digits: the home unit's id on air
        "beacon_min_ms": 1000,  # adverts at random intervals in this range
        "beacon_max_ms": 10000,
        "beacon_mac_len": 8,  # bytes of HMAC in an advert, 4 to 11
        "beacon_fresh_s": 60,  # an advert whose time is further than this from ours is a recording
        "curfew": [],  # weekly windows [days mask (bit 0 Monday), start minute, end minute], London time
        "curfew_changes": [],  # one-off [from UTC, to UTC, 1 in force | 0 lifted], over the week
        "late_return_grace_s": 600,  # back this long after curfew starts: no breach
        "early_leave_grace_s": 300,  # gone this long before it ends: no breach
        "absence_timeout_s": 300,  # no verified advert this long: absent
        "min_rssi_dbm": -100,  # smoothed signal weaker than this: not home
        "spoof_quiet_s": 600,  # one spoof event per this long, however many adverts
        "home_lost_s": 30,  # tag: the home unit not heard this long in a window: away, GNSS back on
    }


# what an order from the centre may change
ORDER_KEYS = ("report_period_s", "breadcrumb_s", "max_fix_interval_s", "uere_m", "min_uncertainty_m",
              "max_uncertainty_m", "max_age_s", "max_speed_mps", "reanchor_fixes", "settle_fixes", "margin_m",
              "hysteresis_m", "confirm_fixes", "location_lost_s", "clear_tamper")
# what an order from the centre may change on a home unit
UNIT_ORDER_KEYS = ("curfew", "curfew_changes", "late_return_grace_s", "early_leave_grace_s", "absence_timeout_s",
                   "clear_tamper")


def merge(base, given, where, allowed=None):
    # base (a whole configuration) overlaid by given; unknown keys and wrong types
    # refused with the key's name.
    if not isinstance(given, dict):
        raise ValueError("%s: expected a JSON object" % where)
    out = dict(base)
    for key, value in given.items():
        if key not in base or (allowed is not None and key not in allowed):
            known = ", ".join(sorted(allowed or base))
            raise ValueError("%s: unknown key %r (known: %s)" % (where, key, known))
        if type(value) is not type(base[key]):
            raise ValueError("%s: %r must be %s" % (where, key, type(base[key]).__name__))
        out[key] = value
    _check(out, where)
    return out


def _ints(row, n):
    return isinstance(row, list) and len(row) == n and all(type(v) is int for v in row)


def _hex(cfg, key, lo, hi, where):
    # A secret or an id: empty, or whole bytes of hex, lo to hi digits.
    v = cfg[key]
    if v and (len(v) % 2 or not lo <= len(v) <= hi or v.strip("0123456789abcdefABCDEF")):
        raise ValueError("%s: %r must be %s hex digits" % (where, key, lo if lo == hi else "%d to %d" % (lo, hi)))


def _check(cfg, where):
    # The settings hang together; say which one does not.
    _hex(cfg, "key", 64, 64, where)
    _hex(cfg, "tech_token", 16, 64, where)
    _hex(cfg, "pair_key", 32, 64, where)
    _hex(cfg, "beacon_id", 8, 8, where)
    _hex(cfg, "hmu_beacon_id", 8, 8, where)
    if not 4 <= cfg["beacon_mac_len"] <= 11:
        raise ValueError("%s: 'beacon_mac_len' must be 4 to 11 (bytes)" % where)
    if not 20 <= cfg["beacon_min_ms"] <= cfg["beacon_max_ms"]:
        raise ValueError("%s: beacon interval: need 20 <= beacon_min_ms <= beacon_max_ms" % where)
    for w in cfg["curfew"]:
        if not (_ints(w, 3) and 1 <= w[0] <= 127 and 0 <= w[1] < 1440 and 0 <= w[2] <= 1440):
            raise ValueError("%s: curfew window %r: expected [days mask 1-127, start minute, end minute]"
                              % (where, w))
    for c in cfg["curfew_changes"]:
        if not (_ints(c, 3) and c[0] < c[1] and c[2] in (0, 1)):
            raise ValueError("%s: curfew change %r: expected [from UTC, to UTC, 1 in force or 0 lifted]"
                              % (where, c))


def load(path=None):
    # Defaults overlaid by the file at path (if given).
    if path is None:
        return defaults()
    where = "config %s" % path
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        raise ValueError("%s: cannot be read" % where) from None
    try:
        given = json.loads(text)
    except ValueError:
        raise ValueError("%s: not valid JSON" % where) from None
    return merge(defaults(), given, where)
