# The order in force: zones and breach-policy settings, deployed (zones.bin) or
# sent by the centre in a CONFIG frame. A new order is checked whole (version
# newer than the one in force, settings known, zones sound) before it is written
# to flash beside the old one and renamed over it: never half applied, and the
# previous order stays in force when a new one is refused.
import json
import struct

import config
import counter
import zone
from micropython import const

_FILE = "/order.bin"
_EV_CONFIG_APPLIED = const(13)  # docs/frames.md: the order's version in depth
_EV_CONFIG_REFUSED = const(14)


def parse(payload, base_cfg, keys):
    # (version, settings, zones) from a CONFIG payload: version u32, length u16,
    # then settings JSON (length u16 first) and a zones file; settings only of keys.
    if len(payload) < 8:
        raise ValueError("order: truncated")
    version, size = struct.unpack_from("<IH", payload)
    body = payload[6:]
    if size != len(body) or len(body) < 2:
        raise ValueError("order: bad length")
    jlen = struct.unpack_from("<H", body)[0]
    if 2 + jlen > len(body):
        raise ValueError("order: bad settings length")
    try:
        settings = config.merge(base_cfg, json.loads(body[2 : 2 + jlen]), "order", keys)
        zones = zone.load_all(body[2 + jlen :])
    except (ValueError, zone.ZoneError) as e:
        raise ValueError("order: %s" % e) from None
    return version, settings, zones


class Order:
    # keys: what an order may set (config.ORDER_KEYS on a tag, UNIT_ORDER_KEYS on a unit)
    def __init__(self, folder, cfg, log, keys):
        self.path = folder + _FILE
        self.keys = keys
        self.version = 0
        self.settings = cfg
        self.zones = []
        try:
            with open(self.path, "rb") as f:
                payload = f.read()
            self.version, self.settings, self.zones = parse(payload, cfg, keys)
            return
        except OSError:
            pass
        except ValueError as e:  # a refused order: parse says why
            log("order on flash refused (%s): the deployed zones stand" % e)
        try:
            with open(cfg["zones_file"], "rb") as f:
                self.zones = zone.load_all(f.read())
        except OSError:
            log("no zones file %s: no zones in force" % cfg["zones_file"])
        except zone.ZoneError as e:
            log("zones file %s refused: %s" % (cfg["zones_file"], e))

    def offer(self, payload, base_cfg):
        # Apply a new order: (version, None) applied; (version, "") the one in force
        # already, nothing to do; (version, reason) refused.
        said = struct.unpack_from("<I", payload)[0] if len(payload) >= 4 else 0
        if said == self.version:
            return said, ""
        try:
            version, settings, zones = parse(payload, base_cfg, self.keys)
        except ValueError as e:  # a refused order: parse says why
            return said, str(e)
        if version < self.version:
            return version, "order: version %d is older than %d" % (version, self.version)
        counter.atomic_write(self.path, payload)
        self.version, self.settings, self.zones = version, settings, zones
        return version, None

    def take(self, payload, base_cfg, log, event, configure):
        # A CONFIG frame: put in force by configure(settings, zones), then "applied" sent
        # (acknowledged only when in force), or refused with the reason logged; event(kind,
        # version) records either. True when a new order is in force.
        version, refused = self.offer(payload, base_cfg)
        if refused == "":
            return False
        if refused:
            log(refused)
            event(_EV_CONFIG_REFUSED, min(version, 32767))
            return False
        configure(self.settings, self.zones)
        event(_EV_CONFIG_APPLIED, min(version, 32767))
        return True
