"""tagctl against a tag's console on a real pseudo-terminal: the firmware on the
host board, fed a real receiver capture, its console copied to the pty."""

import os
import pty
import subprocess
import sys
import threading
import tty
from pathlib import Path

from host_sim.device import device_image
from host_sim.paths import CAPTURES, ROOT
from host_sim.run import sim
from host_sim.run.lockstep import Firmware
from host_sim.world import captures


def test_log_shows_the_fixes_and_counters(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    tty.setraw(slave)
    port = os.ttyname(slave)
    # the receiver kept on: a board that switched it off would sleep through its bursts;
    # built before tagctl starts its 4 s, which the run alone must fit in
    image = device_image.build(tmp_path, {"device_id": "tag-0001", "status_period_s": 5, "adaptive": False})
    watch = subprocess.Popen([sys.executable, "-m", "host_sim.tagctl", "--port", port, "log", "--seconds", "4",
                              "--positions"],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    start = 1_419_998_400_000  # the capture's day, 2014-12-31

    def tag() -> None:
        with Firmware(start_ms=start, device=image, heap=sim.HEAP) as fw:
            for i, burst in enumerate(captures.bursts(CAPTURES / "bu353s4.log")):
                fw.gnss(burst)
                fw.advance(start + 1000 * i)
            fw.advance(start + 60_000)
            fw.stop()
        os.write(master, "".join(text + "\n" for _, text in fw.out.lines).encode())

    threading.Timer(0.5, tag).start()
    out, err = watch.communicate(timeout=30)
    os.close(master)
    os.close(slave)
    assert watch.returncode == 0, err
    fixes = [ln for ln in out.splitlines() if ln.startswith("fix ")]
    # a tag whose RTC was never set reads the 2014 capture by its week-rollover rule
    # (firmware/gnss.py): 1024 weeks on, as a receiver with that bug would mean
    assert len(fixes) >= 20 and "2034-08-16 03:07:" in fixes[0] and "-37.78" in fixes[0]
    assert "valid" in fixes[0]
    assert any(ln.startswith("counters sentences=") for ln in out.splitlines())


def test_no_device_is_a_clear_error() -> None:
    proc = subprocess.run([sys.executable, "-m", "host_sim.tagctl", "--port", "/dev/nonexistent-tag", "status"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 3 and "cannot open /dev/nonexistent-tag" in proc.stderr
