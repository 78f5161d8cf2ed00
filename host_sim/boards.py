"""Board definitions (boards/*.json) as the host tools read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from host_sim.paths import BOARDS


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


def path(name: str) -> Path:
    return BOARDS / f"{name}.json"


def flashable() -> list[str]:
    return [n for n in names() if load(n)["flash_offset"] is not None]
