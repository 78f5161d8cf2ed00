"""A device's secrets: made from the OS's random source, kept readable by their owner
only, never overwritten, checked wherever they are read, and added at deploy time."""

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from host_sim import keys
from host_sim.centre.server import load_keys
from host_sim.device import deploy
from host_sim.exits import CliError
from host_sim.paths import ROOT


def _tagsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "host_sim.tagsim", *args], capture_output=True, text=True, cwd=ROOT)


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_keys_new_makes_private_secrets_and_the_centres_keys(tmp_path: Path) -> None:
    out = tmp_path / "secrets"
    for device in ("tag-0001", "hmu-0001"):
        made = _tagsim("keys", "new", device, "--out", str(out))
        assert made.returncode == 0, made.stderr
    tag = json.loads((out / "tag-0001.json").read_text())
    assert tag["device_id"] == "tag-0001" and len(bytes.fromhex(tag["key"])) == 32
    assert len(bytes.fromhex(tag["tech_token"])) == 16
    centre = out / keys.CENTRE_KEYS
    assert load_keys(centre) == {"tag-0001": bytes.fromhex(tag["key"]),
                                 "hmu-0001": bytes.fromhex(json.loads((out / "hmu-0001.json").read_text())["key"])}
    assert all(_private(p) for p in out.iterdir()) and len(list(out.iterdir())) == 3
    before = (out / "tag-0001.json").read_text()
    again = _tagsim("keys", "new", "tag-0001", "--out", str(out))
    assert again.returncode == 2 and "exists" in again.stderr and (out / "tag-0001.json").read_text() == before
    assert _tagsim("keys", "new", "tag-00001", "--out", str(out)).returncode == 2  # 9 characters: not on the wire


def test_deploy_adds_the_secrets_to_the_config_and_checks_them(tmp_path: Path) -> None:
    made = keys.new("tag-0001", tmp_path / "s")
    config = deploy.device_config(ROOT / "devices/example-tag.json", made, "192.0.2.10:7600", tmp_path)
    given = json.loads(config.read_text())
    assert given["device_id"] == "tag-0001" and len(given["key"]) == 64 and _private(config)
    assert given["status_period_s"] == 300  # the example's own settings stand
    assert (given["centre_host"], given["centre_port"]) == ("192.0.2.10", 7600)
    other = keys.new("tag-0002", tmp_path / "s")
    with pytest.raises(CliError, match="is for tag-0001"):
        deploy.device_config(ROOT / "devices/example-tag.json", other, "192.0.2.10:7600", tmp_path)
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"device_id": "tag-0001", "key": "abcd", "tech_token": "00" * 16}))
    with pytest.raises(CliError, match="key is 2 bytes"):
        deploy.device_config(ROOT / "devices/example-tag.json", broken, "192.0.2.10:7600", tmp_path)


def test_tagctl_reads_the_token_from_the_secrets_file(tmp_path: Path) -> None:
    made = keys.new("tag-0001", tmp_path)

    def fit(token: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "host_sim.tagctl", "--port", "/dev/no-such-tag", "fit",
                               "--token", token], capture_output=True, text=True, cwd=ROOT)

    assert fit(f"@{made}").returncode == 3  # the token read and checked: then no device
    missing = fit(f"@{tmp_path / 'none.json'}")
    assert missing.returncode == 2 and "cannot be read" in missing.stderr
