"""The firmware's modules as a ROMFS image (MicroPython's read-only filesystem,
`docs.micropython.org/en/latest/reference/romfs.html`): on a board built with
ROMFS, `mpremote romfs deploy` writes it to the flash partition the port mounts
at /rom, and imports run the bytecode in place from flash instead of copying it
into the heap, as frozen modules do.

The unix port has no such partition. `python -m host_sim.romfs IMAGE ARGS...`
stands in for it: it maps the image into memory outside the MicroPython heap,
says where in EMTAG_ROMFS ("address:size"), and runs the interpreter with ARGS;
firmware/main.py mounts it at /rom. It also maps the UART drivers' memory,
EMTAG_UART_RAM ("address:size"): on the ESP32 a UART's receive buffer is the
ESP-IDF driver's (uart_driver_install allocates it outside the MicroPython heap),
and the host board keeps its ports' buffers there too. So the heap the simulator
measures is the heap a ROMFS device would have, at the unix port's 64-bit object
sizes."""

from __future__ import annotations

import ctypes
import mmap
import os
import sys
from pathlib import Path

from mpremote.romfs import VfsRomWriter

ENV = "EMTAG_ROMFS"
UART_ENV = "EMTAG_UART_RAM"
UART_RAM = 8192  # the host board's ports take 1024 + 1024 + 2048 + 128 bytes


def image(files: list[tuple[Path, str]]) -> bytes:
    """A ROMFS image holding each (local file, name) at its root."""
    fs = VfsRomWriter()
    for local, name in sorted(files, key=lambda f: f[1]):
        fs.mkfile(name, local.read_bytes())
    data: bytes = fs.finalise()
    return data


def _address(region: mmap.mmap) -> int:
    return ctypes.addressof(ctypes.c_char.from_buffer(region))


def main(argv: list[str]) -> int:
    import micropython_run  # the interpreter the micropython command wraps

    data = Path(argv[0]).read_bytes()
    rom = mmap.mmap(-1, len(data))  # like flash: not the interpreter's heap, and there for its whole life
    rom[:] = data
    uart = mmap.mmap(-1, UART_RAM)
    os.environ[ENV] = f"{_address(rom)}:{len(data)}"
    os.environ[UART_ENV] = f"{_address(uart)}:{UART_RAM}"
    code: int = micropython_run.run_main(["micropython", *argv[1:]])
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
