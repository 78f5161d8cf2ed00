"""A field technician's session: tagctl against a virtual tag (tagsim device --pty)
through a real pseudo-terminal, as against hardware on /dev/ttyUSB0."""

import json
import re
import subprocess
import sys
import time

from host_sim import keys
from host_sim.paths import ROOT
from tests.host.virtual import stop, tagctl

TOKEN = "00112233445566778899aabbccddeeff"
MODEM_STATES = {"starting", "initialising", "registering", "attaching", "opening", "ready", "off", "asking-time"}


def _tagctl(port: str, *args: str) -> subprocess.CompletedProcess[str]:
    return tagctl("--port", port, *args, timeout=30)


def test_fitting_a_tag_then_a_strap_cut() -> None:
    # strap-cut: strap cut at 6 min, case at 11 min; at 120x those are 3 s and 5.5 s from the start
    device = subprocess.Popen([sys.executable, "-m", "host_sim.tagsim", "device", "scenarios/strap-cut.yaml",
                               "--pty", "--speed", "120", "--token", TOKEN],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert device.stdout is not None
        first = device.stdout.readline()
        port = first.split(" console on ")[1].split()[0]
        t0 = time.monotonic()

        diag = _tagctl(port, "diag")
        assert diag.returncode == 0, diag.stderr
        rows = dict(line.split(None, 1) for line in diag.stdout.splitlines())
        assert rows["board"] == "host" and rows["strap"] == "closed" and rows["strap_tamper"] == "clear"
        assert "zone" not in diag.stdout and "lat" not in diag.stdout  # nothing of places

        alone = _tagctl(port, "pair", "/dev/no-such-unit", "--token", TOKEN)  # pairing is for two devices
        assert alone.returncode == 3 and "cannot open /dev/no-such-unit" in alone.stderr

        time.sleep(max(0.0, 4.0 - (time.monotonic() - t0)))  # past the strap cut
        status = _tagctl(port, "status", "--json")  # as the README writes it
        assert status.returncode == 0, status.stderr
        answer = json.loads(status.stdout)
        assert answer["strap"] == "open" and answer["strap_tamper"] == "latched"
        assert answer["hmu"] is None and answer["key_id"] is None  # a tag with no home unit
        assert answer["transport"] == "cellular" and answer["state"] in MODEM_STATES
        assert isinstance(answer["registered"], bool) and isinstance(answer["low"], bool)
        assert all(isinstance(answer[k], int) for k in ("mv", "percent", "queued", "sentences", "naps"))
        documented = set(re.findall(r"`([a-z_]+)`", (ROOT / "docs" / "technician.md").read_text()))
        assert set(answer) <= documented, set(answer) - documented  # every key the tag says is in the table
        refit = _tagctl(port, "fit", "--token", TOKEN)
        assert refit.returncode == 1 and "still open" in refit.stderr  # the latch holds
        selftest = _tagctl(port, "selftest")
        assert selftest.returncode == 1 and "strap" in selftest.stdout and "fail" in selftest.stdout
        out, err = device.communicate(timeout=60)
    finally:
        stop(device)
    assert "alerts:" in out and "tamper_strap" in out and "tamper_case" in out, out + err


def test_no_answer_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "host_sim.tagctl", "--port", os.ttyname(slave), "status"],
                              capture_output=True, text=True, cwd=ROOT, timeout=30)
    finally:
        os.close(master)
        os.close(slave)
    assert proc.returncode == 3 and "no answer" in proc.stderr


def test_refit_clears_the_tamper(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The README's bench-rig walk-through on a virtual tag: secrets from tagsim keys new,
    the token read from their file, the fit seen at the centre."""
    text = (ROOT / "scenarios/strap-cut.yaml").read_text()
    text = text.replace("inputs: [{at: 6m, strap: open}, {at: 11m, case: open}]",
                        "inputs: [{at: 1m, strap: open}, {at: 2m, strap: closed}]")
    text = text.replace("duration: 30m", "duration: 6m").replace("charging: [{from: 24m, to: 30m}]", "charging: []")
    path = tmp_path / "refit.yaml"
    path.write_text(text)
    token = "@" + str(keys.new("tag-0001", tmp_path / "secrets"))
    db = tmp_path / "bench.db"
    device = subprocess.Popen([sys.executable, "-m", "host_sim.tagsim", "device", str(path), "--speed", "60",
                               "--token", token, "--db", str(db)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert device.stdout is not None
        tag, port = device.stdout.readline().split(" console on ")
        port = port.split()[0]
        time.sleep(3)  # past the cut (1 min) and the re-fit of the strap (2 min), at 60x
        before = _tagctl(port, "--json", "status")
        assert '"strap": "closed"' in before.stdout and '"strap_tamper": "latched"' in before.stdout
        fit = _tagctl(port, "fit", "--token", token)
        assert fit.returncode == 0 and "fitted" in fit.stdout, fit.stderr
        after = _tagctl(port, "--json", "status")
        assert '"strap_tamper": "clear"' in after.stdout
        out, _ = device.communicate(timeout=60)
    finally:
        stop(device)
    assert "tamper_strap" in out and "fitted" not in out.split("alerts:")[1]  # a fit is no alert
    events = subprocess.run([sys.executable, "-m", "host_sim.tagsim", "centre", "events", "--db", str(db),
                             "--device", tag.split()[1], "--json"], cwd=ROOT, capture_output=True, text=True)
    assert events.returncode == 0, events.stderr
    kinds = [e["kind"] for e in json.loads(events.stdout)]
    assert kinds.index("tamper_strap") < kinds.index("fitted"), kinds


def test_log_shows_no_place_unless_asked() -> None:
    """A tag reporting fixes all the while, as a console does, so that no start-up delay
    of tagctl's (pyserial empties the input on opening) decides what it sees; its window
    ends mid-line."""
    import os
    import pty
    import threading
    import tty

    master, slave = pty.openpty()
    tty.setraw(slave)
    fix = b"FIX 1796083200 0 524534000 -19110000 1 1\n"
    try:
        shown = {}
        for extra in ((), ("--positions",)):
            log = subprocess.Popen([sys.executable, "-m", "host_sim.tagctl", "--port", os.ttyname(slave), "log",
                                    "--seconds", "1.5", *extra], cwd=ROOT, stdout=subprocess.PIPE, text=True)

            def report(log: subprocess.Popen[str] = log) -> None:
                while log.poll() is None:
                    os.write(master, fix[:20])  # a line in two writes: some window ends between them
                    os.write(master, fix[20:])
                    time.sleep(0.05)

            writer = threading.Thread(target=report)
            writer.start()
            shown[extra] = log.communicate(timeout=60)[0]
            writer.join()
            assert log.returncode == 0
    finally:
        os.close(master)
        os.close(slave)
    lines = shown[()].splitlines()
    assert len(lines) >= 5 and set(lines) == {"fix  2026-12-01 00:00:00  position  valid"}
    assert "52.4534000 -1.9110000" in shown[("--positions",)]
