"""The link's wire format on the host side (docs/frames.md): SLIP framing, frames
authenticated with HMAC-SHA256 (first 16 bytes) under the device's key, event
records. Written from the format's description, not from the firmware's code; the
two are checked against each other and against the documented test vectors."""

from __future__ import annotations

import functools
import hashlib
import hmac
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

MAGIC = b"EM"
VERSION = 2  # 2: an events frame says when it was sent
EVENTS, ACK, CONFIG = 1, 2, 3
HEAD = struct.Struct("<2sBB8s")
EVENT = struct.Struct("<IIBBiiHhB8sx")
MAC_LEN = 16
MAX_EVENTS = 16
MAX_FRAME = 1536
END, ESC, ESC_END, ESC_ESC = 0xC0, 0xDB, 0xDC, 0xDD
_END, _ESC, _ESC_END, _ESC_ESC = bytes([END]), bytes([ESC]), bytes([ESC, ESC_END]), bytes([ESC, ESC_ESC])
_IPAD, _OPAD = bytes(b ^ 0x36 for b in range(256)), bytes(b ^ 0x5C for b in range(256))  # RFC 2104's pads, as tables


class Kind(IntEnum):
    """Every event code, the one table on the host: the firmware's EV_ constants carry
    the same names and numbers, and docs/frames.md lists them (tests/host/test_wire.py)."""

    BREACH = 1
    EXIT = 2
    WARNING = 3  # the warning ring entered
    WARNING_EXIT = 4
    POSITION = 10
    BOOT = 11
    GAP = 12  # breadcrumbs thinned here
    CONFIG_APPLIED = 13  # depth_m carries the order's version
    CONFIG_REFUSED = 14
    TAMPER_STRAP = 20
    TAMPER_CASE = 21
    FITTED = 22  # the tamper latch cleared by a technician or the centre
    PAIRED = 23
    BATTERY_LOW = 30
    BATTERY_CRITICAL = 31
    CHARGING = 32
    LOCATION_LOST = 40
    SHIELDING = 41  # GNSS and the cellular link lost together
    JAMMING = 42  # GNSS buried under noise while the link works
    SPOOFING = 43  # fixes from one transmitter
    CURFEW_ABSENT = 50
    CURFEW_LEFT = 51
    CURFEW_RETURNED = 52
    SPOOF_SUSPECTED = 53
    MAINS_LOST = 54
    MAINS_RESTORED = 55
    HOME = 56  # the tag hears its home unit
    AWAY = 57
    COUNTER_ONLY = 58  # a home unit's clock unset: the tag's adverts judged by their counters alone
    UNIT_MOVED = 59  # the tag hears its home unit far from the registered home (metres in depth_m)
    ALCOHOL_READING = 70  # an alcohol tag's reading (docs/alcohol.md): 1e-4 g/dL in depth_m, IR in accuracy
    DRINKING = 71  # a drinking episode confirmed
    DRINKING_ENDED = 72  # its peak in depth_m
    ENVIRONMENTAL_ALCOHOL = 73  # a spike no body makes: sanitiser, perfume, a spill
    SENSOR_REMOVED = 74  # the alcohol tag off the ankle, its strap closed
    SENSOR_OBSTRUCTED = 75  # something between skin and sensor
    SENSOR_ON_SKIN = 76  # worn again after either
    SENSOR_FAULT = 77  # the alcohol tag's sensors did not answer: no reading


EVENT_NAMES = {k.value: k.name.lower() for k in Kind}
ALERTS = {Kind.BREACH, Kind.EXIT, Kind.WARNING, Kind.CONFIG_REFUSED, Kind.TAMPER_STRAP, Kind.TAMPER_CASE,
          Kind.BATTERY_LOW, Kind.BATTERY_CRITICAL, Kind.LOCATION_LOST, Kind.SHIELDING, Kind.JAMMING,
          Kind.SPOOFING, Kind.CURFEW_ABSENT,
          Kind.CURFEW_LEFT, Kind.SPOOF_SUSPECTED, Kind.MAINS_LOST, Kind.UNIT_MOVED, Kind.DRINKING,
          Kind.SENSOR_REMOVED, Kind.SENSOR_OBSTRUCTED, Kind.SENSOR_FAULT}  # what an operator must see


class WireError(ValueError):
    """A frame that is not authentic or not well formed; the text says which."""


@dataclass(frozen=True)
class Event:
    seq: int
    utc: int
    kind: int
    flags: int
    lat_e7: int
    lon_e7: int
    accuracy_m: int
    depth_m: int
    battery: int
    zone_id: bytes

    @classmethod
    def unpack(cls, raw: bytes) -> Event:
        return cls(*EVENT.unpack(raw))

    def pack(self) -> bytes:
        return EVENT.pack(self.seq, self.utc, self.kind, self.flags, self.lat_e7, self.lon_e7, self.accuracy_m,
                          self.depth_m, self.battery, self.zone_id)


def device_id(name: str) -> bytes:
    return name.encode()[:8].ljust(8, b"\0")


class Keyed:
    """A key made ready for HMAC-SHA256: its two padded blocks hashed once, so that each
    frame's MAC hashes only the frame. The centre checks and signs two frames for each
    it stores, under the few keys of its devices: half the cost of each (keyed())."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        self._inner = hashlib.sha256(block.translate(_IPAD))
        self._outer = hashlib.sha256(block.translate(_OPAD))

    def mac(self, body: bytes) -> bytes:
        inner, outer = self._inner.copy(), self._outer.copy()
        inner.update(body)
        outer.update(inner.digest())
        return outer.digest()[:MAC_LEN]


@functools.lru_cache(maxsize=4096)  # a pilot's tags and home units, and then some
def keyed(key: bytes) -> Keyed:
    return Keyed(key)


Key = bytes | Keyed


def mac(key: Key, body: bytes) -> bytes:
    if isinstance(key, Keyed):
        return key.mac(body)
    return hmac.digest(key, body, "sha256")[:MAC_LEN]


def seal(key: Key, kind: int, device: bytes, payload: bytes) -> bytes:
    body = HEAD.pack(MAGIC, VERSION, kind, device) + payload
    return body + mac(key, body)


def events_frame(key: Key, device: bytes, events: list[Event], sent: int = 0) -> bytes:
    """sent: the tag's UTC (Unix seconds) as it built the frame."""
    return seal(key, EVENTS, device, struct.pack("<IB", sent, len(events)) + b"".join(e.pack() for e in events))


def ack_frame(key: Key, device: bytes, seq: int, utc_ms: int | None = None) -> bytes:
    """Everything up to seq is stored; with utc_ms, the centre's time, which sets a
    device's clock that has nothing better (docs/frames.md)."""
    return seal(key, ACK, device, struct.pack("<I", seq) + (b"" if utc_ms is None else struct.pack("<Q", utc_ms)))


def config_frame(key: Key, device: bytes, version: int, settings_json: bytes, zones_file: bytes) -> bytes:
    body = struct.pack("<H", len(settings_json)) + settings_json + zones_file
    return seal(key, CONFIG, device, struct.pack("<IH", version, len(body)) + body)


def peek_device(frame: bytes) -> bytes:
    if len(frame) < HEAD.size + MAC_LEN:
        raise WireError(f"short frame ({len(frame)} bytes)")
    magic, version, _, dev = HEAD.unpack_from(frame)
    if magic != MAGIC:
        raise WireError("not an emtag frame")
    if version != VERSION:
        raise WireError(f"frame version {version}, this side speaks {VERSION}")
    return bytes(dev)


def open_frame(key: Key, frame: bytes) -> tuple[int, bytes, bytes]:
    """(kind, device, payload) of an authentic, well-formed frame."""
    dev = peek_device(frame)
    body, tag = frame[:-MAC_LEN], frame[-MAC_LEN:]
    if not hmac.compare_digest(mac(key, body), tag):
        raise WireError("bad MAC")
    kind = frame[3]
    payload = body[HEAD.size:]
    if kind == EVENTS:
        if len(payload) < 5 or payload[4] > MAX_EVENTS or len(payload) != 5 + payload[4] * EVENT.size:  # 0: a poll
            raise WireError("bad event count")
    elif kind == ACK:
        if len(payload) not in (4, 12):  # the sequence, and the centre's UTC in ms
            raise WireError("bad ack")
    elif kind == CONFIG:
        if len(payload) < 6 or struct.unpack_from("<H", payload, 4)[0] != len(payload) - 6:
            raise WireError("bad config length")
    else:
        raise WireError(f"unknown frame kind {kind}")
    return kind, dev, payload


def event_rows(payload: bytes) -> list[tuple[Any, ...]]:
    """An events frame's events as EVENT's tuples (Event's fields, in order): the centre's fast path."""
    return list(EVENT.iter_unpack(payload[5:5 + payload[4] * EVENT.size]))


def events_of(payload: bytes) -> list[Event]:
    return [Event.unpack(payload[5 + i * EVENT.size: 5 + (i + 1) * EVENT.size]) for i in range(payload[4])]


def sent_of(payload: bytes) -> int:
    """When the tag built an events frame, by its clock."""
    sent: int = struct.unpack_from("<I", payload)[0]
    return sent


def slip(frame: bytes) -> bytes:
    return _END + frame.replace(_ESC, _ESC_ESC).replace(_END, _ESC_END) + _END


class Unslip:
    """Streaming SLIP decoder: feed bytes, iterate the frames completed; oversized ones are counted and dropped.
    A read is split at END in C, not walked a byte at a time: the centre and the lockstep
    links decode every frame through it."""

    def __init__(self, limit: int = MAX_FRAME) -> None:
        self.buf = bytearray()
        self.limit = limit
        self.oversized = 0
        self._over = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        *ended, rest = bytes(data).split(_END)
        for part in ended:
            if self.buf or self._over:  # the end of a frame begun in an earlier read
                self._take(part)
                part, over = bytes(self.buf), self._over
                self.buf.clear()
                self._over = False
            else:  # a whole frame in this read: taken as it is
                over = len(part) > 2 * self.limit
            if over:
                self.oversized += 1
            elif part:
                yield part.replace(_ESC_END, _END).replace(_ESC_ESC, _ESC)
        self._take(rest)

    def _take(self, part: bytes) -> None:
        # escaped, a frame is at most twice its limit: beyond that it is dropped whole
        if not self._over:
            self.buf += part
            if len(self.buf) > 2 * self.limit:
                self._over = True
                self.buf.clear()
