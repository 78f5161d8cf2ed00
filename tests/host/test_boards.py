"""Board definitions, and the firmware booting on the host board."""

import ast
import json
import os
import re
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from host_sim.device import boards, device_image, flash_image, mp, romfs
from host_sim.paths import FIRMWARE, ROOT

REQUIRED = ("name", "title", "role", "driver", "chip", "flash_offset", "image", "mpy_arch", "gnss",
            "modem", "battery", "strap", "led", "ble", "watchdog_s")
DEVICES = {
    # name: chip, offset, image, arch, role (../shared/reference/hardware.md sections 1 and 2)
    "lilygo_t_sim7000g": ("esp32", "0x1000", "ESP32_GENERIC-SPIRAM", "xtensawin", "tag"),
    "devkitc_neo_m8n_sim800l": ("esp32", "0x1000", "ESP32_GENERIC", "xtensawin", "tag"),
    "lilygo_t_a7670e_fase": ("esp32", "0x1000", "ESP32_GENERIC-SPIRAM", "xtensawin", "tag"),
    "esp32c3_devkitm_1": ("esp32c3", "0x0", "ESP32_GENERIC_C3", "rv32imc", "hmu"),
    "esp32_alcohol_sim7000g": ("esp32", "0x1000", "ESP32_GENERIC-SPIRAM", "xtensawin", "alcohol"),
}


def test_host_board_runs_compiled_modules() -> None:
    assert boards.load("host")["mpy_arch"] == "x86"


def test_the_six_boards_exist() -> None:
    assert set(boards.names()) == {*DEVICES, "host"}


@pytest.mark.parametrize("name", boards.names())
def test_definition_is_complete(name: str) -> None:
    defn = boards.load(name)
    for key in REQUIRED:
        assert key in defn, f"{name} lacks {key}"
    assert defn["name"] == name
    assert defn["role"] in ("tag", "hmu", "alcohol")
    assert (ROOT / "boards" / f"{defn['driver']}.py").exists()
    assert (FIRMWARE / f"{defn['role']}.py").exists()
    if defn["role"] == "tag":
        assert defn["gnss"] and defn["modem"] and defn["strap"]
    if defn["role"] == "alcohol":  # its sensors' driver, deployed beside the board's
        assert defn["strap"] and (ROOT / "boards" / f"{defn['alcohol']['driver']}.py").exists()
    assert {"scan_interval_us", "scan_window_us"} <= defn["ble"].keys()
    assert defn["ble"]["scan_window_us"] <= defn["ble"]["scan_interval_us"]
    for part in ("gnss", "modem", "link"):
        spec = defn.get(part)
        if spec and spec.get("source", "uart") == "uart":
            assert spec["rxbuf"] >= 256  # the UART driver's receive buffer, which the host board sizes by too
            if defn["chip"] != "unix":  # the link may keep the UART's default pins
                assert ({"uart", "baud"} if part == "link" else {"uart", "tx", "rx", "baud"}) <= spec.keys()


@pytest.mark.parametrize("name", sorted(DEVICES))
def test_device_facts(name: str) -> None:
    defn = boards.load(name)
    chip, offset, image, arch, role = DEVICES[name]
    assert (defn["chip"], defn["flash_offset"], defn["image"], defn["mpy_arch"], defn["role"]) == (
        chip, offset, image, arch, role)


def test_a7670_holds_poweron_high() -> None:
    defn = boards.load("lilygo_t_a7670e_fase")
    assert defn["modem"]["hold_high"] == [12]
    assert (defn["modem"]["tx"], defn["modem"]["rx"]) == (26, 27)


def _boot(tmp_path: Path, board: Path | None = None, run_s: str = "3") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMTAG_")}
    env["EMTAG_RUN_S"] = run_s
    if board:
        env["EMTAG_BOARD"] = str(board)
    return subprocess.run([mp.micropython(), "firmware/main.py"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)


def test_main_boots_and_stops_on_the_host_board(tmp_path: Path) -> None:
    proc = _boot(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "emtag tag unset on host" in proc.stderr
    assert proc.stdout.startswith("STAT sentences=0 ")  # its last words on the console
    assert not (ROOT / "events.log").exists()  # its flash is not the source tree


@pytest.mark.parametrize("vfs_kb", [64, 2048])
def test_the_flash_is_the_definitions_partition_as_littlefs(tmp_path: Path, vfs_kb: int) -> None:
    """The host board's storage is a LittleFS v2 partition of the definition's size:
    blank on first boot (formatted, as an ESP32's first boot does), kept on the next,
    and what littlefs-python (an implementation of its own) reads holds the firmware's
    boot records, each sound by its CRC."""
    image = device_image.build(tmp_path / "tag", {"device_id": "t1", "key": "00" * 32},
                               board_changes={"flash": {"vfs_kb": vfs_kb}})
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMTAG_")}
    env |= {"EMTAG_RUN_S": "2", "EMTAG_STORAGE": str(image), romfs.ENV: str(image / device_image.ROM_IMAGE)}
    for _ in range(2):
        proc = subprocess.run([mp.micropython(), "main.py"], cwd=image, env=env, capture_output=True, text=True,
                              timeout=30)
        assert proc.returncode == 0, proc.stderr
    assert (image / flash_image.IMAGE).stat().st_size == vfs_kb * 1024
    log = flash_image.files(image)["events.log"]
    records = [log[i : i + 36] for i in range(0, len(log), 36)]
    assert len(records) == 2 and all(zlib.crc32(r[:32]) == struct.unpack_from("<I", r, 32)[0] for r in records)
    first, second = (struct.unpack_from("<I", r)[0] for r in records)
    assert [r[8] for r in records] == [11, 11] and first == 1 < second  # the counter's next block after a reboot


def test_main_boots_the_home_unit_role(tmp_path: Path) -> None:
    defn = boards.load("host") | {"role": "hmu", "name": "host-hmu"}
    path = tmp_path / "host_hmu.json"
    path.write_text(json.dumps(defn))
    (tmp_path / "host_board.py").write_text((ROOT / "boards" / "host_board.py").read_text())
    proc = _boot(tmp_path, path, run_s="125")
    assert proc.returncode == 0, proc.stderr
    assert "emtag hmu unset on host-hmu" in proc.stderr
    beats = [ln for ln in proc.stdout.splitlines() if ln.startswith("BEAT ")]
    assert len(beats) == 3  # at 0, 60 and 120 s of virtual time


@pytest.mark.parametrize(("given", "said"), [
    ('"status_period": 5', "unknown key 'status_period'"),
    ('"key": "abcd"', "'key' must be 64 hex digits"),
    ('"key": "' + "g0" * 32 + '"', "'key' must be 64 hex digits"),
    ('"tech_token": "00112233"', "'tech_token' must be 16 to 64 hex digits"),
    ('"tech_token": "' + "0" * 17 + '"', "'tech_token' must be 16 to 64 hex digits"),
    ('"pair_key": "' + "5a" * 33 + '"', "'pair_key' must be 32 to 64 hex digits"),
    ('"beacon_id": "0000abc"', "'beacon_id' must be 8 hex digits"),
])
def test_broken_config_is_refused_with_the_key(tmp_path: Path, given: str, said: str) -> None:
    bad = tmp_path / "config.json"
    bad.write_text('{"device_id": "t1", ' + given + '}')
    env = {**os.environ, "EMTAG_RUN_S": "1", "EMTAG_CONFIG": str(bad)}
    env.pop("EMTAG_SIM", None)
    proc = subprocess.run([mp.micropython(), "firmware/main.py"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert said in proc.stderr


def _names(part: str) -> set[str]:
    # the `names` before the dash of each "- " line
    lines = [line.split(" - ")[0] for line in part.splitlines() if line.startswith("- ")]
    return {n for line in lines for n in re.findall(r"`(\w+)`", line)}


def _contract() -> tuple[set[str], set[str]]:
    """The methods and attributes docs/architecture.md says every board provides."""
    text = (ROOT / "docs" / "architecture.md").read_text().split("## The board contract")[1]
    methods_part, attrs_part = text.split("Attributes:")
    return _names(methods_part), _names(attrs_part)


@pytest.mark.parametrize("driver", ["host_board", "esp32_board"])
def test_each_board_keeps_the_documented_contract(driver: str) -> None:
    """Read from the source (the ESP32 board cannot run here): its Board class defines
    every documented method and assigns every documented attribute."""
    tree = ast.parse((ROOT / "boards" / f"{driver}.py").read_text())
    board = next(c for c in tree.body if isinstance(c, ast.ClassDef) and c.name == "Board")
    methods = {f.name for f in board.body if isinstance(f, ast.FunctionDef)}
    attrs = {n.attr for n in ast.walk(board) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
             and isinstance(n.value, ast.Name) and n.value.id == "self"}
    want_methods, want_attrs = _contract()
    assert len(want_methods) >= 15 and len(want_attrs) >= 12
    assert want_methods <= methods, want_methods - methods
    assert want_attrs <= attrs, want_attrs - attrs


_STACK_PROBE = """
import json, micropython, sys
def depth(n):
    try:
        return depth(n + 1)
    except RuntimeError:
        return n
sys.path.insert(0, "{chain}")
import m1  # m1 imports m2, which imports m3: each says how deep in the C stack it ran
free = depth(0)
import host_board
host_board.Board(json.load(open("boards/host.json")))
print(json.dumps([m1.USE, free, depth(0)]))
"""


def test_the_host_board_holds_the_stack_to_the_esp32s(tmp_path: Path) -> None:
    """An ESP32's MicroPython task has 16 KiB of C stack (less a 1 KiB margin); the unix
    port allows 40,000 bytes, so a firmware that recursed or nested its imports too deep
    for the chip ran here. The host board holds it to the chip's. And a nested import
    costs here what it costs there, a path buffer of 128 bytes, not the PC's 4096."""
    chain = tmp_path / "chain"
    chain.mkdir()
    for i in (1, 2, 3):
        nxt = f"import m{i + 1}\n" if i < 3 else ""
        (chain / f"m{i}.py").write_text(f"import micropython\nUSE = [micropython.stack_use()]\n{nxt}"
                                        + (f"USE += m{i + 1}.USE\n" if i < 3 else ""))
    script = tmp_path / "probe.py"
    script.write_text(_STACK_PROBE.format(chain=chain))
    proc = mp.run(script)
    assert proc.returncode == 0, proc.stderr
    use, free, held = json.loads(proc.stdout)
    assert all(0 < b - a < 1024 for a, b in zip(use, use[1:], strict=False)), use
    assert 0 < held < free / 2, (free, held)  # 15,360 bytes against 40,000


_RADIO_PROBE = """
import json, sys
import host_board
with open("{defn}") as f:
    board = host_board.Board(json.load(f))
heard = []
for hears in (1, 32, 32, 0):  # GNSS (1): awake, not listening; RADIO (32): a beacon listened for
    board.wait(1000, hears)  # an advert arrives during each wait
    got = board.radio.recv()
    heard.append(got[1].hex() if got else None)
with open("{out}", "w") as f:
    json.dump([heard, board.radio.dropped], f)
"""


def _message(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack(">H", len(payload)) + payload


def test_the_host_boards_radio_hears_only_while_the_firmware_listens(tmp_path: Path) -> None:
    """As the ESP32 board's radio scans only while the firmware listens for a beacon
    (wait()'s RADIO), the host board's hears adverts only then, and tells the simulator
    when it starts and stops scanning (P scan=1|0), which the energy model charges."""
    defn, out = tmp_path / "host.json", tmp_path / "out.json"
    defn.write_text(json.dumps(boards.load("host")))
    script = tmp_path / "probe.py"
    script.write_text(_RADIO_PROBE.format(defn=defn, out=out))
    adverts = [bytes([k]) * 12 for k in (1, 2, 3, 4)]
    feed = _message(b"T", struct.pack(">I", 0)) + b"".join(
        _message(b"R", struct.pack(">b", -60) + adv) + _message(b"T", struct.pack(">I", 1000 * (k + 1)))
        for k, adv in enumerate(adverts))
    env = mp.env() | {"EMTAG_SIM": "1", "EMTAG_STORAGE": str(tmp_path)}
    proc = subprocess.run([mp.micropython(), str(script)], input=feed, env=env, capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr.decode()
    heard, dropped = json.loads(out.read_text())
    assert heard == [None, adverts[1].hex(), adverts[2].hex(), None] and dropped == 2
    told = []  # the waits, and the scan switched, in the order the board said them
    rest = proc.stdout
    while len(rest) >= 3:
        kind, n = rest[:1], int.from_bytes(rest[1:3], "big")
        if kind == b"W" or rest[3 : 3 + n].startswith(b"scan="):
            told.append(b"W" if kind == b"W" else rest[3 : 3 + n])
        rest = rest[3 + n :]
    assert told == [b"W", b"scan=1", b"W", b"W", b"scan=0", b"W"]
