"""The cell's time through the modem (AT+CCLK?): the tag's parser inside MicroPython
against Python's datetime, the modem emulator's answer read back by the tag, and
a tag with no fix taking its clock from the network, or refusing a modem's default
date when the network sends none."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim.device import mp
from host_sim.judge import verdict
from host_sim.run import sim
from host_sim.run.modem_emulator import DEFAULT_CLOCK, Faults, ModemEmulator
from host_sim.world import scenario
from tests.conftest import RV32, X86_32

FW_PLATFORMS = (X86_32, RV32)
EXAMPLES = settings(max_examples=300)
INSTANTS = st.datetimes(datetime(2024, 1, 2), datetime(2069, 12, 30), timezones=st.just(UTC))


def _reference(text: str) -> int:
    """What a '+CCLK: "yy/MM/dd,hh:mm:ss+zz"' line says, by datetime: UTC seconds, or 0."""
    try:
        body = text.split('"')[1]
        local = datetime.strptime("20" + body[:17], "%Y/%m/%d,%H:%M:%S")  # two digits: 20yy
        sign, quarters = body[17], body[18:]
        if sign not in "+-" or len(quarters) != 2 or not quarters.isdigit() or int(quarters) > 56:
            return 0
    except (IndexError, ValueError):
        return 0
    if not 2024 <= local.year < 2070 or len(body) != 20 or not body[:17].replace("/", "").replace(",", "") \
            .replace(":", "").isdigit():
        return 0
    offset = timedelta(minutes=15 * int(quarters)) * (1 if sign == "+" else -1)
    return int((local.replace(tzinfo=UTC) - offset).timestamp())


@EXAMPLES
@given(when=INSTANTS, quarters=st.integers(-56, 56))
def test_the_tag_reads_the_cell_time_as_datetime_does(fw: mp.Service, when: datetime, quarters: int) -> None:
    local = when + timedelta(minutes=15 * quarters)
    line = f'+CCLK: "{local:%y/%m/%d,%H:%M:%S}{quarters:+03d}"'
    want = int(when.replace(microsecond=0).timestamp())
    assert _reference(line) == want
    assert fw.call("modem", "cclk_utc", line) == want, line


@EXAMPLES
@given(text=st.one_of(
    st.text(st.sampled_from('0123456789/,:+-" '), max_size=26).map(lambda t: "+CCLK: " + t),
    st.sampled_from(['+CCLK: "26/02/30,10:00:00+00"', '+CCLK: "26/12/03,24:00:00+00"',
                     '+CCLK: "26/12/03,10:60:00+00"', '+CCLK: "26/12/03,10:00:00+57"',
                     '+CCLK: "26/12/03,10:00:00*04"', '+CCLK: 26/12/03,10:00:00+00'])))
def test_a_malformed_or_impossible_cell_time_is_refused(fw: mp.Service, text: str) -> None:
    assert fw.call("modem", "cclk_utc", text) == _reference(text), text


@pytest.mark.parametrize("simcom", [True, False])
def test_a_modem_default_date_is_never_taken(fw: mp.Service, simcom: bool) -> None:
    assert fw.call("modem", "cclk_utc", f'+CCLK: "{DEFAULT_CLOCK[simcom]}"') == 0


@settings(max_examples=200)
@given(when=INSTANTS, dialect=st.sampled_from(["sim7000", "sim800", "a7670"]))
def test_the_emulator_tells_london_time_that_reads_back_as_utc(fw: mp.Service, when: datetime,
                                                                 dialect: str) -> None:
    """Across clock changes: London's offset in quarter hours, GMT or BST."""
    modem = ModemEmulator(dialect, 1, Faults(seed=5))
    now_ms = int(when.timestamp() * 1000)
    for cmd in ("AT+CLTS=1" if dialect != "a7670" else "AT+CTZU=1", "AT+CEREG?", "AT+CCLK?"):
        modem.from_tag(now_ms, cmd.encode() + b"\r")
    replies = b"".join(text for _, text in modem.due(now_ms + 10_000)).decode()
    line = next(ln for ln in replies.split("\r\n") if ln.startswith("+CCLK: "))
    assert modem.nitz_error_ms is not None
    assert fw.call("modem", "cclk_utc", line) == (now_ms + modem.nitz_error_ms) // 1000, line


UNDERGROUND = """name: underground
start: "2026-12-07 11:00"
duration: 15m
seed: 53
zones:
  - {{name: victim, kind: exclusion, warning_m: 100, circle: {{lat: 52.4420, lon: -1.9365, radius_m: 150}}}}
route:
  start: {{lat: 52.4600, lon: -1.9100}}
  legs: [{{dwell: 15m}}]
gnss:
  environment: [{{from: 0s, to: 10m, env: tunnel}}]
link: {{transport: cellular, dialect: sim800, nitz: {nitz}}}
"""


def _boots_underground(tmp_path: Path, nitz: bool) -> sim.Run:
    """Powered on where no satellite is seen for ten minutes, over a cellular modem."""
    path = tmp_path / "underground.yaml"
    path.write_text(UNDERGROUND.format(nitz=str(nitz).lower()))
    return sim.execute(scenario.load(path), keep_nmea=False)


@pytest.mark.parametrize("nitz", [True, False])
def test_with_no_fix_the_clock_comes_from_the_cell_or_else_the_centre(tmp_path: Path, nitz: bool) -> None:
    run = _boots_underground(tmp_path, nitz)
    assert [ln for ln in run.logs if ln.startswith("clock set")] == [f"clock set from {'cell' if nitz else 'centre'}"]
    start = run.scenario.start_utc
    assert all(start - 3 <= r["utc"] <= start + run.scenario.duration_s for r in run.stored)  # never 1980
    assert verdict.score(run).passed
