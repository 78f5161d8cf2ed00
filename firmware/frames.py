# The link's frames (docs/frames.md): versioned, authenticated with HMAC-SHA256
# under the device's key, carried in SLIP over a serial line or a TCP stream.
import struct

import auth
from micropython import const

VERSION = const(2)  # 2: an events frame says when it was sent
EVENTS = const(1)  # tag -> centre: a batch of events
ACK = const(2)  # centre -> tag: every event up to a sequence number is stored
CONFIG = const(3)  # centre -> tag: a new configuration
_HEAD = "<2sBB8s"  # magic, version, kind, device id
_HEAD_LEN = const(12)
_EVENT_LEN = const(32)
MAX_EVENTS = const(16)
MAX_FRAME = const(1536)
EVENTS_AT = const(_HEAD_LEN + 5)  # an events frame's records: after the head, the sending time and the count

# Event types (the table: docs/frames.md). Here those more than one module sends;
# the rest beside their only sender, so a device's heap holds no names it never
# uses: 1..4 zonewatch.py (breach 1 here too), 13, 14 tag.py, 20, 21 tamper.py,
# 23 diag.py, 30..32 power.py, 40, 41 locwatch.py, 50..55 hmu.py, 56, 57
# homebeacon.py.
EV_BREACH = const(1)
EV_POSITION = const(10)
EV_BOOT = const(11)
EV_GAP = const(12)  # breadcrumbs were thinned here to make room
EV_FITTED = const(22)  # a technician cleared the tamper latch (console or centre)
# seq, utc, type, flags, lat, lon, accuracy m, depth m, battery %, zone id
EVENT = "<IIBBiiHhB8sx"

_END = const(0xC0)
_ESC = const(0xDB)
_ESC_END = const(0xDC)
_ESC_ESC = const(0xDD)


class FrameError(ValueError):
    pass


def event(seq, utc, kind, lat=0, lon=0, acc_m=0, depth_m=0, battery=255, zone_id=b"\0" * 8, flags=0):
    return struct.pack(EVENT, seq, utc, kind, flags, lat, lon, acc_m, depth_m, battery, zone_id)


def priority(kind):
    # breadcrumbs and bookkeeping may be thinned when the store is full; the rest never
    return kind != EV_POSITION


def frame_len(n):
    # an events frame carrying n events
    return EVENTS_AT + n * _EVENT_LEN + auth.MAC_LEN


def seal_events(frame, key, device_id, n, sent):
    # frame holds n event records from EVENTS_AT: write the head before them (sent: our
    # UTC now) and the MAC after; the frame's length. Nothing is allocated for the frame.
    end = EVENTS_AT + n * _EVENT_LEN
    struct.pack_into("<2sBB8sIB", frame, 0, b"EM", VERSION, EVENTS, device_id, sent, n)
    frame[end : end + auth.MAC_LEN] = auth.mac(key, memoryview(frame)[:end])
    return end + auth.MAC_LEN


def restamp(frame, n, stamp):
    # each of the n records from EVENTS_AT: its UTC through stamp(seq, utc) (clock.py)
    for at in range(EVENTS_AT, EVENTS_AT + n * _EVENT_LEN, _EVENT_LEN):
        seq, utc = struct.unpack_from("<II", frame, at)
        t = stamp(seq, utc)
        if t != utc:
            struct.pack_into("<I", frame, at + 4, t)


def open_frame(key, data, device_id=None):
    # (kind, device id, payload) of an authentic frame; FrameError says why not.
    if len(data) < _HEAD_LEN + auth.MAC_LEN:
        raise FrameError("short frame")
    magic, version, kind, dev = struct.unpack_from(_HEAD, data)
    if magic != b"EM":
        raise FrameError("not an emtag frame")
    if version != VERSION:
        raise FrameError("frame version %d" % version)
    if device_id is not None and dev != device_id:
        raise FrameError("another device's frame")
    body, tag = data[: -auth.MAC_LEN], data[-auth.MAC_LEN :]
    if not auth.equal(auth.mac(key, body), tag):
        raise FrameError("bad MAC")
    payload = body[_HEAD_LEN:]
    if kind == EVENTS:
        if len(payload) < 5 or len(payload) != 5 + payload[4] * _EVENT_LEN or payload[4] > MAX_EVENTS:
            raise FrameError("bad event count")
    elif kind == ACK:
        if len(payload) not in (4, 12):  # the sequence, and the centre's UTC in ms
            raise FrameError("bad ack")
    elif kind == CONFIG:
        if len(payload) < 6 or struct.unpack_from("<H", payload, 4)[0] != len(payload) - 6:
            raise FrameError("bad config length")
    else:
        raise FrameError("unknown frame kind %d" % kind)
    return kind, dev, payload


def slip_len(frame):
    # the length of frame SLIP-encoded
    n = len(frame) + 2
    for b in frame:
        if b == _END or b == _ESC:
            n += 1
    return n


def slip_into(frame, out):
    # frame SLIP-encoded into out (room for 2 * len(frame) + 2 at worst); the length
    out[0] = _END
    i = 1
    for b in frame:
        if b == _END or b == _ESC:
            out[i] = _ESC
            i += 1
            b = _ESC_END if b == _END else _ESC_ESC
        out[i] = b
        i += 1
    out[i] = _END
    return i + 1


class Unslip:
    # Streaming SLIP decoder with a bounded buffer; on_frame(bytes) per frame.
    def __init__(self, on_frame, limit=MAX_FRAME):
        self._buf = bytearray()
        self._esc = False
        self._over = False
        self._limit = limit
        self._on_frame = on_frame
        self.dropped = 0

    def feed(self, data, n=-1):
        end = len(data) if n < 0 else n
        for i in range(end):
            b = data[i]
            if b == _END:
                if self._over:
                    self.dropped += 1
                elif self._buf:
                    self._on_frame(bytes(self._buf))
                self._buf = bytearray()
                self._esc = self._over = False
            elif self._over:
                continue
            elif len(self._buf) >= self._limit:
                self._over = True
            elif self._esc:
                self._buf.append(_END if b == _ESC_END else _ESC if b == _ESC_ESC else b)
                self._esc = False
            elif b == _ESC:
                self._esc = True
            else:
                self._buf.append(b)
