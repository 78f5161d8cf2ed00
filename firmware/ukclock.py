# Local time in Europe/London (MicroPython has no zoneinfo): GMT, and BST from
# 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October.
import civil


def _last_sunday(y, m):
    last = civil.days_from_civil(y, m, 31)  # March and October both have 31 days
    return last - (civil.weekday(last) - 6) % 7


_span = [0, 0, 0]  # [from, to, offset]: the last answer holds until the next change


def offset_s(utc_s):
    # Seconds to add to UTC for London time at utc_s.
    if _span[0] <= utc_s < _span[1]:
        return _span[2]
    y = civil.year_of(utc_s // 86400)
    start = _last_sunday(y, 3) * 86400 + 3600
    end = _last_sunday(y, 10) * 86400 + 3600
    if utc_s < start:
        _span[:] = [civil.days_from_civil(y, 1, 1) * 86400, start, 0]
    elif utc_s < end:
        _span[:] = [start, end, 3600]
    else:
        _span[:] = [end, civil.days_from_civil(y + 1, 1, 1) * 86400, 0]
    return _span[2]


def local_week_minute(utc_s):
    # (weekday 0=Monday, minute of the day) in London at utc_s.
    local = utc_s + offset_s(utc_s)
    days = local // 86400
    return civil.weekday(days), (local - days * 86400) // 60


def in_windows(windows, utc_s):
    # windows: (days mask, bit 0 Monday; start minute; end minute) in London time.
    # A window whose end is not after its start runs overnight into the next day.
    if not windows:
        return True
    wd, minute = local_week_minute(utc_s)
    yesterday = (wd + 6) % 7
    for days, start, end in windows:
        if start < end:
            if days >> wd & 1 and start <= minute < end:
                return True
        elif (days >> wd & 1 and minute >= start) or (days >> yesterday & 1 and minute < end):
            return True
    return False
