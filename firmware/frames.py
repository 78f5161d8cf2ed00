# The link's frames (docs/frames.md): versioned, authenticated with HMAC-SHA256
# under the device's key, carried in SLIP over a serial line or a TCP stream.
import struct

import auth
from micropython import const

VERSION = const(1)
EVENTS = const(1)  # tag -> centre: a batch of events
ACK = const(2)  # centre -> tag: every event up to a sequence number is stored
CONFIG = const(3)  # centre -> tag: a new configuration
_HEAD = "<2sBB8s"  # magic, version, kind, device id
HEAD_LEN = const(12)
EVENT_LEN = const(32)
MAX_EVENTS = const(16)
MAX_FRAME = const(1536)

# event types (1..4 are zonewatch's own codes)
EV_BREACH = const(1)
EV_EXIT = const(2)
EV_WARN = const(3)
EV_WARN_EXIT = const(4)
EV_POSITION = const(10)
EV_BOOT = const(11)
EV_GAP = const(12)  # breadcrumbs were thinned here to make room
EV_CONFIG_APPLIED = const(13)
EV_CONFIG_REFUSED = const(14)
EV_TAMPER_STRAP = const(20)
EV_TAMPER_CASE = const(21)
EV_FITTED = const(22)  # a technician cleared the tamper latch
EV_PAIRED = const(23)
EV_BATTERY_LOW = const(30)
EV_BATTERY_CRITICAL = const(31)
EV_CHARGING = const(32)
EV_LOCATION_LOST = const(40)
EV_SHIELDING = const(41)  # GNSS and the cellular link lost together
EV_CURFEW_ABSENT = const(50)  # home unit: not home when the curfew took hold
EV_CURFEW_LEFT = const(51)  # home unit: gone during the curfew
EV_CURFEW_RETURNED = const(52)  # home unit: heard again after either
EV_SPOOF = const(53)  # home unit: forged, stale or replayed adverts (depth: the verdict)
EV_MAINS_LOST = const(54)  # home unit: on its backup battery
EV_MAINS_RESTORED = const(55)
EV_HOME = const(56)  # tag: hears its home unit
EV_AWAY = const(57)  # tag: no longer hears it
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


def _seal(key, body):
    return body + auth.mac(key, body)


def events_frame(key, device_id, records):
    body = struct.pack(_HEAD, b"EM", VERSION, EVENTS, device_id) + bytes([len(records)]) + b"".join(records)
    return _seal(key, body)


def ack_frame(key, device_id, seq):
    return _seal(key, struct.pack(_HEAD, b"EM", VERSION, ACK, device_id) + struct.pack("<I", seq))


def config_frame(key, device_id, version, body):
    head = struct.pack(_HEAD, b"EM", VERSION, CONFIG, device_id)
    return _seal(key, head + struct.pack("<IH", version, len(body)) + body)


def open_frame(key, data, device_id=None):
    # (kind, device id, payload) of an authentic frame; FrameError says why not.
    if len(data) < HEAD_LEN + auth.MAC_LEN:
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
    payload = body[HEAD_LEN:]
    if kind == EVENTS:
        if not payload or len(payload) != 1 + payload[0] * EVENT_LEN or payload[0] > MAX_EVENTS:
            raise FrameError("bad event count")
    elif kind == ACK:
        if len(payload) != 4:
            raise FrameError("bad ack")
    elif kind == CONFIG:
        if len(payload) < 6 or struct.unpack_from("<H", payload, 4)[0] != len(payload) - 6:
            raise FrameError("bad config length")
    else:
        raise FrameError("unknown frame kind %d" % kind)
    return kind, dev, payload


def slip(frame):
    out = bytearray([_END])
    for b in frame:
        if b == _END:
            out += b"\xdb\xdc"
        elif b == _ESC:
            out += b"\xdb\xdd"
        else:
            out.append(b)
    out.append(_END)
    return bytes(out)


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
