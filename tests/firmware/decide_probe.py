# Firmware-side helper: the tag's fix filter and zone state machines over a trace.
import binascii

import config
import fixfilter
import gnss
import zone
import zonewatch


def run(blob_hex, fixes, overrides):
    # fixes: [utc_ms, lat_e7, lon_e7, hdop_x100, speed_cms, valid, now_ms]; returns
    # [[fix index, event, first utc], ...] and the filter's verdict counts.
    cfg = config.defaults()
    cfg.update(overrides)
    zones = zone.load_all(binascii.unhexlify(blob_hex))
    flt = fixfilter.FixFilter(cfg)
    watches = [zonewatch.ZoneWatch(z, cfg) for z in zones]
    f = gnss.Fix()
    events = []
    for i, (t_ms, lat, lon, hdop, speed, valid, now_ms) in enumerate(fixes):
        f.clear()
        f.day, f.ms = t_ms // 86400000, t_ms % 86400000
        f.lat_e7, f.lon_e7, f.has_pos = lat, lon, True
        f.hdop, f.speed_cms, f.valid = hdop, speed, bool(valid)
        unc = flt.uncertainty_cm(f)
        if flt.judge(f, now_ms, unc) != fixfilter.OK:
            continue
        for k, w in enumerate(watches):
            if not w.zone.active(f.utc()):
                w.reset()
                continue
            ev = w.update(lat, lon, unc, f.utc())
            if ev:
                events.append([i, ev, w.first_utc, k])
    return {"events": events, "verdicts": flt.counts}


def cos_q15(lat_e7):
    return fixfilter.cos_q15(lat_e7)


def london(utcs):
    import ukclock

    return [list(ukclock.local_week_minute(t)) for t in utcs]


def windows_active(windows, utcs):
    import ukclock

    return [ukclock.in_windows([tuple(w) for w in windows], t) for t in utcs]
