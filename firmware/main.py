# Boot: find this device's board definition, build the board's ports, run the
# application for its role (tag or hmu).
#
# The definition is board.json beside main.py on a device; on the unix port it
# is $EMTAG_BOARD, or boards/host.json in the source tree. The device
# configuration is config.json (on the unix port $EMTAG_CONFIG), if present.
import gc
import json
import os
import sys


def _getenv(name):
    get = getattr(os, "getenv", None)  # the unix port has it, ESP32 ports do not
    return get(name) if get else None


def _mount_rom():
    # A ROMFS board mounts its partition at /rom and puts it on sys.path by itself;
    # under the simulator the image is mapped outside the heap (host_sim/romfs.py)
    # and named in EMTAG_ROMFS.
    where = _getenv("EMTAG_ROMFS")
    if where:
        import uctypes
        import vfs

        addr, size = (int(x) for x in where.split(":"))
        vfs.mount(vfs.VfsRom(uctypes.bytearray_at(addr, size)), "/rom")  # type: ignore[attr-defined]  # not in the stubs yet
        sys.path.insert(0, "/rom")


_mount_rom()

import config  # noqa: E402  (from /rom, once it is there)


def _first_readable(paths):
    for path in paths:
        if path:
            try:
                with open(path) as f:
                    return path, f.read()
            except OSError:
                pass
    raise OSError("no board definition found in %s" % ", ".join(p for p in paths if p))


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def main():
    here = __file__.rpartition("/")[0]
    path, text = _first_readable(
        (_getenv("EMTAG_BOARD"), "board.json", (here or ".") + "/../boards/host.json")
    )
    defn = json.loads(text)
    folder = path.rpartition("/")[0]
    if folder and folder not in sys.path:
        sys.path.append(folder)
    board = __import__(defn["driver"]).Board(defn)
    cfg_path = _getenv("EMTAG_CONFIG") or ("config.json" if _exists("config.json") else None)
    cfg = config.load(cfg_path)
    gc.collect()  # loading modules leaves garbage: clear it before the next, big, one
    role = __import__(defn["role"])
    gc.collect()
    app = role.App(board, cfg)
    gc.collect()
    app.run()
    board.close()


try:
    main()
except Exception as e:  # the unix port prints tracebacks to stdout, the simulator's channel
    sys.print_exception(e, sys.stderr)
    sys.exit(1)
