# The RF beacon's advert (docs/beacon.md): BLE advertising data whose
# manufacturer field carries who sent it, a rolling counter that never repeats,
# the sender's UTC second and a truncated HMAC-SHA256 under the pair's key.
# A recording replayed later is stale or behind the counter; an advert with
# our id and a bad MAC is forged; another tag's advert is no concern of ours.
import struct

import auth
import counter
from micropython import const

TAG = const(1)  # sent by the ankle tag
HMU = const(2)  # sent by the home monitoring unit
_COMPANY = const(0xFFFF)  # the Bluetooth SIG's id for tests and unassigned use
_VERSION = const(1)
_FLAGS = b"\x02\x01\x06"
_BODY = "<BIII"  # version << 4 | kind, id, counter, utc
_BODY_LEN = const(13)
_MIN_MAC = const(4)
_MAX_MAC = const(11)  # legacy advertising data is at most 31 bytes

# what verify() says of an advert
ACCEPT = const(0)
OTHER = const(1)  # not ours: another tag, another device
DUPLICATE = const(2)  # the advert just accepted, heard again
FORGED = const(3)  # our id, but the MAC is wrong or the layout is not ours
STALE = const(4)  # authentic, but its time is too far from ours: a recording
REPLAY = const(5)  # authentic and fresh, but behind the counter
UNSURE = const(6)  # authentic and ahead, but maybe accepted before the listener's last reboot

_MARK_EVERY = const(8)  # a listener's counter goes to flash once it has moved this far
_MARKS_KEPT = const(64)  # marks appended to the file before it is rewritten with the last alone


def make(key, kind, ident, counter, utc, mac_len=8):
    body = struct.pack(_BODY, _VERSION << 4 | kind, ident, counter, utc)
    mfr = struct.pack("<H", _COMPANY) + body + auth.hmac_sha256(key, body)[:mac_len]
    return _FLAGS + bytes([len(mfr) + 1, 0xFF]) + mfr


def manufacturer(adv):
    # The manufacturer-specific field of BLE advertising data with our company id, or None.
    i = 0
    n = len(adv)
    while i + 1 < n:
        size = adv[i]
        if size == 0 or i + 1 + size > n:
            return None
        if adv[i + 1] == 0xFF and size >= 3 and adv[i + 2] | adv[i + 3] << 8 == _COMPANY:
            return adv[i + 4 : i + 1 + size]
        i += 1 + size
    return None


class Verifier:
    # Adverts from one sender (kind, ident) under key, fresh within fresh_s of our
    # clock. With a path, the counter survives a reboot: a mark on flash (the first
    # counter accepted, then each _MARK_EVERY on) never ahead of the last accepted
    # and less than _MARK_EVERY behind it. After a reboot a counter that far past
    # the mark is new, one at or behind it a replay, and one between unsure (a
    # recording of the last few, or the sender moving on: not accepted, not a
    # spoof, and the sender is soon past it).
    def __init__(self, key, kind, ident, mac_len=8, fresh_s=60, path=None):
        self.key = key
        self.kind = kind
        self.ident = ident
        self.mac_len = mac_len
        self.fresh_s = fresh_s
        self._path = path
        self.last = self._marks = 0  # the highest counter accepted; marks in the file
        if path:
            self.last, self._marks = _read_marks(path)
        self._mark = self.last
        self._sure = self._mark + _MARK_EVERY if self._mark else 0  # counters from here on are new

    def verify(self, adv, utc):
        # utc 0: our clock is not set, and the counter alone judges
        m = manufacturer(adv)
        if m is None or len(m) < _BODY_LEN or m[0] != (_VERSION << 4 | self.kind):
            return OTHER
        head, ident, n, sent = struct.unpack_from(_BODY, m)
        if ident != self.ident:
            return OTHER
        body = m[:_BODY_LEN]
        if len(m) != _BODY_LEN + self.mac_len or not auth.equal(
                auth.hmac_sha256(self.key, body)[: self.mac_len], m[_BODY_LEN:]):
            return FORGED
        if utc and (sent + self.fresh_s < utc or sent > utc + self.fresh_s):
            return STALE
        if n == self.last:
            return DUPLICATE
        if n < self.last:
            return REPLAY
        if n < self._sure:
            return UNSURE
        self.last = n
        if self._path and (n >= self._mark + _MARK_EVERY or not self._mark):  # the first at once
            self._mark = n
            self._write_mark(struct.pack("<I", n))
        return ACCEPT

    def _write_mark(self, mark):
        # appended: one filesystem commit, and a cut append is never committed; now and
        # then the file is rewritten with the last mark alone (beside it, then renamed)
        if self._marks >= _MARKS_KEPT:
            counter.atomic_write(self._path, mark)
            self._marks = 1
            return
        with open(self._path, "ab") as f:
            f.write(mark)
        self._marks += 1


def _read_marks(path):
    # (the last mark, how many the file holds); (0, 0) with none
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return 0, 0
    n = len(data) // 4
    return (struct.unpack_from("<I", data, 4 * n - 4)[0] if n else 0), n
