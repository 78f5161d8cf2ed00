# The host board: the MicroPython unix port, its hardware carried by the simulator.
#
# Lockstep protocol on stdin (simulator -> firmware) and stdout (firmware ->
# simulator). Every message is one kind byte, a 16-bit big-endian length, then
# the payload:
#   simulator -> firmware: T time (4-byte ms since power-on), G GNSS UART bytes, M modem
#     UART bytes, S link (serial) bytes, C console bytes, I input "name=value"
#     (pins, ADC mV), R a BLE advert heard (signed RSSI byte, advertising data),
#     K cut the power during the next flash program, after 2-byte n bytes of it, Q quit,
#     H quiet until (4-byte ms since power-on): nothing arrives before then unless the
#     firmware writes to a UART or switches a part, Z the loop blocks (a fault: from the
#     next turn nothing completes, so nothing feeds the watchdog)
#   firmware -> simulator: W wait (4-byte ms, then 1 byte: 1 light sleep, 0 awake), G/M/S/C
#     bytes the firmware writes to that UART or console, L log line, P power
#     "part=0|1" (gnss, modem, dtr: the modem's sleep line, scan: the radio listening),
#     A a BLE advert sent (advertising data), X the power is cut now (after K): the firmware stops dead,
#     mid-program, N now (4-byte ms since power-on, 4-byte turns run since the last
#     N, then the ms of those turns' waits spent awake and in light sleep) before
#     anything sent after turns the firmware ran on its own, B the chip resets now
#     (1 byte, the next boot's reset cause: 3 the watchdog bit, 5 machine.reset())
# The firmware sends W when it has nothing to do; the simulator then delivers
# whatever happens up to the next deadline and ends with T, the new time. Before a
# quiet time (H) the firmware runs its own deadlines without asking, as long as it
# has said nothing the simulator answers (G, M, S, P): the turns are the same, the
# round trips fewer.
# Without EMTAG_SIM=1 in the environment the board runs standalone: virtual time,
# no input, for EMTAG_RUN_S seconds (default 10); the console goes to stdout,
# logs to stderr, and link frames nowhere.
#
# Sleep: as the ESP32 board, light sleep only when the board can be woken for all
# the firmware must hear (docs/power.md); awake otherwise.
# Bytes that reach a UART while the board sleeps are lost, as the chip's are; the
# modem's wake it by the ring line where the definition wires one, the console's by
# its RX line (woke() says which), the rest not at all (docs/power.md).
# The watchdog: as the ESP32's, armed at power-on with the definition's watchdog_s;
# the loop feeds it each completed turn and the board never sleeps longer than half
# of it. A firmware that goes that long without a turn is reset (B), flash kept; the
# next boot's reset_cause() says so (EMTAG_RESET, machine.WDT_RESET's 3).
# The flash: the board definition's "vfs" partition (flash.vfs_kb) as LittleFS v2,
# as MicroPython lays it out on an ESP32, on 4 KiB erase blocks kept in flash.bin
# beside the image (erased to 0xFF on first use, formatted on first boot); the
# firmware's storage is that filesystem, so it fills when the partition does.
import gc
import os
import struct
import sys

import vfs
from micropython import const

_MSG_CAP = const(64)
# of wait()'s hears (docs/power.md): what the ring line covers; what the console's RX
# line wakes the board for (a session, which then keeps it awake)
_HEAR_CENTRE = const(4)
_HEAR_CONSOLE = const(16)
_HEAR_RADIO = const(32)  # a beacon listened for: the radio scans only then, as the ESP32 board's
_HEARD_CAP = const(16)  # adverts waiting to be read
_CONSOLE_RXBUF = const(256)  # the USB console's: a technician's longest line (pair, about 140 bytes) fits whole
# As strict as an ESP32: the RTC powers on at 2000-01-01 until the firmware sets
# it, and ticks_ms starts five minutes before its 2**30 wrap. The board counts
# time from power-on in a small integer; only the RTC's reading is a big one.
_RTC_POWER_ON_MS = const(946684800000)
_TICKS_BEFORE_WRAP = const(300000)
_BLOCK = const(4096)  # the ESP32's flash erase sector
_TASK_STACK = const(15360)  # the ESP32 port's MicroPython task: 16 KiB of stack, less its 1 KiB check margin
_FLASH_MOUNT = "/flash"


def _flash_folder():
    # A deployed image's folder is its flash; run from the source tree, the flash is
    # a folder of its own, so the tree never fills with store files.
    try:
        os.stat("board.json")
        return "."
    except OSError:
        pass
    try:
        os.mkdir("/tmp/emtag-host")
    except OSError:
        pass
    return "/tmp/emtag-host"


class Flash:
    # A block device on flash.bin, as LittleFS drives one (readblocks, writeblocks
    # with offsets, ioctl). Writes go straight to the file: a process killed keeps
    # what it had programmed, as a chip keeps it through a power cut.
    def __init__(self, board, path, blocks, erased):
        self._board = board
        self._blocks = blocks
        self._erased = erased  # one block of 0xFF, outside the heap where it can be
        try:
            self._f = open(path, "r+b")
        except OSError:
            self._f = open(path, "w+b")
            for _ in range(blocks):
                self._f.write(erased)
        self.cut_after = -1  # armed by K: bytes still programmed before the power goes

    def readblocks(self, n, buf, off=0):
        self._f.seek(n * _BLOCK + off)
        self._f.readinto(buf)

    def writeblocks(self, n, buf, off=0):
        self._f.seek(n * _BLOCK + off)
        if 0 <= self.cut_after < len(buf):
            self._f.write(memoryview(buf)[: self.cut_after])
            self._board._power_cut()
        self._f.write(buf)
        if self.cut_after > 0:
            self.cut_after -= len(buf)

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self._blocks
        if op == 5:  # block size
            return _BLOCK
        if op == 6:  # erase
            self._f.seek(arg * _BLOCK)
            self._f.write(self._erased)
        return 0


def _mount_flash(board, folder, vfs_kb, erased):
    # (the ESP32 stubs make VfsLfs2 an abstract block device and want one of their
    # class: a block device is a protocol in MicroPython, hence the ignores)
    dev = Flash(board, folder + "/flash.bin", vfs_kb * 1024 // _BLOCK, erased)
    try:
        vfs.mount(vfs.VfsLfs2(dev), _FLASH_MOUNT)  # type: ignore[abstract, arg-type]
    except OSError:  # a blank partition: formatted, as an ESP32's first boot does
        vfs.VfsLfs2.mkfs(dev)  # type: ignore[arg-type]
        vfs.mount(vfs.VfsLfs2(dev), _FLASH_MOUNT)  # type: ignore[abstract, arg-type]
    return dev


def _chip_memory(caps):
    # What the chip has outside the MicroPython heap. The ports' receive buffers live in
    # the UART drivers' memory (on the ESP32 the ESP-IDF driver's), and the C stack is
    # the MicroPython task's, held to its size. Under the simulator's interpreter its
    # hostmem module gives both; elsewhere (the PyPI interpreter) the buffers are in the
    # heap and the stack is the PC's.
    try:
        import hostmem  # type: ignore[import-not-found]  # the simulator's interpreter only
    except ImportError:
        return [bytearray(n) for n in caps]
    hostmem.stack(_TASK_STACK)
    return [hostmem.ram(n) for n in caps]


class Port:
    # A UART as the firmware sees it: readinto() what has arrived, write() out.
    def __init__(self, board, kind, buf):
        self._board = board
        self._kind = kind
        self._cap = len(buf)
        self._buf = buf
        self._n = 0
        self.overruns = 0

    def _take(self, n):
        # n bytes from the simulator straight into the buffer, as a UART's driver fills
        # its own; what does not fit is an overrun
        k = min(n, self._cap - self._n)
        if not self._board._fill(memoryview(self._buf)[self._n : self._n + k]):
            return False
        self._n += k
        self.overruns += n - k
        return self._board._skip(n - k)

    def any(self):
        return self._n

    def readinto(self, buf):
        n = min(len(buf), self._n)
        if n:
            mv = memoryview(self._buf)
            buf[:n] = mv[:n]
            rest = self._n - n
            if rest:
                mv[:rest] = mv[n : self._n]
            self._n = rest
        return n

    def write(self, data):
        self._board._send(self._kind, data)
        return len(data)


class Radio:
    # BLE as the firmware sees it: advertise() sends an A message; adverts the
    # simulator's RF model delivers (R) wait in a short queue for recv(), if they come
    # while the radio scans: while the firmware listens for a beacon (Board.wait()).
    def __init__(self, board):
        self._board = board
        self._heard = []
        self.dropped = 0

    def advertise(self, adv, interval_ms):
        self._board._send(b"A", adv)

    def recv(self):
        return self._heard.pop(0) if self._heard else None

    def _arrive(self, payload):
        if len(self._heard) >= _HEARD_CAP:
            self.dropped += 1
            return
        rssi = payload[0] - 256 if payload[0] > 127 else payload[0]
        self._heard.append((rssi, bytes(payload[1:])))


class Board:
    def __init__(self, defn):
        # what the firmware needs of the definition, taken now: the parsed whole is not kept
        self.name, self.role, self.chip = defn["name"], defn["role"], defn["chip"]
        modem = defn.get("modem") or {}
        self.dialect = modem.get("dialect")
        self._dtr = modem.get("dtr") is not None
        self._wakes = _HEAR_CENTRE if modem.get("ri") is not None else 0  # what a wake source covers
        self._asleep = 0  # 1: in light sleep until the simulator's next T
        self._scanning = False  # the radio: while the firmware listens for a beacon
        self._woke = 0  # the wake sources that fired, not yet asked about (woke())
        self.naps = 0  # light sleeps taken: the technician sees the board sleep (diag)
        self._own_awake = self._own_light = 0  # ms own turns waited (not yet told in N)
        self.has_strap, self.has_case = bool(defn.get("strap")), bool(defn.get("case"))
        # the level each switch reads closed (-1: none fitted)
        self._strap_shut = defn["strap"]["closed"] if self.has_strap else -1
        self._case_shut = defn["case"]["closed"] if self.has_case else -1
        self._sim = os.getenv("EMTAG_SIM") == "1"
        self._up_ms = 0  # since power-on
        self._rtc_ms = _RTC_POWER_ON_MS  # the RTC's reading at _rtc_at_ms
        self._rtc_at_ms = 0
        self._end_ms = 1000 * int(os.getenv("EMTAG_RUN_S") or "10")
        self._running = True
        self._heap_peak = 0
        self._next_sample_ms = 0
        self._quiet_ms = 0  # nothing arrives before this (H), unless the firmware writes what is answered
        self._own_turns = 0  # turns run on its own, not yet told (N)
        self._wdt_ms = defn["watchdog_s"] * 1000
        self._fed_ms = 0
        self._inputs = {"strap": 0, "case": 0, "battery": 4000, "mains": 1}
        if defn.get("alcohol"):  # an alcohol tag's sensors (boards/host_alcohol.py): their module only then
            self.alcohol = __import__(defn["alcohol"]["driver"])
            self.alcohol._inputs = self._inputs  # type: ignore[attr-defined]  # a module named at run time
        # the UARTs' receive buffers as the board definition sizes them (the link's holds
        # an order with its zones whole; what does not fit is an overrun), and the stack
        bufs = _chip_memory((defn["gnss"]["rxbuf"], defn["modem"]["rxbuf"], defn["link"]["rxbuf"], _CONSOLE_RXBUF,
                             _MSG_CAP, _BLOCK))
        self.gnss = Port(self, b"G", bufs[0])
        self.modem = Port(self, b"M", bufs[1])
        self.link = Port(self, b"S", bufs[2])
        self.console = Port(self, b"C", bufs[3])
        self._msg = bufs[4]  # the lockstep's other messages: time, inputs, adverts
        self.radio = Radio(self)
        erased = bufs[5]
        for i in range(_BLOCK):
            erased[i] = 0xFF
        self.flash = _mount_flash(self, os.getenv("EMTAG_STORAGE") or _flash_folder(), defn["flash"]["vfs_kb"],
                                  erased)
        self.storage = _FLASH_MOUNT
        if self._sim:
            self._rx = sys.stdin.buffer
            self._tx = sys.stdout.buffer
            self.modem_sleep(False)  # the line driven low from power-on, as the ESP32 board drives it
            self._receive()  # the simulator opens with the time, 0

    # time -------------------------------------------------------------------
    def ticks_ms(self):
        return (self._up_ms - _TICKS_BEFORE_WRAP) & 0x3FFFFFFF

    def utc(self):
        return self.utc_ms() // 1000

    def utc_ms(self):
        return self._rtc_ms + (self._up_ms - self._rtc_at_ms)

    def set_utc_ms(self, ms):
        self._rtc_ms, self._rtc_at_ms = ms, self._up_ms

    def feed(self):
        self._fed_ms = self._up_ms

    def reset_cause(self):
        # machine.reset_cause()'s numbers: 1 power-on, 3 watchdog, 5 the firmware's machine.reset()
        return int(os.getenv("EMTAG_RESET") or "1")

    def reset(self, cause=5):
        # machine.reset() (5), or the watchdog's (3): the chip restarts now, flash kept;
        # B tells the simulator the next boot's reset cause
        if self._sim:
            self._send(b"B", bytes((cause,)))
            self._tx.flush()
        raise SystemExit

    def wait(self, ms, hears=0):
        # Until ms have passed or input arrives (ms < 0: until input): in light sleep if
        # the board can be woken for all the firmware must hear, a nap at most; never so
        # long that the watchdog would bite.
        light = 0 if hears & ~self._wakes else 1
        self.naps += light
        scan = hears & _HEAR_RADIO != 0
        if scan != self._scanning:  # the simulator charges the scan (P "scan=1|0")
            self._scanning = scan
            self._send(b"P", b"scan=%d" % scan)
        if ms < 0 or ms > self._wdt_ms // 2:
            ms = self._wdt_ms // 2
        if self._up_ms >= self._next_sample_ms:
            self._next_sample_ms = self._up_ms + 60000
            gc.collect()
            self._heap_peak = max(self._heap_peak, gc.mem_alloc())
        if not self._sim:
            self._up_ms += ms
            if self._up_ms >= self._end_ms:
                self._running = False
            return
        if self._up_ms + ms < self._quiet_ms:
            self._up_ms += ms
            self._own_turns += 1
            if light:
                self._own_light += ms
            else:
                self._own_awake += ms
            return
        self._send_wait(ms, light)
        self._asleep = light
        self._receive()
        self._asleep = 0

    def woke(self, source):
        # whether that wake source (a bit of wait()'s hears) woke the board since last asked
        w = self._woke & source
        self._woke &= ~source
        return w != 0

    def running(self):
        return self._running

    # pins and ADCs ----------------------------------------------------------
    def strap_closed(self):
        return self._inputs["strap"] == self._strap_shut

    def case_closed(self):
        return self._inputs["case"] == self._case_shut

    def battery_mv(self):
        return self._inputs["battery"]

    def mains_present(self):
        return self._inputs["mains"] == 1

    def modem_power(self, on):
        self._send(b"P", b"modem=1" if on else b"modem=0")

    def modem_sleep(self, on):
        # DTR high: the modem sleeps (once told AT+CSCLK=1); False without the line
        if self._dtr:
            self._send(b"P", b"dtr=1" if on else b"dtr=0")
        return self._dtr

    def gnss_power(self, on):
        self._send(b"P", b"gnss=1" if on else b"gnss=0")

    def heap_peak(self):
        # the most live heap seen: sampled after a collection once a virtual minute
        return self._heap_peak

    def log(self, text):
        if self._sim:
            self._send(b"L", text.encode())
        else:
            print(text, file=sys.stderr)

    def close(self):
        if self._sim:
            self._tx.flush()

    # protocol ---------------------------------------------------------------
    def _send(self, kind, payload):
        if not self._sim:
            if kind == b"C":
                sys.stdout.buffer.write(payload)
            return
        if self._own_turns:
            self._tell_now()
        if kind in b"GMSP":  # the simulator may answer before the quiet time it gave
            self._quiet_ms = 0
        head = self._msg  # free outside _receive
        head[0] = kind[0]
        struct.pack_into(">H", head, 1, len(payload))
        self._tx.write(head, 3)  # type: ignore[call-overload]  # MicroPython streams take a length
        self._tx.write(payload)

    def _tell_now(self):
        n = self._msg  # free outside _receive
        n[0], n[1], n[2] = 0x4E, 0, 16
        struct.pack_into(">IIII", n, 3, self._up_ms, self._own_turns, self._own_awake, self._own_light)
        self._tx.write(n, 19)  # type: ignore[call-overload]  # MicroPython streams take a length
        self._own_turns = self._own_awake = self._own_light = 0

    def _power_cut(self):
        # the simulator cuts the power now: nothing more is written, by anyone
        self._send(b"X", b"")
        self._tx.flush()
        while self._rx.readinto(self._msg):  # type: ignore[union-attr]
            pass
        raise SystemExit

    def _blocked(self):
        # the loop stuck: time passes, nothing turns, until the watchdog resets the chip
        while self._running:
            left = self._fed_ms + self._wdt_ms - self._up_ms
            if left <= 0:
                self.reset(3)
            self._send_wait(left, False)
            self._receive()

    def _send_wait(self, ms, light):
        # the turn's last word, in one write: the simulator runs again as soon as it has it
        if self._own_turns:
            self._tell_now()
        w = self._msg  # free outside _receive
        w[0], w[1], w[2] = 0x57, 0, 5
        struct.pack_into(">IB", w, 3, ms, light)
        self._tx.write(w, 8)  # type: ignore[call-overload]  # MicroPython streams take a length

    def _fill(self, mv):
        # mv filled from the simulator; False once it has gone
        got = 0
        while got < len(mv):
            n = self._rx.readinto(mv[got:] if got else mv)  # type: ignore[union-attr]  # MicroPython's stdin buffer has it
            if not n:
                return False
            got += n
        return True

    def _skip(self, n):
        while n > 0:
            k = min(n, _MSG_CAP)
            if not self._fill(memoryview(self._msg)[:k]):
                return False
            n -= k
        return True

    def _receive(self):
        # Messages until the simulator says what time it is now (or goes away), read
        # without garbage: port bytes into their ports, the rest into _msg.
        msg = self._msg
        self._quiet_ms = 0
        hang = False
        while True:
            if not self._fill(memoryview(msg)[:3]):
                self._running = False
                return
            kind, n = msg[0], (msg[1] << 8) | msg[2]
            port = (self.gnss if kind == 0x47 else self.modem if kind == 0x4D else self.link if kind == 0x53
                    else self.console if kind == 0x43 else None)
            if port is not None and self._asleep:  # the UART's clock is stopped: lost, though a line may wake it
                self._woke |= (self._wakes & _HEAR_CENTRE if port is self.modem else
                               _HEAR_CONSOLE if port is self.console else 0)
                ok = self._skip(n)
            elif port is not None:
                ok = port._take(n)
            else:
                ok = n <= _MSG_CAP and self._fill(memoryview(msg)[:n])
            if not ok:
                self._running = False
                return
            if kind == 0x54:  # T
                self._up_ms = struct.unpack_from(">I", msg)[0]
                if hang:
                    self._blocked()
                return
            if kind == 0x5A:  # Z
                hang = True
            elif kind == 0x48:  # H
                self._quiet_ms = struct.unpack_from(">I", msg)[0]
            elif kind == 0x52:  # R
                if not self._scanning:  # nobody listening (never in light sleep): unheard
                    self.radio.dropped += 1
                else:
                    self.radio._arrive(msg[:n])
            elif kind == 0x49:
                name, _, value = bytes(msg[:n]).decode().partition("=")
                self._inputs[name] = int(value)
            elif kind == 0x4B:  # K
                self.flash.cut_after = (msg[0] << 8) | msg[1]
            elif kind == 0x51:  # Q
                self._running = False
                return
