# Runs inside MicroPython: imports one firmware test file, calls each test_*
# function, and writes one JSON line per test to the result file.
import io
import json
import sys


def main():
    path, result_path = sys.argv[1], sys.argv[2]
    folder, _, name = path.rpartition("/")
    sys.path.insert(0, folder or ".")
    out = open(result_path, "w")
    try:
        mod = __import__(name[:-3])
    except Exception as e:  # a broken test file fails every test in it
        out.write(json.dumps({"name": "<import>", "ok": False, "tb": _trace(e)}) + "\n")
        out.close()
        return
    for test in sorted(n for n in dir(mod) if n.startswith("test_")):
        try:
            getattr(mod, test)()
            out.write(json.dumps({"name": test, "ok": True}) + "\n")
        except Exception as e:
            out.write(json.dumps({"name": test, "ok": False, "tb": _trace(e)}) + "\n")
    out.close()


def _trace(e):
    buf = io.StringIO()
    sys.print_exception(e, buf)
    return buf.getvalue()


main()
