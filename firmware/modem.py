# A TCP session to the centre through an AT-command modem (SIM7000, SIM800,
# A7670), as a transport with the shape of a UART: write() what the link sends,
# readinto() what came back. Behind it a state machine, run every loop turn,
# powers the modem, waits for registration, attaches, opens the socket, sends,
# fetches received data, and on ERROR, +CME ERROR, a timeout or a closed socket
# starts again, backing off; after repeated failure it power-cycles the modem.
from micropython import const

_SYNC = const(0)
_INIT = const(1)
_REG = const(2)
_ATTACH = const(3)
_OPEN = const(4)
_READY = const(5)
_OFF = const(6)

_REG_POLL_MS = const(2000)
_REG_LIMIT_MS = const(60000)
_BACKOFF_MS = const(5000)
_BACKOFF_MAX_MS = const(300000)
_RESET_AFTER = const(3)
_CHUNK = const(512)
_IN_BOX = const(1600)  # one whole frame from the centre (the link takes up to 1536)
_OUT_BOX = const(1100)  # two whole event frames

class _Dialect:
    # attach and open scripts (command, success line, timeout ms), the send and
    # receive commands, and the lines that say the socket closed
    def __init__(self, reg, attach, opening, send, sent, rx_urc, rx, rx_head, closed):
        self.reg = reg
        self.attach = attach
        self.opening = opening
        self.send = send
        self.sent = sent
        self.rx_urc = rx_urc
        self.rx = rx
        self.rx_head = rx_head
        self.closed = closed


_SIMCOM_ATTACH = (("AT+CIPSHUT", "SHUT OK", 5000), ("AT+CIPMUX=0", "OK", 1000), ("AT+CIPRXGET=1", "OK", 1000),
                  ('AT+CSTT="{apn}"', "OK", 2000), ("AT+CIICR", "OK", 60000), ("AT+CIFSR;E0", "OK", 2000))
_SIMCOM_OPEN = (('AT+CIPSTART="TCP","{host}",{port}', "CONNECT OK", 30000),)
_SIMCOM_CLOSED = ("CLOSED", "CONNECT FAIL", "SEND FAIL")


def _simcom(reg):
    return _Dialect(reg, _SIMCOM_ATTACH, _SIMCOM_OPEN, "AT+CIPSEND={n}", "SEND OK", "+CIPRXGET: 1",
                    "AT+CIPRXGET=2,{n}", "+CIPRXGET: 2,", _SIMCOM_CLOSED)


DIALECTS = {
    "sim7000": _simcom("AT+CEREG?"),
    "sim800": _simcom("AT+CREG?"),
    "a7670": _Dialect(
        "AT+CEREG?",
        (('AT+CGDCONT=1,"IP","{apn}"', "OK", 2000), ("AT+CGATT=1", "OK", 10000), ("AT+CIPRXGET=1", "OK", 1000),
         ("AT+NETOPEN", "+NETOPEN: 0", 30000)),
        (('AT+CIPOPEN=0,"TCP","{host}",{port}', "+CIPOPEN: 0,0", 30000),),
        "AT+CIPSEND=0,{n}", "+CIPSEND: 0,", "+CIPRXGET: 1,0", "AT+CIPRXGET=2,0,{n}", "+CIPRXGET: 2,0,",
        ("+IPCLOSE: 0", "+CIPCLOSE: 0", "+CIPERROR"),
    ),
}


def _shift(buf, n, used):
    # drop the first n of the used bytes of buf
    mv = memoryview(buf)
    mv[: used - n] = mv[n:used]


class Modem:
    def __init__(self, board, loop, cfg, dialect):
        if dialect not in DIALECTS:
            raise ValueError("modem dialect %r: expected one of %s" % (dialect, ", ".join(DIALECTS)))
        self.board = board
        self.uart = board.modem
        self.loop = loop
        self.d = DIALECTS[dialect]
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
        self._line = bytearray()
        self._raw_left = 0  # bytes of received data still to come after a +CIPRXGET: 2 header
        self._rx = bytearray(128)
        self._script = _SIMCOM_OPEN  # replaced by each phase's script
        self._step = 0
        self._expect = None
        self._prompt = False  # waiting for '>' before sending data
        self._pending = b""  # data for the send in progress
        self._want_rx = False
        self._busy = False
        self._backoff = _BACKOFF_MS
        self._reg_started = 0
        self._timeout = loop.timer(self._timed_out)
        self._wake = loop.timer(self._restart)
        self._reg_timer = loop.timer(self._poll_reg)
        self._skip_lf = False
        loop.poll(self._poll)
        loop.arm(self._wake, 0)

    # the transport ----------------------------------------------------------
    def write(self, data):
        # Taken only while a session is up and there is room for all of it: the link
        # sends again what it could not hand over.
        n = len(data)
        if self.state != _READY or self._out_n + n > _OUT_BOX:
            return 0
        self._out[self._out_n : self._out_n + n] = data
        self._out_n += n
        return n

    def readinto(self, buf):
        n = min(len(buf), self._in_n)
        if n:
            buf[:n] = memoryview(self._in)[:n]
            _shift(self._in, n, self._in_n)
            self._in_n -= n
        return n

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
        self.uart.write(text.encode() + b"\r")
        self.loop.arm(self._timeout, timeout)

    def _done(self):
        s = self.state
        if s == _SYNC:
            self._run(_INIT, (("ATE0", "OK", 1000), ("AT+CMEE=1", "OK", 1000), ("AT+CSQ", "OK", 1000)))
        elif s == _INIT:
            self.registered = False
            self._reg_started = self.board.ticks_ms()
            self._run(_REG, ((self.d.reg, "OK", 2000),))
        elif s == _REG:
            if self.registered:
                self._run(_ATTACH, self.d.attach)
            elif self.board.ticks_ms() - self._reg_started > _REG_LIMIT_MS:
                self._fail()
            else:
                self._busy = False
                self.loop.arm(self._reg_timer, _REG_POLL_MS)
        elif s == _ATTACH:
            self._run(_OPEN, self.d.opening)
        else:
            self.state = _READY
            self.failures = 0
            self._backoff = _BACKOFF_MS
            self._busy = False
            self._ready()

    def _poll_reg(self, now):
        if self.state == _REG:
            self._run(_REG, ((self.d.reg, "OK", 2000),))

    def _fail(self):
        self._timeout.armed = False
        self._out_n = 0  # the session is gone; the link sends its frames again
        self._pending = b""
        self.failures += 1
        self._busy = self._prompt = False
        self._expect = None
        self.state = _SYNC
        self.loop.arm(self._wake, self._backoff)
        self._backoff = min(2 * self._backoff, _BACKOFF_MAX_MS)

    def _timed_out(self, now):
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
            self._want_rx = False
            self._command(self.d.rx.format(n=_CHUNK), "OK", 5000)
        elif self._out_n:
            self._pending = bytes(memoryview(self._out)[: min(_CHUNK, self._out_n)])
            self._prompt = True
            self._command(self.d.send.format(n=len(self._pending)), self.d.sent, 10000)

    # lines from the modem ----------------------------------------------------
    def _poll(self, now):
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
        if self._prompt and b == 0x3E and not self._line:  # '>': the modem takes the data now
            self._prompt = False
            self.uart.write(self._pending)
            return
        if b == 0x0A or b == 0x0D:
            if self._line:
                line = bytes(self._line).decode()
                self._line = bytearray()
                self._on_line(line)
        elif len(self._line) < 120 and 0x20 <= b < 0x7F:
            self._line.append(b)
        else:
            self.errors += 1  # garbage: not a line a modem sends

    def _on_line(self, line):
        d = self.d
        if line.startswith(d.rx_urc) and not line.startswith(d.rx_head):
            self._want_rx = True
            return
        if line.startswith(d.rx_head):
            parts = line[len(d.rx_head) :].split(",")
            try:
                self._raw_left = int(parts[0])
                self._skip_lf = True
                if len(parts) > 1 and int(parts[1]) > 0:
                    self._want_rx = True
            except ValueError:
                self.errors += 1
            return
        for c in d.closed:
            if line.startswith(c):
                if self.state == _READY or self._busy:
                    self._fail()
                return
        if line.startswith("+CSQ: "):
            try:
                self.rssi = int(line[6:].split(",")[0])
            except ValueError:
                self.errors += 1
        elif line.startswith("+CEREG: ") or line.startswith("+CREG: "):
            fields = line.split(":")[1].split(",")
            stat = fields[1].strip() if len(fields) > 1 else ""
            self.registered = stat in ("1", "5")
            if stat == "3":  # registration denied: no point asking again soon
                self._reg_started -= _REG_LIMIT_MS
        if not self._busy or self._expect is None:
            return
        if line == "ERROR" or line.startswith("+CME ERROR") or line.startswith("+CMS ERROR"):
            self.errors += 1
            if self.state == _SYNC:
                return
            self._fail()
        elif line.startswith(self._expect):
            self._timeout.armed = False
            self._busy = False
            if self.state == _READY:
                if self._pending:
                    _shift(self._out, len(self._pending), self._out_n)
                    self._out_n -= len(self._pending)
                    self._pending = b""
                self._ready()
            elif self.state == _SYNC:
                self._step = len(self._script)
                self._next()
            else:
                self._step += 1
                self._next()
