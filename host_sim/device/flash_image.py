"""The host board's flash partition read on the host: flash.bin in a device's folder
(boards/host_board.py) is LittleFS v2 on 4 KiB blocks, as MicroPython lays out an
ESP32's "vfs" partition; littlefs-python, an implementation of its own, opens it."""

from __future__ import annotations

from pathlib import Path

import littlefs

BLOCK = 4096
IMAGE = "flash.bin"


def files(folder: Path) -> dict[str, bytes]:
    """Every file at the partition's top level, by name."""
    data = (folder / IMAGE).read_bytes()
    fs = littlefs.LittleFS(block_size=BLOCK, block_count=len(data) // BLOCK, mount=False)
    fs.context.buffer = bytearray(data)
    fs.mount()
    out = {}
    for name in fs.listdir("/"):
        with fs.open(name, "rb") as f:
            out[name] = f.read()
    return out
