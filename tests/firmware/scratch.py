# Folders of a test's own for the files it writes, removed when the test
# ends (tests/mp/runner.py): parallel runs never share one, and none is left behind.
import os

_made = []


def folder(prefix):
    try:
        tag = "".join("%02x" % b for b in os.urandom(6))
    except AttributeError:  # a board without a random source runs one test file at a time
        tag = str(len(_made))
    path = "/tmp/%s-%s" % (prefix, tag)
    os.mkdir(path)
    _made.append(path)
    return path


def _remove(path):
    for name, kind, *_ in os.ilistdir(path):
        sub = path + "/" + name
        if kind == 0x4000:
            _remove(sub)
        else:
            os.remove(sub)
    os.rmdir(path)


def remove_all():
    while _made:
        _remove(_made.pop())
