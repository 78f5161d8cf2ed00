"""The tag's NMEA parser on real receiver captures, against gpsd's decodings.

For every gpsd TPV report with a fix (mode >= 2), the position the tag holds after
the same sentence agrees within 1e-7 degrees, and so does its time (date and time
of day; a date the tag moved by 1024 weeks for the GPS week rollover is compared
modulo 1024 weeks). Where gpsd's final report for an instant says "no fix", the
tag's epoch for that instant is not valid. Captures without decodings run through
without an exception and give plausible fixes.
"""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from host_sim.device import mp
from host_sim.paths import CAPTURES
from host_sim.world import captures

WEEKS_1024_MS = 1024 * 7 * 86400 * 1000
TOL_DEG = 1e-7 + 1e-12  # gpsd prints 9 decimals
DECODED = ("RMC", "GGA", "GSA", "GSV", "VTG", "GLL", "ZDA", "GNS")
LOGS = sorted(CAPTURES.glob("*.log"))


def _ref_day(log: Path) -> int:
    d = captures.header_date(log)
    return (d - date(1970, 1, 1)).days if d else 20758


def _sentences_and_reports(chk: Path) -> list[tuple[str, list[dict]]]:  # type: ignore[type-arg]
    items: list[tuple[str, list[dict]]] = []  # type: ignore[type-arg]
    for line in chk.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            if items:
                items[-1][1].append(json.loads(line))
        elif line.strip() and not line.startswith("#"):
            items.append((line, []))
    return items


def _ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC).timestamp() * 1000)


def _same_time(tag_ms: int, gpsd_ms: int) -> bool:
    return (tag_ms - gpsd_ms) % WEEKS_1024_MS == 0


def _decoded(sentence: str) -> bool:
    return sentence.startswith("$") and sentence[3:6] in DECODED and sentence[1] != "P"


@pytest.mark.parametrize("log", captures.with_decodings(CAPTURES), ids=lambda p: p.name)
def test_capture_matches_gpsd(fw: mp.Service, log: Path) -> None:
    items = _sentences_and_reports(log.with_suffix(".log.chk"))
    states = fw.call("nmea_probe", "each_sentence", [s + "\r\n" for s, _ in items], _ref_day(log))
    epochs = fw.call("nmea_probe", "epochs", "".join(s + "\r\n" for s, _ in items), _ref_day(log))["epochs"]
    compared = 0
    # per tag epoch (its index), the sentence after which gpsd's last report said no fix
    final_no_fix: dict[int, str] = {}
    for (sentence, reports), state in zip(items, states, strict=True):
        cur, done = state["current"], state["emitted"]
        held = cur if cur["has_pos"] else done if done and done["has_pos"] else None
        for r in reports:
            if r.get("class") != "TPV":
                continue
            if r.get("mode", 0) >= 2 and "lat" in r:
                assert held is not None, f"gpsd has a fix after {sentence!r}, the tag none"
                assert abs(held["lat_e7"] / 1e7 - r["lat"]) <= TOL_DEG, (sentence, held, r)
                assert abs(held["lon_e7"] / 1e7 - r["lon"]) <= TOL_DEG, (sentence, held, r)
                if "time" in r and cur["ms"] >= 0 and cur["day"] >= 0:
                    tag_ms = cur["day"] * 86400000 + cur["ms"]
                    assert _same_time(tag_ms, _ms(r["time"])), (sentence, cur, r)
                compared += 1
            if _decoded(sentence) and cur["ms"] >= 0:
                if r.get("mode", 0) < 2:
                    final_no_fix[state["epoch"]] = sentence
                else:
                    final_no_fix.pop(state["epoch"], None)
    for index, sentence in final_no_fix.items():
        e = epochs[index]
        assert not e["valid"], f"gpsd ends epoch {index} with no fix (after {sentence!r}); the tag: valid"
    assert compared or not captures.gpsd_fixes(log.with_suffix(".log.chk"))


@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.name)
def test_every_capture_runs_through_with_plausible_fixes(fw: mp.Service, log: Path) -> None:
    """Also the captures without a decoding: no exception, positions on the globe."""
    text = b"".join(captures.raw_lines(log)).decode(errors="replace")
    result = fw.call("nmea_probe", "epochs", text, _ref_day(log))
    assert result["counts"]["sentences"] > 0
    for e in result["epochs"]:
        if e["valid"]:
            assert -900000000 <= e["lat_e7"] <= 900000000
            assert -1800000000 <= e["lon_e7"] <= 1800000000
            assert e["ms"] >= 0


def test_week_rollover_capture_gets_the_real_date(fw: mp.Service) -> None:
    """april6_2019: a Telit HE910 reporting 1999-08-22 after the April 2019 rollover."""
    log = CAPTURES / "april6_2019.log"
    text = b"".join(captures.raw_lines(log)).decode()
    epochs = fw.call("nmea_probe", "epochs", text, _ref_day(log))["epochs"]
    days = {e["day"] for e in epochs if e["day"] >= 0}
    assert days == {(date(2019, 4, 7) - date(1970, 1, 1)).days}  # 1999-08-22 + 1024 weeks


def test_every_capture_replays_and_agrees_through_the_host_board() -> None:
    """End to end: bytes through the lockstep host board, fixes reported over the link."""
    from host_sim.run.replay import replay

    for log in ("bu353s4.log", "ublox-zed-f9p-nmea.log", "rst39.log", "april6_2019.log"):
        r = replay(CAPTURES / log)
        assert r.passed, r
        assert r.fixes > 0
