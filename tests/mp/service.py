# Runs inside MicroPython as a long-lived helper for host tests: one JSON
# request per line on stdin, [module, function, args], one JSON reply per
# line on stdout: {"ok": result} or {"error": traceback}.
import io
import json
import sys


def main():
    modules = {}
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        try:
            mod_name, fn, args = json.loads(line)
            mod = modules.get(mod_name)
            if mod is None:
                mod = modules[mod_name] = __import__(mod_name)
            text = json.dumps({"ok": getattr(mod, fn)(*args)})
        except Exception as e:
            buf = io.StringIO()
            sys.print_exception(e, buf)
            text = json.dumps({"error": buf.getvalue()})
        sys.stdout.write(text + "\n")


main()
