# The device's configuration (config.json on the device): defaults, overrides, checks.
import json

# Breach-policy defaults and their reasons: docs/breach-policy.md
DEFAULTS = {
    "device_id": "unset",
    "gnss_idle_ms": 120,  # receiver quiet this long: the epoch is complete
    "status_period_s": 300,
    "heartbeat_period_s": 60,
    "zones_file": "zones.bin",
    "uere_m": 4,  # user equivalent range error: uncertainty = 2 x HDOP x UERE
    "min_uncertainty_m": 5,
    "max_uncertainty_m": 50,  # fixes less certain than this decide nothing
    "max_age_s": 5,  # a fix older than this decides nothing
    "max_speed_mps": 50,  # no wearer moves faster (180 km/h)
    "reanchor_fixes": 8,  # consecutive rejected jumps after which the new place is believed
    "margin_m": 5,  # entry needs depth >= uncertainty + margin
    "hysteresis_m": 10,  # exit needs distance >= uncertainty + hysteresis the other way
    "confirm_fixes": 3,  # consecutive fixes to confirm any change of zone state
}


class ConfigError(ValueError):
    pass


def load(path=None):
    # Defaults overlaid by the file at path (if given); unknown keys and wrong
    # types are refused with the key's name.
    cfg = dict(DEFAULTS)
    if path is None:
        return cfg
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        raise ConfigError("config %s: cannot be read" % path) from None
    try:
        given = json.loads(text)
    except ValueError:
        raise ConfigError("config %s: not valid JSON" % path) from None
    if not isinstance(given, dict):
        raise ConfigError("config %s: expected a JSON object" % path)
    for key, value in given.items():
        if key not in DEFAULTS:
            known = ", ".join(sorted(DEFAULTS))
            raise ConfigError("config %s: unknown key %r (known: %s)" % (path, key, known))
        if type(value) is not type(DEFAULTS[key]):
            raise ConfigError("config %s: %r must be %s" % (path, key, type(DEFAULTS[key]).__name__))
        cfg[key] = value
    return cfg
