"""make flash and make deploy, as a firmware engineer types them."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from host_sim.device import deploy, mp, mpy_gate, romfs
from host_sim.device.pty_device import PtyDevice
from host_sim.paths import ROOT, venv_tool

CENTRE = "192.0.2.10:7600"  # TEST-NET-1: a documentation address


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_flash_dry_run_esp32() -> None:
    proc = _make("flash", "BOARD=lilygo_t_sim7000g", "PORT=/dev/null", "FIRMWARE=x.bin", "DRY_RUN=1")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines == [
        "esptool --chip esp32 --port /dev/null erase-flash",
        "esptool --chip esp32 --port /dev/null --baud 460800 write-flash -z 0x1000 x.bin",
    ]


def test_flash_dry_run_esp32c3() -> None:
    proc = _make("flash", "BOARD=esp32c3_devkitm_1", "PORT=/dev/null", "FIRMWARE=x.bin", "DRY_RUN=1")
    assert proc.returncode == 0, proc.stderr
    assert "--chip esp32c3" in proc.stdout and "write-flash -z 0x0 x.bin" in proc.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["BOARD=nope", "PORT=/dev/null", "FIRMWARE=x.bin"], "unknown BOARD nope; choose one of: "),
        (["PORT=/dev/null", "FIRMWARE=x.bin"], "no BOARD given; choose one of: "),
        (["BOARD=host", "PORT=/dev/null", "FIRMWARE=x.bin"], "BOARD host is the unix port, nothing to flash"),
        (["BOARD=lilygo_t_sim7000g", "FIRMWARE=x.bin"], "no PORT given"),
        (["BOARD=lilygo_t_sim7000g", "PORT=/dev/null"], "no FIRMWARE given"),
        (["BOARD=lilygo_t_sim7000g", "PORT=/dev/null", "FIRMWARE=missing.bin"],
         "FIRMWARE missing.bin is not a file"),
    ],
)
def test_flash_bad_input_is_one_clear_line(args: list[str], says: str) -> None:
    proc = _make("flash", *args)
    assert proc.returncode != 0
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("make flash:")]
    assert len(errors) == 1 and says in errors[0], proc.stderr
    if "BOARD" in says:
        assert "lilygo_t_sim7000g" in errors[0] and "esp32c3_devkitm_1" in errors[0]


def test_deploy_bad_input() -> None:
    proc = _make("deploy", "BOARD=nope", "PORT=/dev/null")
    assert proc.returncode != 0 and "unknown BOARD nope; choose one of:" in proc.stderr
    proc = _make("deploy", "BOARD=lilygo_t_sim7000g")
    assert proc.returncode != 0 and "no PORT given" in proc.stderr


@pytest.mark.parametrize(("centre", "said"), [
    ("", "centre_host is the example's centre.example.net; give CENTRE=HOST:PORT"),
    ("192.0.2.10", "CENTRE '192.0.2.10': expected HOST:PORT"),
    ("192.0.2.10:70000", "CENTRE '192.0.2.10:70000': expected HOST:PORT"),
])
def test_deploy_refuses_a_tag_that_could_not_reach_its_centre(centre: str, said: str) -> None:
    proc = _make("deploy", "BOARD=lilygo_t_sim7000g", "PORT=/dev/null", f"CENTRE={centre}", "DRY_RUN=1")
    assert proc.returncode != 0 and said in proc.stderr and "mpremote" not in proc.stdout


def _esp32_build_and_device(tmp_path: Path) -> tuple[Path, Path]:
    """(the compiled modules, an empty folder for the device's filesystem)"""
    mpy_dir = tmp_path / "mpy"
    assert mpy_gate.main(["--out", str(mpy_dir)]) == 0
    device = tmp_path / "device"
    device.mkdir()
    return mpy_dir, device


def test_deploy_to_a_micropython_repl_on_a_pty(tmp_path: Path) -> None:
    """mpremote copies the compiled ESP32 build into a real raw REPL over a pty."""
    mpy_dir, device = _esp32_build_and_device(tmp_path)
    with PtyDevice.repl(device) as dev:
        rc = deploy.main(["--board", "lilygo_t_sim7000g", "--port", dev.port, "--mpy", str(mpy_dir),
                          "--config", str(ROOT / "devices/example-tag.json"), "--centre", CENTRE, "--no-reset"])
    assert rc == 0
    expected = deploy.files("lilygo_t_sim7000g", ROOT / "devices/example-tag.json", mpy_dir)
    assert sorted(p.name for p in device.iterdir()) == sorted(name for _, name in expected)
    for local, name in expected:
        if name != "config.json":
            assert (device / name).read_bytes() == local.read_bytes(), name
    example = json.loads((ROOT / "devices/example-tag.json").read_text())
    assert json.loads((device / "config.json").read_text()) == example | {"centre_host": "192.0.2.10",
                                                                          "centre_port": 7600}
    assert (device / "esp32_board.mpy").exists() and (device / "nmea.mpy").exists()


def test_deployed_host_build_boots(tmp_path: Path) -> None:
    """The host board's deploy (sources) runs from the device folder alone."""
    device = tmp_path / "device"
    device.mkdir()
    with PtyDevice.repl(device) as dev:
        rc = deploy.main(["--board", "host", "--port", dev.port,
                          "--config", str(ROOT / "devices/example-tag.json"), "--centre", CENTRE, "--no-reset"])
    assert rc == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMTAG_", "MICROPYPATH"))}
    env["EMTAG_RUN_S"] = "2"
    proc = subprocess.run([mp.micropython(), "main.py"], cwd=device, env=env, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "emtag tag tag-0001 on host" in proc.stderr


def test_pyserial_ports_tool_exists() -> None:
    assert shutil.which("pyserial-ports") or Path(venv_tool("pyserial-ports")).exists()


def test_deploy_romfs_dry_run_puts_the_modules_in_one_image() -> None:
    proc = _make("deploy", "BOARD=lilygo_t_sim7000g", "PORT=/dev/null", f"CENTRE={CENTRE}", "ROMFS=1", "DRY_RUN=1")
    assert proc.returncode == 0, proc.stderr
    (line,) = [x for x in proc.stdout.splitlines() if x.startswith("mpremote")]
    cmd = line.split()
    image = ROOT / "build" / "romfs" / "lilygo_t_sim7000g.romfs"
    assert cmd[:6] == ["mpremote", "connect", "/dev/null", "resume", "romfs", "deploy"] and cmd[6] == str(image)
    copied = [cmd[i + 3] for i, w in enumerate(cmd) if w == "cp"]
    assert copied == [":main.py", ":board.json", ":config.json"]  # no loose module beside the image
    expected = deploy.split(deploy.files("lilygo_t_sim7000g", ROOT / "devices/example-tag.json"))[0]
    assert image.read_bytes() == romfs.image(expected) and len(expected) > 25


def test_deploy_romfs_to_a_board_without_romfs_says_so(tmp_path: Path) -> None:
    """The unix port behind the pty, like a stock ESP32 build, has no ROMFS: mpremote says so."""
    mpy_dir, device = _esp32_build_and_device(tmp_path)
    with PtyDevice.repl(device) as dev:
        proc = subprocess.run([sys.executable, "-m", "host_sim.device.deploy", "--board", "lilygo_t_sim7000g",
                               "--port", dev.port, "--mpy", str(mpy_dir), "--romfs", "--no-reset",
                               "--config", str(ROOT / "devices/example-tag.json"), "--centre", CENTRE],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "ROMFS is not enabled on this device" in proc.stdout + proc.stderr
    assert list(device.iterdir()) == []  # stopped before copying anything
