# Runs inside MicroPython: imports one firmware test file, calls each test_*
# function, and writes one JSON line per test to the result file ("-": stdout,
# as on the QEMU board, where the host reads them from its serial REPL).
import io
import json
import sys


def run(path, out):
    folder, _, name = path.rpartition("/")
    sys.path.insert(0, folder or ".")
    try:
        mod = __import__(name[:-3])
    except Exception as e:  # a broken test file fails every test in it
        out.write(json.dumps({"name": "<import>", "ok": False, "tb": _trace(e)}) + "\n")
        return
    for test in sorted(n for n in dir(mod) if n.startswith("test_")):
        try:
            getattr(mod, test)()
            out.write(json.dumps({"name": test, "ok": True}) + "\n")
        except Exception as e:
            out.write(json.dumps({"name": test, "ok": False, "tb": _trace(e)}) + "\n")
        scratch = sys.modules.get("scratch")
        if scratch:
            scratch.remove_all()  # each test's files gone before the next: a board's flash is small


def _trace(e):
    buf = io.StringIO()
    sys.print_exception(e, buf)
    return buf.getvalue()


if __name__ == "__main__":
    with open(sys.argv[2], "w") as f:
        run(sys.argv[1], f)
