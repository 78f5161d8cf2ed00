"""A technician pairs a tag and its home unit: tagctl pair across two real
pseudo-terminals (tagsim device gives each its console), a new key and beacon ids
to both, each restarted and checked; the curfew goes on under the new key, and the
centre records the pairing from what both devices report."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

from host_sim.centre.server import Centre
from host_sim.paths import ROOT
from host_sim.run.home_unit import tag_id, unit_id
from host_sim.world import scenario
from tests.host.virtual import stop, tagctl

TOKEN = "00112233445566778899aabbccddeeff"
# at home all evening, in the curfew: any absence or spoof alert after a pairing is the pairing's fault
SCENARIO = """\
name: pairing-at-home
description: The wearer stays in; the technician pairs his tag and unit twice.
start: "2026-12-03 20:30"
duration: 16m
seed: 7
home: {lat: 52.92600, lon: -1.21500}
curfew:
  schedule: [{days: daily, start: "19:00", end: "07:00"}]
route:
  start: {lat: 52.92600, lon: -1.21500}
  legs: [{dwell: 16m}]
gnss: {default: indoors}
"""


def _pair(tag: str, unit: str, token: str = TOKEN) -> dict[str, str]:
    done = tagctl("--port", unit, "--json", "pair", tag, "--token", token)  # from either end
    assert done.returncode == 0, done.stderr
    answer: dict[str, str] = json.loads(done.stdout)
    return answer


def test_pairing_over_two_ptys(tmp_path: Path) -> None:
    path, db = tmp_path / "pairing.yaml", tmp_path / "centre.db"
    path.write_text(SCENARIO)
    sc = scenario.load(path)
    tag_dev, unit_dev = tag_id(sc), unit_id(sc)  # the devices, as the simulator names them
    device = subprocess.Popen([sys.executable, "-m", "host_sim.tagsim", "device", str(path), "--speed", "30",
                               "--token", TOKEN, "--db", str(db)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert device.stdout is not None
        tag = device.stdout.readline().split(" console on ")[1].split()[0]
        unit = device.stdout.readline().split(" console on ")[1].split()[0]
        time.sleep(4)  # two virtual minutes: both have booted, set their clocks and heard each other

        wrong = tagctl("--port", tag, "pair", unit, "--token", "ee" * 16)
        assert wrong.returncode == 1 and "bad token" in wrong.stderr, wrong.stderr
        same = tagctl("--port", tag, "pair", tag, "--token", TOKEN)
        assert same.returncode == 2 and "a tag and a home unit" in same.stderr, same.stderr

        first = _pair(tag, unit)
        assert (first["tag"], first["unit"]) == (tag_dev, unit_dev)
        assert re.fullmatch("[0-9a-f]{8}", first["key_id"]) and first["tag_beacon"] != first["unit_beacon"]
        for port, other in ((tag, f"hmu={unit_dev}"), (unit, f"tag={tag_dev}")):
            shown = tagctl("--port", port, "status")
            assert shown.returncode == 0 and other in shown.stdout and f"key_id={first['key_id']}" in shown.stdout
            assert not re.search("[0-9a-f]{64}", shown.stdout)  # the key itself is never shown
        time.sleep(8)  # four virtual minutes under the new key: the unit hears the tag, the tag its unit
        again = _pair(tag, unit)  # a re-pair: new key, new ids
        assert again["key_id"] != first["key_id"] and again["tag_beacon"] != first["tag_beacon"]
        out, err = device.communicate(timeout=120)
    finally:
        stop(device)
    assert device.returncode == 0, err
    assert "done: PASS" in out, out
    centre = Centre(db)
    assert [a["kind"] for a in centre.alerts()] == []  # no absence, no spoof, no unit moved: nothing
    paired = [e["device"] for e in centre.events() if e["kind"] == 23]
    assert sorted(paired) == [unit_dev] * 2 + [tag_dev] * 2  # each side reported each pairing
    pairings = centre.pairings()
    assert [(p["tag"], p["unit"], p["key_id"], p["tag_beacon"], p["state"]) for p in pairings] == [
        (tag_dev, unit_dev, again["key_id"], again["tag_beacon"], "paired")]  # the first, superseded, is gone
