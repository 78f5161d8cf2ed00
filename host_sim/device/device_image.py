"""A device's flash, laid out in a folder: what `make deploy` would copy to the
board, for the host board. The simulator runs `micropython main.py` in it, so the
firmware meets the same files, compiled the same way, as on a device."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from host_sim.device import boards, deploy, mpy_gate, romfs
from host_sim.paths import BOARDS, BUILD, FIRMWARE

ROM_IMAGE = "modules.romfs"


def build(dest: Path, config: dict[str, Any], zones_blob: bytes | None = None,
          board: str = "host", board_changes: dict[str, Any] | None = None, rom: bool = True) -> Path:
    """Fill dest with the board's firmware, board.json (with board_changes, e.g. the
    role or the modem's dialect), config.json and zones.bin. With rom, the compiled
    modules go into one ROMFS image, ROM_IMAGE (host_sim/device/romfs.py), not loose files."""
    arch = boards.load(board)["mpy_arch"]
    errors = mpy_gate.compile_arch([FIRMWARE, BOARDS], BUILD / "mpy", arch, stale_only=True)
    if errors:
        raise RuntimeError("firmware does not compile:\n" + "\n".join(errors))
    dest.mkdir(parents=True, exist_ok=True)
    config_file = dest / "config.json"
    config_file.write_text(json.dumps(config))
    modules, rest = deploy.split(deploy.files(board, config_file, changes=board_changes))
    if not rom:
        rest += modules
    for local, name in rest:
        if local != config_file:
            shutil.copyfile(local, dest / name)
    if rom and modules:
        (dest / ROM_IMAGE).write_bytes(romfs.image(modules))
    if board_changes:
        defn = json.loads((dest / "board.json").read_text())
        (dest / "board.json").write_text(json.dumps(boards.changed(defn, board_changes)))
    if zones_blob is not None:
        (dest / "zones.bin").write_bytes(zones_blob)
    return dest
