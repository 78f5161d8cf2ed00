"""Each expected failure of the command-line tools is one line with the documented exit
code (host_sim/exits.py), and leaves nothing half-made behind."""

import os
import pty
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tty
from pathlib import Path

import pytest

from host_sim.centre.server import Centre
from host_sim.paths import ROOT

OK, FAILED, BAD_INPUT, ENVIRONMENT, INTERRUPTED = 0, 1, 2, 3, 130


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    module = "host_sim.tagctl" if args[0] == "tagctl" else "host_sim.tagsim"
    return subprocess.run([sys.executable, "-m", module, *args[1:]], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env=env)


def _one_line(proc: subprocess.CompletedProcess[str], code: int, says: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def test_a_missing_scenario_is_bad_input() -> None:
    _one_line(_cli("tagsim", "run", "no-such.yaml"), BAD_INPUT, "no-such.yaml: no such file or folder")


def test_a_port_in_use_is_the_environment_and_leaves_no_database(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        db = tmp_path / "centre.db"
        _one_line(_cli("tagsim", "centre", "serve", "--db", str(db), "--port", str(port)), ENVIRONMENT,
                  f"cannot listen on 127.0.0.1:{port}")
    assert list(tmp_path.iterdir()) == []  # the database it had made is gone again


@pytest.mark.parametrize(("text", "says"), [
    (None, "cannot be read"),
    ('{"tag-0001": ', "not valid JSON"),
    ('["tag-0001"]', "expected a JSON object"),
    ('{"tag-0001": 7}', "expected a JSON object of hex keys"),
    ('{"tag-0001": "not hex at all"}', "tag-0001's key is not hex"),
    ('{"tag-0001": "abcd"}', "tag-0001's key is 2 bytes: expected 32 bytes (64 hex digits)"),
])
def test_a_bad_keys_file_is_bad_input(tmp_path: Path, text: str | None, says: str) -> None:
    keys, db = tmp_path / "keys.json", tmp_path / "centre.db"
    if text is not None:
        keys.write_text(text)
    _one_line(_cli("tagsim", "centre", "serve", "--db", str(db), "--port", "0", "--keys", str(keys)), BAD_INPUT,
              says)
    assert not db.exists()


def _filled(path: Path) -> Path:
    c = Centre(path)
    c.register("tag-0001", bytes(32))
    with c.db.transaction():
        c.db.executemany("INSERT INTO events (device, seq, utc, kind, received_ms) VALUES ('tag-0001', ?, ?, 10, 0)",
                         [(i, 1_796_000_000 + i) for i in range(1, 3000)])
    c.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.db.close()
    return path


@pytest.mark.parametrize("damage", ["garbage", "truncated", "newer"])
def test_a_database_not_ours_is_bad_input(tmp_path: Path, damage: str) -> None:
    db = tmp_path / "centre.db"
    if damage == "garbage":
        db.write_bytes(b"these are not the pages you are looking for\n" * 100)
        says = "not a readable emtag centre database"
    elif damage == "truncated":
        data = _filled(db).read_bytes()
        db.write_bytes(data[: len(data) // 2])
        says = "not a readable emtag centre database"
    else:
        _filled(db)
        with sqlite3.connect(db) as con:
            con.execute("PRAGMA user_version = 99")
        says = "a centre database from a newer emtag"
    _one_line(_cli("tagsim", "centre", "events", "--db", str(db)), BAD_INPUT, says)


@pytest.mark.parametrize(("args", "says"), [
    (("--speed", "0"), "0 must be above 0"),
    (("--token", "xyz"), "--token is not hex"),
    (("--token", "abcd"), "--token is 2 bytes: expected 8 to 32 bytes"),
])
def test_bad_device_arguments_are_bad_input(args: tuple[str, ...], says: str) -> None:
    proc = _cli("tagsim", "device", "scenarios/strap-cut.yaml", *args)
    assert proc.returncode == BAD_INPUT and says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_tagctl_checks_a_token_before_speaking() -> None:
    _one_line(_cli("tagctl", "--port", "/dev/null", "fit", "--token", "xyz"), BAD_INPUT, "--token is not hex")


def _interrupted(tmp_path: Path, sig: int, *args: str) -> subprocess.CompletedProcess[str]:
    """The command started with its temporary folders in tmp_path, signalled once it has
    made them, and waited for."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    # Ctrl-C's default restored: a shell starting this suite in the background leaves SIGINT
    # ignored, and a child keeps what it inherits
    proc = subprocess.Popen([sys.executable, "-m", "host_sim.tagsim", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not any(tmp_path.glob("emtag-sim-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any(tmp_path.glob("emtag-sim-*")), "the run never made its folder"
    time.sleep(1)  # its firmware running
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_ctrl_c_on_a_run_exits_130_and_removes_its_folders(tmp_path: Path) -> None:
    proc = _interrupted(tmp_path, signal.SIGINT, "run", "scenarios/day-in-the-life-24h.yaml", "--jobs", "1")
    _one_line(proc, INTERRUPTED, "tagsim: interrupted")
    assert list(tmp_path.glob("emtag-*")) == []  # the keys written for the firmware went with them


def test_sigterm_on_a_virtual_tag_removes_its_key(tmp_path: Path) -> None:
    proc = _interrupted(tmp_path, signal.SIGTERM, "device", "scenarios/strap-cut.yaml", "--speed", "10")
    _one_line(proc, INTERRUPTED, "tagsim: interrupted")
    assert list(tmp_path.glob("emtag-*")) == []


def test_a_reader_that_goes_away_is_no_error() -> None:
    master, slave = pty.openpty()
    tty.setraw(slave)
    fix = "FIX 1796083200 0 524534000 -19110000 1 1\n"
    log = subprocess.Popen([sys.executable, "-m", "host_sim.tagctl", "--port", os.ttyname(slave), "log",
                            "--seconds", "3"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        os.write(master, (fix * 5000).encode())  # more than a pipe holds: the reader must take them
        assert log.stdout is not None
        log.stdout.readline()  # `| head -1`: one line, then gone
        log.stdout.close()
        assert log.stderr is not None
        err = log.stderr.read().decode()
        assert log.wait(timeout=30) == OK and err == ""
    finally:
        os.close(master)
        os.close(slave)
