"""Europe/London time on the tag (firmware/ukclock.py, no zoneinfo) against
CPython's zoneinfo, and schedule windows across both clock changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim.device import mp

LONDON = ZoneInfo("Europe/London")


def _local(t: int) -> tuple[int, int]:
    d = datetime.fromtimestamp(t, UTC).astimezone(LONDON)
    return d.weekday(), d.hour * 60 + d.minute


def _transitions(year: int) -> list[int]:
    out = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    while t.year == year:
        if t.astimezone(LONDON).utcoffset() != (t + timedelta(hours=1)).astimezone(LONDON).utcoffset():
            out.append(int(t.timestamp()) + 3600)
        t += timedelta(hours=1)
    return out


@given(st.lists(st.integers(946_684_800, 4_102_444_800), min_size=50, max_size=50))
@settings(max_examples=100)
def test_local_time_matches_zoneinfo(fw: mp.Service, utcs: list[int]) -> None:
    assert [tuple(x) for x in fw.call("decide_probe", "london", utcs)] == [_local(t) for t in utcs]


def test_every_clock_change_2020_to_2040_to_the_second(fw: mp.Service) -> None:
    utcs = [t + d for y in range(2020, 2041) for t in _transitions(y) for d in (-1, 0, 1)]
    assert len(utcs) == 21 * 2 * 3
    assert [tuple(x) for x in fw.call("decide_probe", "london", utcs)] == [_local(t) for t in utcs]


def _reference_active(windows: list[tuple[int, int, int]], t: int) -> bool:
    wd, minute = _local(t)
    for days, start, end in windows:
        if start < end:
            if days >> wd & 1 and start <= minute < end:
                return True
        elif (days >> wd & 1 and minute >= start) or (days >> ((wd + 6) % 7) & 1 and minute < end):
            return True
    return False


@given(st.lists(st.tuples(st.integers(1, 127), st.integers(0, 1439), st.integers(0, 1440)), min_size=1,
                max_size=3),
       st.lists(st.integers(1_774_000_000, 1_830_000_000), min_size=40, max_size=40))
@settings(max_examples=100)
def test_schedule_windows(fw: mp.Service, windows: list[tuple[int, int, int]], utcs: list[int]) -> None:
    got = fw.call("decide_probe", "windows_active", windows, utcs)
    assert got == [_reference_active(windows, t) for t in utcs]


def test_overnight_curfew_style_window_across_october_change(fw: mp.Service) -> None:
    # Sat 24 Oct 2026 19:00 to Sun 07:00; the clocks go back at 02:00 BST on Sunday 25th
    window = [(0x20, 19 * 60, 7 * 60)]
    start = int(datetime(2026, 10, 24, 19, 0, tzinfo=LONDON).timestamp())
    end = int(datetime(2026, 10, 25, 7, 0, tzinfo=LONDON).timestamp())
    assert end - start == 13 * 3600  # the night is an hour longer
    got = fw.call("decide_probe", "windows_active", window, [start - 60, start, end - 60, end])
    assert got == [False, True, True, False]
