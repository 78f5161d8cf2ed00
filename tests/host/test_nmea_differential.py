"""The tag's NMEA parser (inside MicroPython) against pynmea2, on hypothesis sentences.

Every field pynmea2 decodes must agree with the tag's decoding. Validity is
judged by emtag's rule (status A with mode A/D/P/R/F or none; without RMC/GLL a
GGA quality of 1-5, or a GNS mode A/D/P/R/F; GGA 0/6/7/8, a bad mode, GSA "no fix"
and zero satellites spoil it), not by
pynmea2, whose own rule is wrong for NMEA 4.1 RMC and for mode E.
"""

from datetime import date, time
from typing import Any

import pynmea2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim.device import mp
from tests.conftest import RV32, X86_32
from tests.host import nmea_gen as g

FW_PLATFORMS = (X86_32, RV32)  # the kernels checked on the simulator's board and on the C3's ISA

REF_DAY = (date(2005, 1, 1) - date(1970, 1, 1)).days
COORD_TOL = 0.5e-7 + 1e-12  # exact rounding to 1e-7 degrees
EXAMPLES = settings(max_examples=300)


def _parse(fw: mp.Service, body: str) -> tuple[Any, dict[str, Any]]:
    sentence = g.checksum(body)
    msg = pynmea2.parse(sentence)
    result = fw.call("nmea_probe", "epochs", sentence + "\r\n", REF_DAY)
    assert result["counts"]["accepted"] == 1, (sentence, result["counts"])
    (epoch,) = result["epochs"]
    return msg, epoch


def _ms(t: time | None) -> int:
    if t is None:
        return -1
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.microsecond // 1000


def _scaled(text: str, scale: int) -> int:
    return -1 if text == "" else round(float(text) * 10**scale)


def _check_position(msg: Any, e: dict[str, Any]) -> None:
    if msg.lat:
        assert e["has_pos"]
        assert abs(e["lat_e7"] / 1e7 - msg.latitude) <= COORD_TOL, (msg.lat, msg.lat_dir, e["lat_e7"])
        assert abs(e["lon_e7"] / 1e7 - msg.longitude) <= COORD_TOL, (msg.lon, msg.lon_dir, e["lon_e7"])
    else:
        assert not e["has_pos"]


def _good_mode(mode: str) -> bool:
    return mode == "" or mode in "ADPRF"


@given(g.rmc())
@EXAMPLES
def test_rmc(fw: mp.Service, body: str) -> None:
    msg, e = _parse(fw, body)
    _check_position(msg, e)
    assert e["ms"] == _ms(msg.timestamp)
    want_day = (msg.datestamp - date(1970, 1, 1)).days if msg.datestamp else -1
    assert e["day"] == want_day
    assert e["status"] == ord(msg.status)
    mode = msg.data[11] if len(msg.data) > 11 else ""
    assert e["mode"] == (ord(mode) if mode else 0)
    nav = msg.data[12] if len(msg.data) > 12 else ""
    assert e["nav_status"] == (ord(nav) if nav else 0)
    if msg.spd_over_grnd is not None:
        assert abs(e["speed_cms"] - msg.spd_over_grnd * 185200 / 3600) <= 0.5 + 1e-6
    assert e["course_cdeg"] == _scaled(msg.data[7], 2)
    assert e["valid"] == (bool(msg.lat) and msg.status == "A" and _good_mode(mode))


@given(g.gga())
@EXAMPLES
def test_gga(fw: mp.Service, body: str) -> None:
    msg, e = _parse(fw, body)
    _check_position(msg, e)
    assert e["ms"] == _ms(msg.timestamp)
    assert e["quality"] == int(msg.gps_qual)
    assert e["sats_used"] == (int(msg.num_sats) if msg.num_sats else -1)
    assert e["hdop"] == _scaled(msg.horizontal_dil, 2)
    assert e["has_alt"] == (msg.altitude is not None)
    if msg.altitude is not None:
        assert e["alt_cm"] == round(msg.altitude * 100)
    assert e["valid"] == (bool(msg.lat) and int(msg.gps_qual) in (1, 2, 4, 5) and msg.num_sats != "00")


@given(g.gll())
@EXAMPLES
def test_gll(fw: mp.Service, body: str) -> None:
    msg, e = _parse(fw, body)
    _check_position(msg, e)
    assert e["ms"] == _ms(msg.timestamp)
    mode = msg.data[6] if len(msg.data) > 6 else ""
    assert e["valid"] == (bool(msg.lat) and msg.status == "A" and _good_mode(mode))


@given(g.vtg())
@EXAMPLES
def test_vtg(fw: mp.Service, body: str) -> None:
    msg, e = _parse(fw, body)
    assert e["course_cdeg"] == _scaled(msg.data[0], 2)
    if msg.spd_over_grnd_kmph is not None:
        assert abs(e["speed_cms"] - msg.spd_over_grnd_kmph * 100000 / 3600) <= 0.5 + 1e-6
    assert e["mode"] == ord(msg.faa_mode)
    assert not e["valid"]  # no position in a VTG


@given(g.gsa())
@EXAMPLES
def test_gsa(fw: mp.Service, body: str) -> None:
    msg, e = _parse(fw, body)
    ids = [getattr(msg, f"sv_id{i:02d}") for i in range(1, 13)]
    assert e["sats_used"] == sum(1 for i in ids if i)
    assert e["fix_type"] == int(msg.mode_fix_type)
    assert (e["pdop"], e["hdop"], e["vdop"]) == tuple(_scaled(d, 2) for d in msg.data[14:17])
    system = msg.data[17] if len(msg.data) > 17 else ""
    assert e["systems"] == (1 << int(system) if system else 0)


@given(g.gsv())
@EXAMPLES
def test_gsv(fw: mp.Service, body: str) -> None:
    msg, e = _parse(fw, body)
    assert e["sats_view"] == (int(msg.num_sv_in_view) if msg.msg_num == "1" else 0)


@given(g.zda())
@EXAMPLES
def test_zda(fw: mp.Service, body: str) -> None:
    msg, e = _parse(fw, body)
    assert e["ms"] == _ms(msg.timestamp)
    assert e["day"] == (date(msg.year, msg.month, msg.day) - date(1970, 1, 1)).days


@given(g.gns())
@EXAMPLES
def test_gns(fw: mp.Service, body: str) -> None:
    msg, e = _parse(fw, body)
    _check_position(msg, e)
    assert e["ms"] == _ms(msg.timestamp)
    modes = msg.mode_indicator
    best = next((m for m in modes if m in "ADPRF"), modes[0])
    assert e["mode"] == ord(best)
    assert e["sats_used"] == int(msg.num_sats)
    assert e["hdop"] == _scaled(msg.hdop, 2)
    assert e["valid"] == (bool(msg.lat) and best in "ADPRF" and msg.num_sats != "00")


@given(st.sampled_from(g.TALKERS), st.data())
@settings(max_examples=50)
def test_every_talker_is_accepted(fw: mp.Service, talker: str, data: st.DataObject) -> None:
    body = data.draw(g.rmc())
    msg, e = _parse(fw, talker + body[2:])
    assert msg.talker == talker


@pytest.mark.parametrize("body", [
    "GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W",
    "GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
    "GNRMC,003956.00,A,4552.65403,S,17030.00668,E,0.025,,120419,,,A,V",
])
def test_classic_examples(fw: mp.Service, body: str) -> None:
    msg, e = _parse(fw, body)
    _check_position(msg, e)
