# The technician's console protocol on a console fed by the test: run inside MicroPython.
import gc

import diag
import scratch


class _Console:
    def __init__(self):
        self.inbox = b""
        self.out = []

    def readinto(self, buf):
        n = min(len(buf), len(self.inbox))
        buf[:n] = self.inbox[:n]
        self.inbox = self.inbox[n:]
        return n

    def write(self, data):
        self.out.append(bytes(data).decode())
        return len(data)


class _Board:
    name, chip, role, naps = "host", "unix", "tag", 7

    def __init__(self):
        self.console = _Console()
        self.storage = scratch.folder("emtag-diag")


def _diag():
    # the board and the configuration only: these commands read no other part
    return diag.Diag(_Board(), {"tech_token": "", "device_id": "tag-0001"}, None, None, None, None, None, None, None,
                     None, None)


def _ask(d, line):
    con = d.board.console
    con.inbox = line.encode() + b"\n"
    del con.out[:]
    d.poll()
    return con.out


def test_known_and_unknown_commands():
    d = _diag()
    assert _ask(d, "EMTAG?1 board") == ["EMTAG!1 board ok board=host chip=unix role=tag device=tag-0001 naps=7\n"]
    assert _ask(d, "EMTAG?1 version")[0].startswith("EMTAG!1 version ok firmware=")
    assert _ask(d, "EMTAG?1 __init__") == ["EMTAG!1 __init__ err unknown command\n"]
    assert _ask(d, "EMTAG?2 board") == ["EMTAG!1 - err protocol version: this tag speaks 1\n"]
    assert _ask(d, "EMTAG?1 fit 00") == ["EMTAG!1 fit err no technician token configured\n"]


def test_unknown_commands_leave_nothing_in_the_heap():
    # a console full of noise must not grow the interned names, which are never freed
    d = _diag()
    _ask(d, "EMTAG?1 nosuch")
    gc.collect()
    before = gc.mem_alloc()
    for i in range(400):
        assert _ask(d, "EMTAG?1 cmd%04dxyz" % i) == ["EMTAG!1 cmd%04dxyz err unknown command\n" % i]
    gc.collect()
    assert gc.mem_alloc() - before < 256, gc.mem_alloc() - before


class _Modem:
    state, registered, rssi, resets, errors = 5, 1, 17, 0, 2


def test_the_modem_and_battery_read_in_words():
    d = diag.Diag(_Board(), {"tech_token": "", "device_id": "tag-0001", "transport": "cellular"}, None, None, None,
                  None, _Modem(), None, None, None, None)
    assert _ask(d, "EMTAG?1 modem") == [
        "EMTAG!1 modem ok transport=cellular state=ready registered=yes rssi=17 resets=0 errors=2\n"]
    _Modem.state, _Modem.registered = 2, 0
    assert "state=registering registered=no" in _ask(d, "EMTAG?1 modem")[0]
