# The device's configuration (config.json on the device): defaults, overrides, checks.
import json

# Breach-policy defaults and their reasons: docs/breach-policy.md
DEFAULTS = {
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
}
# what an order from the centre may change
ORDER_KEYS = ("report_period_s", "breadcrumb_s", "uere_m", "min_uncertainty_m", "max_uncertainty_m",
              "max_age_s", "max_speed_mps", "reanchor_fixes", "settle_fixes", "margin_m", "hysteresis_m",
              "confirm_fixes", "location_lost_s", "clear_tamper")


class ConfigError(ValueError):
    pass


def merge(base, given, where, allowed=None):
    # base overlaid by given; unknown keys and wrong types refused with the key's name.
    if not isinstance(given, dict):
        raise ConfigError("%s: expected a JSON object" % where)
    out = dict(base)
    for key, value in given.items():
        if key not in DEFAULTS or (allowed is not None and key not in allowed):
            known = ", ".join(sorted(allowed or DEFAULTS))
            raise ConfigError("%s: unknown key %r (known: %s)" % (where, key, known))
        if type(value) is not type(DEFAULTS[key]):
            raise ConfigError("%s: %r must be %s" % (where, key, type(DEFAULTS[key]).__name__))
        out[key] = value
    return out


def load(path=None):
    # Defaults overlaid by the file at path (if given).
    if path is None:
        return dict(DEFAULTS)
    where = "config %s" % path
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        raise ConfigError("%s: cannot be read" % where) from None
    try:
        given = json.loads(text)
    except ValueError:
        raise ConfigError("%s: not valid JSON" % where) from None
    return merge(DEFAULTS, given, where)
