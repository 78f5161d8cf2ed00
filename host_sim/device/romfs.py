"""The firmware's modules as a ROMFS image (MicroPython's read-only filesystem,
`docs.micropython.org/en/latest/reference/romfs.html`): on a board built with
ROMFS, `mpremote romfs deploy` writes it to the flash partition the port mounts
at /rom, and imports run the bytecode in place from flash instead of copying it
into the heap, as frozen modules do.

The unix port has no such partition. The simulator's interpreter carries the C
module `hostmem` (boards/cmodules/unix/hostmem): firmware/main.py maps the image
named in EMTAG_ROMFS read-only outside the heap and mounts it at /rom, and the
host board keeps its UART receive buffers in memory outside the heap too, as an
ESP32's ESP-IDF driver does. So the heap the simulator measures is the heap a
ROMFS device would have."""

from __future__ import annotations

from pathlib import Path

from mpremote.romfs import VfsRomWriter

ENV = "EMTAG_ROMFS"


def image(files: list[tuple[Path, str]]) -> bytes:
    """A ROMFS image holding each (local file, name) at its root."""
    fs = VfsRomWriter()
    for local, name in sorted(files, key=lambda f: f[1]):
        fs.mkfile(name, local.read_bytes())
    data: bytes = fs.finalise()
    return data
