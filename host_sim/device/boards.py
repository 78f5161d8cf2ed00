"""Board definitions (boards/*.json) as the host tools read them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from host_sim.paths import BOARDS, BUILD

# for the host tools and people only: a device's board.json goes without them,
# as the parsed definition stays in the device's heap for its whole run
HOST_ONLY = ("title", "notes", "flash_offset", "image", "mpy_arch")


class BoardError(ValueError):
    """An unknown board, or one that cannot do what was asked."""


def names() -> list[str]:
    return sorted(p.stem for p in BOARDS.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    path = BOARDS / f"{name}.json"
    if not name or not path.exists():
        shown = name or "(none given)"
        raise BoardError(f"unknown BOARD {shown}; choose one of: {', '.join(names())}")
    defn: dict[str, Any] = json.loads(path.read_text())
    return defn


def changed(defn: dict[str, Any], changes: dict[str, Any] | None) -> dict[str, Any]:
    """defn with changes made: a part given as a mapping changes those keys of the part
    (a new part if it had none), anything else replaces it."""
    out = dict(defn)
    for key, value in (changes or {}).items():
        out[key] = {**(defn.get(key) or {}), **value} if isinstance(value, dict) else value
    return out


def flashable() -> list[str]:
    return [n for n in names() if load(n)["flash_offset"] is not None]


def device_copy(name: str, folder: Path = BUILD / "boards") -> Path:
    """The definition as the device gets it (without HOST_ONLY), written in folder."""
    defn = {k: v for k, v in load(name).items() if k not in HOST_ONLY}
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{name}.json"
    tmp = folder / f"{name}.json.{os.getpid()}"  # parallel simulator runs write it too
    tmp.write_text(json.dumps(defn, separators=(",", ":")))
    os.replace(tmp, out)
    return out
