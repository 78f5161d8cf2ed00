# Firmware-side helpers for host tests (called through tests/mp/service.py).
import gc

import gnss
import nmea

_FIELDS = ("day", "ms", "lat_e7", "lon_e7", "has_pos", "valid", "status", "mode", "quality",
           "fix_type", "sats_used", "sats_view", "hdop", "pdop", "vdop", "alt_cm", "has_alt",
           "speed_cms", "course_cdeg", "nav_status", "systems")


def _fix_dict(f):
    d = {}
    for k in _FIELDS:
        d[k] = getattr(f, k)
    d["utc"] = f.utc()
    return d


def epochs(text, ref_day=gnss.BUILD_DAY):
    # All epochs of an NMEA text, as dicts, plus the counters.
    out = []
    g = gnss.Gnss(lambda f: out.append(_fix_dict(f)), ref_day)
    g.feed(text.encode())
    g.flush()
    return {"epochs": out, "counts": counters(g)}


def counters(g):
    fr = g.framer
    return {
        "sentences": fr.count(nmea.C_SENTENCES),
        "checksum": fr.count(nmea.C_CHECKSUM),
        "overlong": fr.count(nmea.C_OVERLONG),
        "broken": fr.count(nmea.C_BROKEN),
        "accepted": g.count(gnss.C_ACCEPTED),
        "unknown": g.count(gnss.C_UNKNOWN),
        "malformed": g.count(gnss.C_MALFORMED),
        "fixes": g.count(gnss.C_FIXES),
    }


def each_sentence(lines, ref_day):
    # Feed a capture line by line; after each, the state of the epoch in progress
    # (or of the one just finished, if that line finished it).
    last = [None]

    def on_fix(f):
        last[0] = _fix_dict(f)

    g = gnss.Gnss(on_fix, ref_day)
    states = []
    for line in lines:
        last[0] = None
        g.feed(line.encode())
        cur = g.fix
        cur.judge()
        states.append({"current": _fix_dict(cur), "emitted": last[0], "epoch": g.count(gnss.C_FIXES)})
    return states


def fuzz(chunks_hex):
    # Feed raw byte chunks; return the sentences the framer delivered and the counters.
    import binascii

    delivered = []
    g = gnss.Gnss(lambda f: None)
    inner = g.framer._on_sentence

    def spy(fr):
        delivered.append(bytes(fr.line[: fr.n]).decode())
        inner(fr)

    g.framer._on_sentence = spy
    for h in chunks_hex:
        g.feed(binascii.unhexlify(h))
    g.flush()
    return {"delivered": delivered, "counts": counters(g)}


def retained(chunks_hex):
    # Heap still held after parsing the chunks: the parser's memory must not grow.
    import binascii

    data = [binascii.unhexlify(h) for h in chunks_hex]
    g = gnss.Gnss(lambda f: None)
    g.feed(b"$GPRMC,,V,,,,,,,,,,N*53\r\n")
    gc.collect()
    before = gc.mem_alloc()
    for d in data:
        g.feed(d)
    g.flush()
    gc.collect()
    return gc.mem_alloc() - before
