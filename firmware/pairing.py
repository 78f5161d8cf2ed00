# A technician's pairing of a tag and its home unit (tagctl pair, diag.py's pair):
# the RF curfew's key and both beacon ids, the same on the two devices, kept in
# PATH on the device's storage. At boot they replace the deployed configuration's
# (start.py loads this module only when the file is there: an unpaired tag
# spends no RAM on it).
import binascii
import hashlib
import json

import config
import counter

PATH = "/pairing"  # JSON; a short name, interned small (start.py has it too)
_KEYS = ("pair_key", "beacon_id", "hmu_beacon_id")


def read(folder):
    # {"with": the other device's id, and _KEYS}; OSError if never paired, ValueError if unreadable
    with open(folder + PATH) as f:
        text = f.read()
    try:
        given = json.loads(text)
    except ValueError:
        raise ValueError("pairing: not valid JSON") from None
    if not isinstance(given, dict):
        raise ValueError("pairing: expected a JSON object")
    return given


def apply(cfg, folder, log):
    # cfg with the pairing's keys over the deployed ones (checked as any setting is);
    # a broken pairing is logged, and the deployed keys kept till the technician pairs again
    try:
        given = read(folder)
        given.pop("with", None)  # the technician's record, not a setting
        return config.merge(cfg, given, "pairing", _KEYS)
    except OSError:
        return cfg  # never paired
    except ValueError as e:
        log("%s; the configuration's keys are used" % e)
        return cfg


def write(folder, other, key, tag_id, unit_id):
    counter.atomic_write(folder + PATH, json.dumps(
        {"with": other, "pair_key": key, "beacon_id": tag_id, "hmu_beacon_id": unit_id}).encode())


def key_id(key_hex):
    # what a device shows of its key: the first 4 bytes of its SHA-256, in hex
    return binascii.hexlify(hashlib.sha256(binascii.unhexlify(key_hex)).digest()[:4]).decode()
