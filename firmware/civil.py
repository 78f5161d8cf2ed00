# Calendar arithmetic on days since 1970-01-01 (proleptic Gregorian), after
# Howard Hinnant's algorithms; integers only.


def days_from_civil(y, m, d):
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def year_of(days):
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    return yoe + era * 400 + (1 if mp >= 10 else 0)


def weekday(days):
    # 0 Monday .. 6 Sunday (1970-01-01 was a Thursday)
    return (days + 3) % 7


def valid_date(y, m, d):
    if m < 1 or m > 12 or d < 1:
        return False
    if m == 2:
        return d <= (29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28)
    return d <= (30 if m in (4, 6, 9, 11) else 31)
