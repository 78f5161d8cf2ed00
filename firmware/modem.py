# A TCP session to the centre through an AT-command modem (SIM7000, SIM800,
# A7670), as a transport: write_frame() what the link sends (SLIP-encoded into the
# box it is sent from), readinto() what came back. Behind it a state machine, run every loop turn,
# powers the modem, waits for registration, attaches, opens the socket, sends,
# fetches received data, and on ERROR, +CME ERROR, a timeout or a closed socket
# starts again, backing off; after repeated failure it power-cycles the modem.
# Once registered it asks the modem for the cell's time (AT+CCLK?), which the
# network sets when the dialect's time command asked for it. In session with
# nothing to say, the modem sleeps (AT+CSCLK=1, DTR high) where the board has a
# DTR line; data from the centre wakes the board by the ring line where it has
# one, and the board says so (woke()), the bytes that woke it being lost.
import time

import civil
import frames
from micropython import const

# states, in order (diag.py names them for the technician)
_SYNC = const(0)
_INIT = const(1)
_REG = const(2)
_ATTACH = const(3)
_OPEN = const(4)
_READY = const(5)
_OFF = const(6)
_CLOCK = const(7)

_REG_POLL_MS = const(2000)
_REG_LIMIT_MS = const(60000)
_BACKOFF_MS = const(5000)
_BACKOFF_MAX_MS = const(300000)
_RESET_AFTER = const(3)
_CHUNK = const(512)
_IN_BOX = const(64)  # the link drains it every loop turn; a fetch asks for no more than the room
_OUT_BOX = const(580)  # one whole event frame of the link's (8 events), every byte escaped, SLIP-encoded here
_LINE_MAX = const(120)
_HEAR_REPLY = const(2)  # of board.wait()'s hears (docs/power.md): an answer is due
_HEAR_CENTRE = const(4)  # a session is open: data may come (the ring line can wake for it)
_DTR_WAKE_MS = const(50)  # DTR low to the first command: the modem's UART is awake again

# A dialect is a tuple: the registration query, the attach and open scripts (steps of
# command, success line, timeout ms), the send command and its success line, the line
# saying data waits, the receive command and its answer's head, the lines that say the
# socket closed, the command that lets the network set the modem's clock. A tuple,
# not a class: fewer names in the device's heap.
_D_REG = const(0)
_D_ATTACH = const(1)
_D_OPEN = const(2)
_D_SEND = const(3)
_D_SENT = const(4)
_D_RX_URC = const(5)
_D_RX = const(6)
_D_RX_HEAD = const(7)
_D_CLOSED = const(8)
_D_NET_TIME = const(9)


def _dialect(name):
    # built when a modem speaks it: the others' scripts stay out of the heap
    if name in ("sim7000", "sim800"):
        return (
            "AT+CEREG?" if name == "sim7000" else "AT+CREG?",
            (("AT+CIPSHUT", "SHUT OK", 5000), ("AT+CIPMUX=0", "OK", 1000), ("AT+CIPRXGET=1", "OK", 1000),
             ('AT+CSTT="{apn}"', "OK", 2000), ("AT+CIICR", "OK", 60000), ("AT+CIFSR;E0", "OK", 2000)),
            (('AT+CIPSTART="TCP","{host}",{port}', "CONNECT OK", 30000),),
            "AT+CIPSEND={n}", "SEND OK", "+CIPRXGET: 1", "AT+CIPRXGET=2,{n}", "+CIPRXGET: 2,",
            ("CLOSED", "CONNECT FAIL", "SEND FAIL"),
            "AT+CLTS=1",
        )
    if name == "a7670":
        return (
            "AT+CEREG?",
            (('AT+CGDCONT=1,"IP","{apn}"', "OK", 2000), ("AT+CGATT=1", "OK", 10000), ("AT+CIPRXGET=1", "OK", 1000),
             ("AT+NETOPEN", "+NETOPEN: 0", 30000)),
            (('AT+CIPOPEN=0,"TCP","{host}",{port}', "+CIPOPEN: 0,0", 30000),),
            "AT+CIPSEND=0,{n}", "+CIPSEND: 0,", "+CIPRXGET: 1,0", "AT+CIPRXGET=2,0,{n}", "+CIPRXGET: 2,0,",
            ("+IPCLOSE: 0", "+CIPCLOSE: 0", "+CIPERROR"),
            "AT+CTZU=1",
        )
    raise ValueError("modem dialect %r: expected one of sim7000, sim800, a7670" % name)


def cclk_utc(line):
    # '+CCLK: "yy/MM/dd,hh:mm:ss+zz"' (local time; zz quarter hours east of UTC) as
    # UTC seconds; 0 if malformed, or a modem's own default date (1970 or 1980, written
    # 70 and 80, or any year before 2024): the network has not given it the time
    q = line.find('"')
    t = line[q + 1 : q + 22] if q >= 0 else ""
    if len(t) != 21 or t[2] + t[5] + t[8] + t[11] + t[14] + t[17] + t[20] not in ('//,::+"', '//,::-"'):
        return 0
    for c in t[0:2] + t[3:5] + t[6:8] + t[9:11] + t[12:14] + t[15:17] + t[18:20]:
        if not "0" <= c <= "9":
            return 0
    y, mo, d = int(t[0:2]), int(t[3:5]), int(t[6:8])
    h, mi, s, tz = int(t[9:11]), int(t[12:14]), int(t[15:17]), int(t[18:20])
    if not (24 <= y < 70 and civil.valid_date(2000 + y, mo, d) and h < 24 and mi < 60 and s < 60 and tz <= 56):
        return 0
    local = civil.days_from_civil(2000 + y, mo, d) * 86400 + h * 3600 + mi * 60 + s
    return local - tz * 900 if t[17] == "+" else local + tz * 900


def _shift(buf, n, used):
    # drop the first n of the used bytes of buf
    mv = memoryview(buf)
    mv[: used - n] = mv[n:used]


class Modem:
    def __init__(self, board, loop, cfg, dialect, on_time):
        self.board = board
        self._on_time = on_time  # called with the cell's UTC ms
        self.uart = board.modem
        self.loop = loop
        self.d = _dialect(dialect)
        self.fill = {"apn": cfg["apn"], "host": cfg["centre_host"], "port": cfg["centre_port"]}
        self.state = _OFF
        self.rssi = 99  # AT+CSQ, 99 unknown
        self.registered = False
        self.failures = 0
        self.resets = 0
        self.errors = 0
        self._in = bytearray(_IN_BOX)  # from the centre, for readinto(); fixed, so the heap stays whole
        self._in_n = 0
        self._out = bytearray(_OUT_BOX)  # for the centre, while a session is up
        self._out_n = 0
        self._line = bytearray(_LINE_MAX)  # the line coming in, _line_n bytes of it
        self._line_n = 0
        self._raw_left = 0  # bytes of received data still to come after a +CIPRXGET: 2 header
        self._rx = bytearray(64)  # drained until empty each turn: a small bite is enough
        self._script = (("AT", "OK", 1000),)  # replaced by each phase's script
        self._step = 0
        self._expect = None
        self._prompt = False  # waiting for '>' before sending data
        self._pending = 0  # bytes at the head of _out in the send in progress
        self._want_rx = False
        self._busy = False
        self._backoff = _BACKOFF_MS
        self._reg_started = board.ticks_ms()
        self._timeout = loop.timer(self._timed_out)
        self._wake = loop.timer(self._restart)
        self._reg_timer = loop.timer(self._poll_reg)
        self._skip_lf = False
        self._dozing = False  # the modem sleeps on DTR
        self._held = None  # (command, timeout) waiting for the modem to wake: the timeout timer wakes it
        loop.poll(self._poll)
        loop.arm(self._wake, 0)

    # the transport ----------------------------------------------------------
    def write_frame(self, frame):
        # SLIP-encoded straight into the box the modem sends from, no copy between. Taken
        # only while a session is up and there is room for all of it: the link sends
        # again what it could not hand over.
        n = frames.slip_len(frame)
        if self.state != _READY or self._out_n + n > _OUT_BOX:
            return 0
        self._out_n += frames.slip_into(frame, memoryview(self._out)[self._out_n :])
        self._ready()  # on its way now, not at the next turn (which may be a long sleep away)
        return n

    def readinto(self, buf):
        n = min(len(buf), self._in_n)
        if n:
            buf[:n] = memoryview(self._in)[:n]
            _shift(self._in, n, self._in_n)
            self._in_n -= n
            if self._want_rx:  # more waits at the modem, and now there is room: fetch it at once
                self._ready()
        return n

    def session_up(self):
        return self.state == _READY

    # the state machine ------------------------------------------------------
    def _restart(self, now):
        if self.failures >= _RESET_AFTER or self.state == _OFF:
            self.board.modem_power(False)
            self.board.modem_power(True)
            if self.state != _OFF:
                self.resets += 1
            self.failures = 0
        # up to three tries; the first OK will do
        self._run(_SYNC, (("AT", "OK", 1000), ("AT", "OK", 1000), ("AT", "OK", 1000)))

    def _run(self, state, script):
        self.state = state
        self._script = script
        self._step = 0
        self._next()

    def _next(self):
        if self._step >= len(self._script):
            self._done()
            return
        cmd, expect, timeout = self._script[self._step]
        self._command(cmd.format(**self.fill), expect, timeout)

    def _command(self, text, expect, timeout):
        self._expect = expect
        self._busy = True
        if self._dozing:  # wake it first: what it is sent asleep it never hears
            self._dozing = False
            self.board.modem_sleep(False)
            self._held = (text, timeout)
            self.loop.arm(self._timeout, _DTR_WAKE_MS)
            return
        self.uart.write(text.encode() + b"\r")
        self.loop.arm(self._timeout, timeout)

    def hears(self):
        # what the board must hear while it waits (bits of board.wait()'s hears)
        if self._busy or self._prompt or self._raw_left or (self._want_rx and self.state == _READY):
            return _HEAR_REPLY
        return _HEAR_CENTRE if self.state == _READY else 0

    def _done(self):
        s = self.state
        if s == _SYNC:
            self._run(_INIT, (("ATE0", "OK", 1000), ("AT+CMEE=1", "OK", 1000), (self.d[_D_NET_TIME], "OK", 1000),
                              ("AT+CSCLK=1", "OK", 1000), ("AT+CSQ", "OK", 1000)))
        elif s == _INIT:
            self.registered = False
            self._reg_started = self.board.ticks_ms()
            self._run(_REG, ((self.d[_D_REG], "OK", 2000),))
        elif s == _REG:
            if self.registered:
                self._run(_CLOCK, (("AT+CCLK?", "OK", 1000),))
            elif time.ticks_diff(self.board.ticks_ms(), self._reg_started) > _REG_LIMIT_MS:
                self._fail()
            else:
                self._busy = False
                self.loop.arm(self._reg_timer, _REG_POLL_MS)
        elif s == _CLOCK:
            self._run(_ATTACH, self.d[_D_ATTACH])
        elif s == _ATTACH:
            self._run(_OPEN, self.d[_D_OPEN])
        else:
            self.state = _READY
            self.failures = 0
            self._backoff = _BACKOFF_MS
            self._busy = False
            self._ready()

    def _poll_reg(self, now):
        if self.state == _REG:
            self._run(_REG, ((self.d[_D_REG], "OK", 2000),))

    def _fail(self):
        self.loop.disarm(self._timeout)
        self._held = None
        self._out_n = 0  # the session is gone; the link sends its frames again
        self._pending = 0
        self.failures += 1
        self._busy = self._prompt = False
        self._expect = None
        self.state = _SYNC
        self.loop.arm(self._wake, self._backoff)
        self._backoff = min(2 * self._backoff, _BACKOFF_MAX_MS)

    def _timed_out(self, now):
        if self._held:  # awake again: the command goes now
            text, timeout = self._held
            self._held = None
            self.uart.write(text.encode() + b"\r")
            self.loop.arm(self._timeout, timeout)
            return
        if self._busy:
            if self.state == _SYNC and self._step + 1 < len(self._script):
                self._step += 1
                self._next()
                return
            self._fail()

    def _ready(self):
        # In session: fetch what arrived, else send what waits.
        if self._busy or self.state != _READY:
            return
        if self._want_rx:
            room = _IN_BOX - self._in_n
            if room:  # else the link has not read the last fetch yet: ask next turn
                self._want_rx = False
                self._command(self.d[_D_RX].format(n=room), "OK", 5000)
        elif self._out_n:
            self._pending = min(_CHUNK, self._out_n)
            self._prompt = True
            self._command(self.d[_D_SEND].format(n=self._pending), self.d[_D_SENT], 10000)
        elif not self._dozing and self.board.modem_sleep(True):
            self._dozing = True

    # lines from the modem ----------------------------------------------------
    def _poll(self, now):
        if self.board.woke(_HEAR_CENTRE) and self.state == _READY:  # data waits: its announcement was lost
            self._want_rx = True
        while True:
            n = self.uart.readinto(self._rx)
            if not n:
                break
            for i in range(n):
                self._byte(self._rx[i])
        self._ready()

    def _byte(self, b):
        if self._skip_lf:  # the LF ending a data header is not data
            self._skip_lf = False
            if b == 0x0A:
                return
        if self._raw_left:
            if self._in_n < _IN_BOX:
                self._in[self._in_n] = b
                self._in_n += 1
            self._raw_left -= 1
            return
        if self._prompt and b == 0x3E and not self._line_n:  # '>': the modem takes the data now
            self._prompt = False
            self.uart.write(memoryview(self._out)[: self._pending])
            return
        if b == 0x0A or b == 0x0D:
            if self._line_n:
                line = str(memoryview(self._line)[: self._line_n], "ascii")
                self._line_n = 0
                self._on_line(line)
        elif self._line_n < _LINE_MAX and 0x20 <= b < 0x7F:
            self._line[self._line_n] = b
            self._line_n += 1
        else:
            self.errors += 1  # garbage: not a line a modem sends

    def _on_line(self, line):
        d = self.d
        if line.startswith(d[_D_RX_URC]) and not line.startswith(d[_D_RX_HEAD]):
            self._want_rx = True
            return
        if line.startswith(d[_D_RX_HEAD]):
            parts = line[len(d[_D_RX_HEAD]) :].split(",")
            try:
                self._raw_left = int(parts[0])
                self._skip_lf = True
                if len(parts) > 1 and int(parts[1]) > 0:
                    self._want_rx = True
            except ValueError:
                self.errors += 1
            return
        for c in d[_D_CLOSED]:
            if line.startswith(c):
                if self.state == _READY or self._busy:
                    self._fail()
                return
        if line.startswith("+CSQ: "):
            try:
                self.rssi = int(line[6:].split(",")[0])
            except ValueError:
                self.errors += 1
        elif line.startswith("+CCLK: "):
            utc = cclk_utc(line)
            if utc:
                self._on_time(utc * 1000)
        elif line.startswith("+CEREG: ") or line.startswith("+CREG: "):
            fields = line.split(":")[1].split(",")
            stat = fields[1].strip() if len(fields) > 1 else ""
            self.registered = stat in ("1", "5")
            if stat == "3":  # registration denied: no point asking again soon
                self._reg_started = time.ticks_add(self._reg_started, -_REG_LIMIT_MS)
        if not self._busy or self._expect is None:
            return
        if line == "ERROR" or line.startswith("+CME ERROR") or line.startswith("+CMS ERROR"):
            self.errors += 1
            if self.state == _SYNC:
                return
            self._fail()
        elif line.startswith(self._expect):
            self.loop.disarm(self._timeout)
            self._busy = False
            if self.state == _READY:
                if self._pending:
                    _shift(self._out, self._pending, self._out_n)
                    self._out_n -= self._pending
                    self._pending = 0
                self._ready()
            elif self.state == _SYNC:
                self._step = len(self._script)
                self._next()
            else:
                self._step += 1
                self._next()
