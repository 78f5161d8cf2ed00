"""A device's secrets: its HMAC key (32 bytes) and its technician token (16 bytes),
from the OS's random source (`secrets`), kept in files only their owner can read.

    tagsim keys new tag-0001 --out secrets

writes secrets/tag-0001.json ({"device_id", "key", "tech_token"}: what make deploy
SECRETS=… adds to the device's config.json) and adds the key to
secrets/centre-keys.json (what tagsim centre serve --keys reads). An existing
device's secrets are never overwritten: a new key would cut the device off."""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from host_sim.exits import KEY_BYTES, CliError, hex_bytes

TOKEN_BYTES = 16
CENTRE_KEYS = "centre-keys.json"
_DEVICE_ID = re.compile(r"^[A-Za-z0-9-]{1,8}$")  # the frame's 8-byte field (docs/frames.md)


def new(device: str, out: Path) -> Path:
    """Make the device's secrets in out; the file written."""
    if not _DEVICE_ID.match(device):
        raise CliError(f"device id {device!r}: 1 to 8 letters, digits or dashes (the frame holds 8)")
    path = out / f"{device}.json"
    if path.exists():
        raise CliError(f"{path} exists: {device} has its secrets already (remove the file to replace them, and "
                       f"deploy the device again)")
    centre = out / CENTRE_KEYS
    known = read(centre) if centre.exists() else {}
    key = secrets.token_hex(KEY_BYTES)
    out.mkdir(parents=True, exist_ok=True)
    write_private(path, {"device_id": device, "key": key, "tech_token": secrets.token_hex(TOKEN_BYTES)})
    write_private(centre, {**known, device: key})
    return path


def read(path: Path) -> dict[str, Any]:
    try:
        given = json.loads(path.read_text())
    except OSError as e:
        raise CliError(f"{path}: cannot be read ({e.strerror})") from None
    except ValueError as e:
        raise CliError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(given, dict):
        raise CliError(f"{path}: expected a JSON object")
    return given


def device_secrets(path: Path) -> dict[str, str]:
    """A device's secrets file, checked: its key 32 bytes and its token 8 to 32, in hex."""
    given = read(path)
    for field in ("device_id", "key", "tech_token"):
        if not isinstance(given.get(field), str):
            raise CliError(f"{path}: no {field}; make the file with tagsim keys new")
    hex_bytes(given["key"], f"{path}: key", (KEY_BYTES, KEY_BYTES))
    hex_bytes(given["tech_token"], f"{path}: tech_token", (8, 32))
    return {k: given[k] for k in ("device_id", "key", "tech_token")}


def token(given: str, flag: str) -> str:
    """A technician token as a command line gives it: hex, or @FILE, the device's secrets file."""
    if given.startswith("@"):
        given = device_secrets(Path(given[1:]))["tech_token"]
    hex_bytes(given, flag, (8, 32))
    return given


def write_private(path: Path, data: dict[str, Any]) -> None:
    """data as JSON in a file only its owner can read or write, from its first byte."""
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)
