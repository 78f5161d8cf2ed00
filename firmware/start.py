# Start the device: find its board definition, build the board's ports, run the
# application for its role (tag or hmu).
#
# The definition is board.json beside main.py on a device; on the unix port it
# is $EMTAG_BOARD, or boards/host.json in the source tree. The device
# configuration is config.json (on the unix port $EMTAG_CONFIG), if present.
import gc
import json
import os
import sys

import config


def _getenv(name):
    get = getattr(os, "getenv", None)  # the unix port has it, ESP32 ports do not
    return get(name) if get else None


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


def _board():
    here = __file__.rpartition("/")[0]
    path, text = _first_readable(
        (_getenv("EMTAG_BOARD"), "board.json", (here or ".") + "/../boards/host.json")
    )
    defn = json.loads(text)
    folder = path.rpartition("/")[0]
    if folder and folder not in sys.path:
        sys.path.append(folder)
    return __import__(defn["driver"]).Board(defn)  # the board keeps what it needs of defn


def _main():
    board = _board()
    cfg_path = _getenv("EMTAG_CONFIG") or ("config.json" if _exists("config.json") else None)
    cfg = config.load(cfg_path)
    if _exists(board.storage + "/pairing"):  # pairing.PATH: its module only on a paired device
        import pairing

        cfg = pairing.apply(cfg, board.storage, board.log)
    gc.collect()  # loading modules leaves garbage: clear it before the next, big, one
    role = __import__(board.role)
    gc.collect()
    app = role.App(board, cfg)
    gc.collect()
    app.run()
    board.close()


def run():
    try:
        _main()
    except Exception as e:  # the unix port prints tracebacks to stdout, the simulator's channel
        sys.print_exception(e, sys.stderr)
        sys.exit(1)
