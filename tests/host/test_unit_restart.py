"""The home unit through a restart (firmware/hmu.py, presence.py, beacon.py) inside
MicroPython: what it decided and the tag's beacon counter come back from flash, so
a restart raises no second alert and lets no recording in; the centre's orders are
put in force or refused, and stay in force; and a technician's console speaks the
tag's protocol (firmware/diag.py)."""

import hashlib
import json
import struct
from pathlib import Path

from host_sim.device import mp
from tests.host.test_curfew import ABSENT, DAILY_19_07, LEFT, PAIR, RETURNED, SPOOF, _utc

START = _utc("2026-12-01 19:30")  # a Tuesday, in the curfew (19:00 to 07:00, GMT)
CFG = {**PAIR, "curfew": DAILY_19_07, "late_return_grace_s": 0, "absence_timeout_s": 300}
CURFEW_KINDS = (ABSENT, LEFT, RETURNED)


def _run(fw: mp.Service, folder: Path, start: int, end: int, heard: list[list[int]], first_counter: int = 1
         ) -> list[int]:
    """The kinds of the events one start of the unit stored, on the flash in folder."""
    return [k for k, _, _ in fw.call("rf_probe", "hmu_run", str(folder), CFG, start, end, heard, [], first_counter)]


def _every_5_s(a: int, b: int) -> list[list[int]]:
    return [[t, -60, 0] for t in range(a, b, 5)]


def test_restart_mid_absence_raises_no_second_alert(fw: mp.Service, tmp_path: Path) -> None:
    first = _run(fw, tmp_path, START, START + 1200, _every_5_s(START, START + 300))  # gone from +300
    assert [k for k in first if k in CURFEW_KINDS] == [LEFT]
    # restarted at +1200, still absent: the alert raised stands; he is back at +1700
    second = _run(fw, tmp_path, START + 1200, START + 2400, _every_5_s(START + 1700, START + 2400), 61)
    assert [k for k in second if k in CURFEW_KINDS] == [RETURNED]


def test_restart_with_the_wearer_in_raises_no_false_absence(fw: mp.Service, tmp_path: Path) -> None:
    first = _run(fw, tmp_path, START, START + 1200, _every_5_s(START, START + 1200))
    # his adverts go on through the restart: the first few are past the unit's mark
    # by less than 8, unsure, and not taken; then he is heard again
    second = _run(fw, tmp_path, START + 1200, START + 3600, _every_5_s(START + 1201, START + 3600), 241)
    assert [k for k in first + second if k in CURFEW_KINDS + (SPOOF,)] == []


def test_a_recording_replayed_after_a_restart_is_refused(fw: mp.Service, tmp_path: Path) -> None:
    first = _run(fw, tmp_path, START, START + 320, _every_5_s(START, START + 300))  # counters 1 to 60
    assert [k for k in first if k in CURFEW_KINDS] == []
    # restarted at +320; a recorder beside the unit plays counters 50 to 60, stamped fresh
    replay = _every_5_s(START + 325, START + 380)
    second = _run(fw, tmp_path, START + 320, START + 1200, replay, 50)
    assert SPOOF in second and RETURNED not in second
    assert [k for k in second if k in CURFEW_KINDS] == [LEFT]  # gone since +300: not taken for home


def _order(version: int, settings: dict[str, object]) -> str:
    text = json.dumps(settings).encode()
    body = struct.pack("<H", len(text)) + text + b"EZS\0"
    return (struct.pack("<IH", version, len(body)) + body).hex()


def test_orders_are_put_in_force_or_refused_and_survive_a_restart(fw: mp.Service, tmp_path: Path) -> None:
    at, probe = START, _utc("2026-12-02 18:30")  # tomorrow, half an hour before 19:00
    earlier = [[127, 18 * 60, 7 * 60]]
    offers = [
        _order(1, {"curfew": earlier}),  # the court: from 18:00
        _order(1, {"curfew": earlier}),  # the same order again: nothing to do
        _order(2, {"breadcrumb_s": 30}),  # a tag's setting: not the unit's business
        _order(0, {"curfew": DAILY_19_07}),  # older than the one in force
        _order(3, {"absence_timeout_s": 120, "late_return_grace_s": 60, "early_leave_grace_s": 0,
                   "curfew_changes": [[probe - 60, probe + 60, 0]]}),  # lifted for two minutes
    ]
    after, restarted = fw.call("rf_probe", "hmu_orders", str(tmp_path), CFG, at, offers, probe)
    applied, refused = 13, 14
    assert [events for events, _ in after] == [[applied], [], [refused], [refused], [applied]]
    keys = ["curfew", "curfew_changes", "late_return_grace_s", "early_leave_grace_s", "absence_timeout_s",
            "clear_tamper", "timeout_ms", "enforced_at_probe"]
    rules = [dict(zip(keys, r, strict=True)) for _, r in after]
    assert rules[0]["curfew"] == earlier and rules[0]["enforced_at_probe"] is True
    assert rules[1] == rules[2] == rules[3] == rules[0]  # refused orders change nothing
    # an order is whole: what it does not set is the deployed configuration's, as on a tag
    assert rules[4]["timeout_ms"] == 120_000 and rules[4]["curfew"] == DAILY_19_07
    assert rules[4]["enforced_at_probe"] is False  # the one-off change lifts it
    assert dict(zip(keys, restarted, strict=True)) == rules[4]


def test_a_technician_speaks_to_the_unit_as_to_a_tag(fw: mp.Service, tmp_path: Path) -> None:
    token = "ab" * 16
    cfg = {**CFG, "tech_token": token}
    lines = ["EMTAG?1 status", "EMTAG?1 selftest", "EMTAG?1 fit " + token, "EMTAG?1 pairing"]
    out, events, reset = fw.call("rf_probe", "hmu_console", str(tmp_path), cfg, START, lines, True)
    said = {a.split()[1]: a for a in out if a.startswith("EMTAG!")}  # the rest: its heartbeat
    assert said["status"].startswith("EMTAG!1 status ok board=probe chip=esp32c3 role=hmu")
    assert "gnss=none" in said["status"] and "strap=none case=open" in said["status"]
    assert said["selftest"].startswith("EMTAG!1 selftest ok result=fail") and "case=fail" in said["selftest"]
    assert "gnss=" not in said["selftest"] and "strap=" not in said["selftest"]
    assert said["fit"] == "EMTAG!1 fit err strap or case still open: close them first"
    key_id = hashlib.sha256(bytes.fromhex(CFG["pair_key"])).hexdigest()[:8]  # the configured key's
    assert said["pairing"] == f"EMTAG!1 pairing ok tag=none key_id={key_id} tag_beacon=0000abcd unit_beacon=none"
    assert 21 in events and not reset  # the case tamper
    out, events, _ = fw.call("rf_probe", "hmu_console", str(tmp_path), cfg, START + 60, ["EMTAG?1 fit " + token],
                             False)
    assert [a for a in out if a.startswith("EMTAG!")] == ["EMTAG!1 fit ok fitted"]
    assert 22 in events  # its case shut again: the latch cleared by the technician


def test_pairing_gives_the_unit_a_new_key_and_forgets_the_old_tag(fw: mp.Service, tmp_path: Path) -> None:
    token, key, tag_beacon, unit_beacon = "ab" * 16, "c3" * 32, "7a60beef", "4b55cafe"
    cfg = {**CFG, "tech_token": token}
    first = _run(fw, tmp_path, START, START + 600, _every_5_s(START, START + 600))  # the old tag, counters to 120
    assert [k for k in first if k in CURFEW_KINDS + (SPOOF,)] == []
    pair = f"EMTAG?1 pair tag-0099 {token} {key} {tag_beacon} {unit_beacon}"
    refused = [pair.replace(token, "cd" * 16), pair.replace(key, key[:62]), pair.replace(unit_beacon, tag_beacon),
               pair.replace(tag_beacon, "00000000"), f"EMTAG?1 pair tag-0099 {token}"]
    out, events, reset = fw.call("rf_probe", "hmu_console", str(tmp_path), cfg, START + 601, [*refused, pair], False)
    said = [a for a in out if a.startswith("EMTAG!")]
    assert said[:5] == ["EMTAG!1 pair err refused: bad token", "EMTAG!1 pair err pair key: 64 hex digits (32 bytes)",
                        "EMTAG!1 pair err beacon ids: the tag's and the unit's must differ",
                        "EMTAG!1 pair err beacon ids: 8 hex digits each, not zero",
                        "EMTAG!1 pair err usage: pair <device-id> <token> <pair-key> <tag-beacon-id> <unit-beacon-id>"]
    key_id = hashlib.sha256(bytes.fromhex(key)).hexdigest()[:8]
    assert said[5:] == [f"EMTAG!1 pair ok paired=tag-0099 key_id={key_id} restarting=1"] and reset
    assert events.count(23) == 1  # the pairing, for the centre; the refused ones changed nothing
    # restarted: the new key and ids; the new tag counts from 1, which the old tag's marks would call replays
    out, _, _ = fw.call("rf_probe", "hmu_console", str(tmp_path), cfg, START + 602, ["EMTAG?1 pairing"], False)
    assert [a for a in out if a.startswith("EMTAG!")] == [
        f"EMTAG!1 pairing ok tag=tag-0099 key_id={key_id} tag_beacon={tag_beacon} unit_beacon={unit_beacon}"]
    second = _run(fw, tmp_path, START + 603, START + 1800, _every_5_s(START + 603, START + 1800))
    assert [k for k in second if k in CURFEW_KINDS + (SPOOF,)] == []
