"""The simulator's side of the lockstep protocol (host_sim/run/lockstep.py) against
a firmware that breaks it: each is named at once or at the stall limit, never waited
on for ever."""

import threading
from pathlib import Path

import pytest

from host_sim.run.lockstep import Firmware, FirmwareExited

START = 1_765_000_000_000


def _boot(folder: Path, main: str) -> str:
    """What booting main.py raised, within 20 s."""
    (folder / "main.py").write_text(main)
    said: list[BaseException] = []

    def boot() -> None:
        try:
            Firmware(start_ms=START, device=folder)
        except FirmwareExited as e:
            said.append(e)

    t = threading.Thread(target=boot, daemon=True)
    t.start()
    t.join(timeout=20)
    if t.is_alive():
        pytest.fail("the simulator and the firmware still wait on each other after 20 s")
    assert len(said) == 1
    return str(said[0])


def test_a_print_to_stdout_is_named_at_once_not_waited_on(tmp_path: Path) -> None:
    """stdout is the protocol's: a firmware's stray print() read as messages would leave
    the simulator waiting for bytes the firmware never sends, and the firmware waiting
    for its time. The simulator names the text and stops the process."""
    said = _boot(tmp_path, 'print("debug: fix ok")\nimport sys\nsys.stdin.buffer.read()\n')
    assert "outside the lockstep protocol" in said and "debug: fix ok" in said


def test_text_that_looks_like_a_message_is_caught_by_the_stall_limit(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A print() whose first letter is a message's kind ("Starting" reads as S, and
    "ta" as a length of 29,793 bytes) passes the kind check; no turn takes seconds, so
    the simulator's wait on it ends at the stall limit, with what it had read."""
    monkeypatch.setattr(Firmware, "STALL_S", 2.0)
    said = _boot(tmp_path, 'print("Starting")\nimport sys\nsys.stdin.buffer.read()\n')
    assert "no word from the firmware for 2 s" in said and "Starting" in said


def test_a_loop_that_never_waits_is_caught_by_the_stall_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the chip the watchdog resets a loop that never yields; here no W ever comes."""
    monkeypatch.setattr(Firmware, "STALL_S", 2.0)
    said = _boot(tmp_path, "while True:\n    pass\n")
    assert "no word from the firmware for 2 s" in said
