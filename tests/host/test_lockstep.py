"""The simulator's side of the lockstep protocol (host_sim/run/lockstep.py) against
a firmware that breaks it."""

import threading
from pathlib import Path

import pytest

from host_sim.run.lockstep import Firmware, FirmwareExited

START = 1_765_000_000_000


def test_a_print_to_stdout_is_named_at_once_not_waited_on(tmp_path: Path) -> None:
    """stdout is the protocol's: a firmware's stray print() read as messages would leave
    the simulator waiting for bytes the firmware never sends, and the firmware waiting
    for its time, for ever. The simulator names the text and stops the process."""
    (tmp_path / "main.py").write_text('print("debug: fix ok")\nimport sys\nsys.stdin.buffer.read()\n')
    said: list[BaseException] = []

    def boot() -> None:
        try:
            Firmware(start_ms=START, device=tmp_path)
        except FirmwareExited as e:
            said.append(e)

    t = threading.Thread(target=boot, daemon=True)
    t.start()
    t.join(timeout=20)
    if t.is_alive():
        pytest.fail("the simulator and the firmware still wait on each other after 20 s")
    assert len(said) == 1 and "outside the lockstep protocol" in str(said[0]) and "debug: fix ok" in str(said[0])
