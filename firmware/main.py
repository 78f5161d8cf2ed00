# Boot. MicroPython compiles this file into the heap, so it only finds the
# firmware's modules and hands over to start.py, which runs from flash like the
# rest: a ROMFS board has them at /rom already; under the simulator the ROMFS
# image is mapped outside the heap (host_sim/romfs.py) and named in EMTAG_ROMFS
# ("address:size"), and mounted here.
import os
import sys

_rom = getattr(os, "getenv", lambda name: None)("EMTAG_ROMFS")  # ESP32 ports have no getenv
if _rom:
    import uctypes
    import vfs

    _addr, _size = (int(x) for x in _rom.split(":"))
    vfs.mount(vfs.VfsRom(uctypes.bytearray_at(_addr, _size)), "/rom")  # type: ignore[attr-defined]  # not in the stubs yet
    sys.path.insert(0, "/rom")

import start  # noqa: E402  (from /rom, once it is there)

start.run()
