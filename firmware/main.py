# Boot. MicroPython compiles this file into the heap, so it only finds the
# firmware's modules and hands over to start.py, which runs from flash like the
# rest: a ROMFS board has them at /rom already; under the simulator the ROMFS
# image named in EMTAG_ROMFS is mapped outside the heap by the host's
# interpreter (hostmem, host_sim/device/romfs.py) and mounted here.
import os
import sys

_rom = getattr(os, "getenv", lambda name: None)("EMTAG_ROMFS")  # ESP32 ports have no getenv
if _rom:
    import hostmem  # type: ignore[import-not-found]  # the simulator's interpreter only
    import vfs

    vfs.mount(vfs.VfsRom(hostmem.rom(_rom)), "/rom")  # type: ignore[attr-defined]  # not in the stubs yet
    sys.path.insert(0, "/rom")

import start  # noqa: E402  (from /rom, once it is there)

start.run()
