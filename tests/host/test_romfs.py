"""The firmware from a ROMFS image, as a board with a ROMFS partition runs it:
the simulator's device image holds one image instead of loose .mpy files, the
host board boots from it, and the bytecode stays out of the heap."""

import json
import os
import re
import subprocess
from pathlib import Path

from host_sim.device import device_image, mp, romfs
from host_sim.run.heap import BUDGET

CONFIG = {"device_id": "romtest", "status_period_s": 60}


def _boot(folder: Path, rom: bool, heap: str = "256K") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMTAG_", "MICROPYPATH"))}
    env["EMTAG_RUN_S"] = "130"
    if rom:
        env[romfs.ENV] = device_image.ROM_IMAGE
    cmd = [mp.micropython(), "-X", f"heapsize={heap}", "main.py"]
    return subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=60)


def _heap_peak(out: str) -> int:
    peaks = [int(m) for m in re.findall(r"heap_peak=(\d+)", out)]
    assert peaks, out
    return peaks[-1]


def test_image_replaces_the_loose_modules_and_boots(tmp_path: Path) -> None:
    rom = device_image.build(tmp_path / "rom", CONFIG)
    loose = device_image.build(tmp_path / "loose", CONFIG, rom=False)
    assert (rom / device_image.ROM_IMAGE).stat().st_size > 20_000 and not list(rom.glob("*.mpy"))
    assert len(list(loose.glob("*.mpy"))) > 20 and not (loose / device_image.ROM_IMAGE).exists()
    assert json.loads((rom / "config.json").read_text())["device_id"] == "romtest"
    from_rom, from_files = _boot(rom, True), _boot(loose, False)
    for proc in (from_rom, from_files, _boot(rom, True, BUDGET)):  # and in a tag's heap budget
        assert proc.returncode == 0 and "emtag tag romtest on host" in proc.stderr, proc.stdout + proc.stderr
    # the same firmware either way; from the image its bytecode is not in the heap
    assert _heap_peak(from_rom.stdout) < _heap_peak(from_files.stdout) - 20_000
