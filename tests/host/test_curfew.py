"""The home unit's curfew (firmware/curfew.py, hmu.py, presence.py) inside
MicroPython: London local hours across both clock changes, grace at either end,
one-off changes, and the absence and return decisions as properties."""

import bisect
import random
import tempfile
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim.device import mp

LONDON = ZoneInfo("Europe/London")
ABSENT, LEFT, RETURNED, SPOOF, MAINS_LOST, MAINS_RESTORED = 50, 51, 52, 53, 54, 55
PAIR = {"pair_key": "5a" * 16, "beacon_id": "0000abcd"}
DAILY_19_07 = [[127, 19 * 60, 7 * 60]]


def _utc(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp())


def _scheduled_ref(windows: list[list[int]], changes: list[list[int]], t: int) -> bool:
    for a, b, on in changes:
        if a <= t < b:
            return on == 1
    d = datetime.fromtimestamp(t, UTC).astimezone(LONDON)
    wd, minute = d.weekday(), d.hour * 60 + d.minute
    for days, start, end in windows:
        if start < end and days >> wd & 1 and start <= minute < end:
            return True
        if start >= end and ((days >> wd & 1 and minute >= start) or (days >> ((wd + 6) % 7) & 1 and minute < end)):
            return True
    return False


def _enforced_ref(windows: list[list[int]], changes: list[list[int]], late: int, early: int, t: int) -> bool:
    return all(_scheduled_ref(windows, changes, x) for x in (t, t - late, t + early))


def _edges(fw: mp.Service, cfg: dict[str, object], start: int, end: int) -> list[tuple[int, bool]]:
    utcs = list(range(start, end, 60))
    got = fw.call("rf_probe", "enforced", cfg, utcs)
    return [(t, g) for i, (t, g) in enumerate(zip(utcs, got, strict=True)) if i == 0 or got[i - 1] != g]


@pytest.mark.parametrize(("first", "last", "edges"), [
    # Clocks go back at 02:00 BST on Sunday 25 October 2026: 19:00 BST is 18:00 UTC, 07:00 GMT is 07:00 UTC.
    ("2026-10-24 12:00", "2026-10-26 12:00",
     ["2026-10-24 18:00", "2026-10-25 07:00", "2026-10-25 19:00", "2026-10-26 07:00"]),
    # Clocks go forward at 01:00 GMT on Sunday 28 March 2027: 19:00 GMT, then 07:00 BST is 06:00 UTC.
    ("2027-03-27 12:00", "2027-03-29 12:00",
     ["2027-03-27 19:00", "2027-03-28 06:00", "2027-03-28 18:00", "2027-03-29 06:00"]),
], ids=["october", "march"])
def test_19_to_07_keeps_local_hours_across_a_clock_change(fw: mp.Service, first: str, last: str,
                                                         edges: list[str]) -> None:
    cfg = {"curfew": DAILY_19_07, "late_return_grace_s": 0, "early_leave_grace_s": 0}
    got = _edges(fw, cfg, _utc(first), _utc(last))
    # UTC times where the curfew starts and ends, alternately, after a first "not in force"
    assert got == [(_utc(first), False)] + [(_utc(e), i % 2 == 0) for i, e in enumerate(edges)]


def test_grace_trims_both_ends_and_a_change_lifts_a_night(fw: mp.Service) -> None:
    lifted = [_utc("2026-12-24 12:00"), _utc("2026-12-25 12:00"), 0]  # Christmas Eve lifted
    cfg = {"curfew": DAILY_19_07, "late_return_grace_s": 600, "early_leave_grace_s": 300, "curfew_changes": [lifted]}
    edges = _edges(fw, cfg, _utc("2026-12-23 12:00"), _utc("2026-12-25 12:00"))
    assert edges == [(_utc("2026-12-23 12:00"), False), (_utc("2026-12-23 19:10"), True),
                     (_utc("2026-12-24 06:55"), False)]


windows_st = st.lists(st.lists(st.integers(0, 1440), min_size=2, max_size=2).map(
    lambda se: [se[0] % 1440, se[1]]), min_size=1, max_size=2)


@given(windows_st, st.lists(st.integers(1, 127), min_size=2, max_size=2), st.integers(0, 3600),
       st.integers(0, 3600), st.lists(st.integers(1_790_000_000, 1_830_000_000), min_size=30, max_size=30),
       st.lists(st.tuples(st.integers(1_790_000_000, 1_830_000_000), st.integers(1, 90_000), st.booleans()),
                max_size=2))
@settings(max_examples=100)
def test_enforced_matches_zoneinfo(fw: mp.Service, spans: list[list[int]], days: list[int], late: int, early: int,
                                   utcs: list[int], changes: list[tuple[int, int, bool]]) -> None:
    windows = [[d, s, e] for d, (s, e) in zip(days, spans, strict=False)]
    chg = [[a, a + n, int(on)] for a, n, on in changes]
    cfg = {"curfew": windows, "curfew_changes": chg, "late_return_grace_s": late, "early_leave_grace_s": early}
    probe = utcs + [c[0] for c in chg] + [c[1] - 1 for c in chg]
    got = fw.call("rf_probe", "enforced", cfg, probe)
    assert got == [_enforced_ref(windows, chg, late, early, t) for t in probe]


def _hmu_run(fw: mp.Service, *args: object) -> list[list[int]]:
    """[kind, utc] of each event a first start of the unit stored."""
    with tempfile.TemporaryDirectory() as folder:
        out: list[list[int]] = fw.call("rf_probe", "hmu_run", folder, *args)
        return [e[:2] for e in out]


START = _utc("2026-12-01 12:00")  # a Tuesday; curfew from 19:00 (GMT)
END = START + 32 * 3600  # into the second curfew


@st.composite
def evenings(draw: st.DrawFn) -> tuple[dict[str, object], list[list[int]]]:
    """A curfew and when the unit hears the tag: home spells with adverts 1 to 10 s apart."""
    cfg = {**PAIR, "curfew": DAILY_19_07, "late_return_grace_s": draw(st.sampled_from([0, 120, 600])),
           "early_leave_grace_s": draw(st.sampled_from([0, 300])),
           "absence_timeout_s": draw(st.sampled_from([120, 300]))}
    rnd = random.Random(draw(st.integers(0, 2**32)))
    heard, t = [], START
    for away, home in draw(st.lists(st.tuples(st.integers(0, 4 * 3600), st.integers(60, 6 * 3600)), min_size=1,
                                    max_size=8)):
        t += away
        home_until = min(t + home, END)
        while t < home_until:
            heard.append([t, -70, 0])
            t += rnd.randint(1, 30)  # sparser than a tag's adverts: the unit's decisions are the subject
    return cfg, heard


@given(evenings())
@settings(max_examples=30)
def test_absence_and_return_decisions(fw: mp.Service, case: tuple[dict[str, object], list[list[int]]]) -> None:
    cfg, heard = case
    timeout, late, early = (int(cfg[k]) for k in ("absence_timeout_s", "late_return_grace_s", "early_leave_grace_s"))  # type: ignore[call-overload]
    events = [(k, t) for k, t in _hmu_run(fw, cfg, START, END, heard, []) if k in (50, 51, 52)]
    times = [h[0] for h in heard]

    def heard_within(t: int) -> bool:  # an advert in (t - timeout, t]
        i = bisect.bisect_right(times, t)
        return i > 0 and times[i - 1] > t - timeout

    # enforced per second, from zoneinfo once a minute (windows are whole minutes)
    lo = START - 3600
    minutes = [_scheduled_ref(DAILY_19_07, [], lo + 60 * m) for m in range((END - lo) // 60 + 120)]

    def enforced(t: int) -> bool:
        return all(minutes[(x - lo) // 60] for x in (t, t - late, t + early))

    def curfew_start(t: int) -> int:  # the first second of the enforced spell holding t
        while enforced(t - 60):
            t -= 60
        while enforced(t - 1):
            t -= 1
        return t

    alerted, spell = False, -1
    for kind, t in events:
        if kind in (ABSENT, LEFT):
            assert enforced(t) and not heard_within(t), (kind, t)
            run_start = curfew_start(t)
            assert not alerted or run_start != spell  # one alert per absence and curfew
            if kind == ABSENT:  # nothing heard since this curfew took hold
                assert not any(run_start <= x <= t for x in times)
            alerted, spell = True, run_start
        else:
            assert alerted and heard_within(t), (kind, t)
            alerted = False
    # every minute of enforced absence lies under an alert raised in that curfew (checks run every 5 s)
    for t in range(START + timeout + 10, END, 60):
        if enforced(t) and enforced(t - 10) and not heard_within(t) and not heard_within(t - 10):
            before = [(k, x) for k, x in events if x <= t]
            assert before and before[-1][0] in (ABSENT, LEFT) and before[-1][1] >= curfew_start(t), t


def test_replays_and_forgeries_raise_one_spoof_event_per_quiet_period(fw: mp.Service) -> None:
    cfg = {**PAIR, "curfew": DAILY_19_07, "spoof_quiet_s": 600}
    heard = [[START + 10 * i, -60, 0] for i in range(30)]  # home for five minutes
    heard += [[START + 600 + 5 * i, -40, 1] for i in range(240)]  # then a recording replayed, 600 s to 1795 s
    heard += [[START + 2000 + 5 * i, -40, 2] for i in range(10)]  # and a forgery from 2000 s
    events = _hmu_run(fw, cfg, START, START + 3600, heard, [])
    assert [t - START for k, t in events if k == SPOOF] == [600, 1200, 2000]


def test_mains_lost_and_restored(fw: mp.Service) -> None:
    off = [START + 100, START + 400]
    events = _hmu_run(fw, {**PAIR}, START, START + 900, [], [off])
    assert [(k, t) for k, t in events if k in (MAINS_LOST, MAINS_RESTORED)] == [(MAINS_LOST, START + 100),
                                                                               (MAINS_RESTORED, START + 400)]


ALL_DAY = [[127, 0, 1440]]
BACKUP_END = START + 4 * 3600


@st.composite
def backup_days(draw: st.DrawFn) -> tuple[dict[str, object], list[list[int]]]:
    """A curfew in force all day and the tag's adverts as they reach the unit: home spells
    with adverts 1 to 10 s apart, up to half of them lost on the way."""
    timeout = draw(st.sampled_from([120, 300]))
    cfg = {**PAIR, "curfew": ALL_DAY, "late_return_grace_s": 0, "early_leave_grace_s": 0,
           "absence_timeout_s": timeout}
    rnd = random.Random(draw(st.integers(0, 2**32)))
    loss = draw(st.sampled_from([0.0, 0.1, 0.5]))
    heard, t = [], START
    for away, home in draw(st.lists(st.tuples(st.integers(0, 1500), st.integers(60, 3600)), min_size=1, max_size=5)):
        t += away
        home_until = min(t + home, BACKUP_END)
        while t < home_until:
            if rnd.random() >= loss:
                heard.append([t, -70, 0])
            t += rnd.randint(1, 10)
    return cfg, heard


def _merged(spells: list[list[int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for a, b in spells:
        if out and out[-1][1] == a:
            out[-1][1] = b
        else:
            out.append([a, b])
    return out


@given(backup_days())
@settings(max_examples=25)
def test_on_its_backup_battery_the_unit_rests_its_radio_and_still_judges_absence_and_return(
        fw: mp.Service, case: tuple[dict[str, object], list[list[int]]]) -> None:
    """The unit on its backup battery all day: once it hears the tag its radio rests a
    fifth of the absence timeout, then scans until it hears it again. So an absence is
    raised only after the other four fifths passed with no advert on air, every absence
    on air for the whole timeout is raised, a return is heard at the next check, and the
    radio listens only between a rest's end and the next advert."""
    cfg, heard = case
    timeout = int(cfg["absence_timeout_s"])  # type: ignore[call-overload]
    rest = timeout // 5
    with tempfile.TemporaryDirectory() as folder:
        events, spells = fw.call("rf_probe", "hmu_run", folder, cfg, START, BACKUP_END, heard,
                                 [[START - 1, BACKUP_END + 1]], 1, True)
    events = [(k, t) for k, t, _ in events if k in (ABSENT, LEFT, RETURNED)]
    on_air = [h[0] for h in heard]

    def aired(lo: int, hi: int) -> bool:  # an advert on air in (lo, hi]
        i = bisect.bisect_right(on_air, lo)
        return i < len(on_air) and on_air[i] <= hi

    alerted = False
    for kind, t in events:
        if kind in (ABSENT, LEFT):
            assert not alerted and not aired(max(START, t - timeout + rest), t), (kind, t)
            alerted = True
        else:
            assert alerted and aired(t - 6, t), (kind, t)
            alerted = False
    for t in range(START + timeout + 10, BACKUP_END - 10, 30):  # an absence on air is always raised
        if not aired(t - timeout - 10, t):
            before = [k for k, x in events if x <= t]
            assert before and before[-1] in (ABSENT, LEFT), t
    for a, b in zip(events, [*events[1:], None], strict=True):  # a return heard at the check after the first advert
        if a[0] in (ABSENT, LEFT):
            i = bisect.bisect_right(on_air, a[1])
            if i < len(on_air) and on_air[i] < BACKUP_END - 10:
                assert b is not None and b[0] == RETURNED and on_air[i] <= b[1] <= on_air[i] + 6, (a, b)
    listening = _merged(spells)
    assert all(c - b == rest * 1000 for (_, b), (c, _) in zip(listening, listening[1:], strict=False))
    # each spell ends at the first advert on air inside it, or with the run (one on air
    # at the instant a rest ends may go unheard)
    assert not any(a < 1000 * x < b for a, b in listening for x in on_air)
    assert all(b // 1000 in on_air for _, b in listening[:-1])


def test_on_mains_the_unit_listens_all_the_time(fw: mp.Service) -> None:
    heard = [[START + 7 * i, -70, 0] for i in range(500)]
    with tempfile.TemporaryDirectory() as folder:
        events, spells = fw.call("rf_probe", "hmu_run", folder, {**PAIR, "curfew": ALL_DAY}, START, START + 3600,
                                 heard, [], 1, True)
    assert _merged(spells) == [[START * 1000, (START + 3600) * 1000]]
    assert not [k for k, _, _ in events if k in (ABSENT, LEFT)]


HOME, AWAY = 56, 57
TAG_PAIR = {**PAIR, "hmu_beacon_id": "4b550001"}
EVERY_MS, LOST_MS = 20_000, 30_000  # 2 beacon_max_ms, home_lost_s


@given(st.lists(st.integers(1000, 10_000), min_size=20, max_size=200), st.data())
@settings(max_examples=40)
def test_the_tag_listens_for_its_unit_in_windows_and_says_away_only_once_it_has_gone(
        fw: mp.Service, gaps: list[int], data: st.DataObject) -> None:
    """The unit's adverts 1 to 10 s apart, any lost but never two running, once none
    heard for up to 29.9 s, then the wearer gone: the tag is home from the first advert
    it hears, away only after the last, within a window's cadence and home_lost_s; and
    its radio listens in windows, opening a cadence apart, each ending at the advert it
    heard while the wearer is home."""
    at = data.draw(st.integers(0, len(gaps) - 2))
    gaps[at] += data.draw(st.one_of(st.just(0), st.integers(max(0, 20_000 - gaps[at]), 29_900 - gaps[at])))
    sent, t = [], START * 1000 + 500
    for g in gaps:
        sent.append(t)
        t += g
    lost = set(data.draw(st.sets(st.integers(0, len(sent) - 1)))) - {at, at + 1, len(sent) - 1}
    lost -= {i for i in lost if i - 1 in lost}  # never two running
    delivered = [s for i, s in enumerate(sent) if i not in lost]
    assert max(b - a for a, b in zip(delivered, delivered[1:], strict=False)) < LOST_MS
    last = delivered[-1]
    events, spells = fw.call("rf_probe", "home_windows", TAG_PAIR, START, (last + EVERY_MS + LOST_MS) // 1000 + 30,
                             delivered)
    assert [k for k, _ in events] == [HOME, AWAY]
    (_, home_at), (_, away_at) = events
    assert home_at in delivered
    assert last < away_at <= last + EVERY_MS + LOST_MS
    opens = [a for a, _ in spells]
    assert all(b - a >= EVERY_MS for a, b in zip(opens, opens[1:], strict=False))
    assert all(b - a <= LOST_MS for a, b in spells)
    assert all(b in delivered for _, b in spells if b <= last)
