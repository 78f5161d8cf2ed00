# The event store: an append-only log on the flash filesystem (LittleFS on a
# device, a folder under the host board), records of a 32-byte event and its
# CRC-32. A power cut at any byte leaves at worst one torn record at the end,
# which the next open drops. Sequence numbers never repeat (counter.py).
# Rewrites go to a new file renamed over the old one, so the log is always
# whole; the log is streamed record by record, never held in RAM. The capacity
# is what the partition holds twice over (a rewrite needs room for the copy),
# so a small partition thins breadcrumbs sooner instead of filling up.
import binascii
import os
import struct

import counter
import frames
from micropython import const

_REC = const(36)
_SEQ_BLOCK = const(64)
_SPARE_BLOCKS = const(4)  # the filesystem's metadata pair, a block being rewritten, the small files
_ENOSPC = const(28)


def _sound(rec):
    return len(rec) == _REC and binascii.crc32(rec[:32]) == struct.unpack_from("<I", rec, 32)[0]


class Store:
    def __init__(self, folder, capacity=500):
        self.log = folder + "/events.log"
        self._ack_file = folder + "/ack.dat"
        self.capacity = capacity
        self.dropped = 0  # breadcrumbs thinned for room
        self.torn = 0  # records dropped at open: torn or corrupt
        self.acked = counter.read_u32(self._ack_file) or 0
        self.count = 0  # unacknowledged records in the log
        self.last = 0  # highest sequence in the log
        self._open()
        st = os.statvfs(folder)  # block size, fragment size, blocks, ...
        self.capacity = max(8, min(capacity, (st[2] - _SPARE_BLOCKS) * st[0] // (2 * _REC)))
        self.lost = 0  # events the flash had no room for
        self.seq = counter.Counter(folder + "/seq.dat", _SEQ_BLOCK, max(self.last, self.acked) + 1)

    def _records(self):
        try:
            f = open(self.log, "rb")
        except OSError:
            return
        rec = bytearray(_REC)  # one buffer for every record: reading the log makes no garbage
        with f:
            while True:
                n = f.readinto(rec)
                if not n:
                    return
                yield rec if n == _REC else rec[:n]

    def _rewrite(self, keep):
        # The log again, with only the sound records keep(rec) accepts.
        tmp = self.log + ".new"
        n = 0
        with open(tmp, "wb") as out:
            for rec in self._records():
                if _sound(rec) and keep(rec):
                    out.write(rec)
                    n += 1
        os.rename(tmp, self.log)
        return n

    def _open(self):
        total = sound = 0
        for rec in self._records():
            total += 1
            if _sound(rec):
                sound += 1
                seq = struct.unpack_from("<I", rec)[0]
                self.last = max(self.last, seq)
                if seq > self.acked:
                    self.count += 1
        self.torn = total - sound
        if self.torn:
            self._rewrite(lambda rec: True)

    def append(self, kind, utc, lat=0, lon=0, acc_m=0, depth_m=0, battery=255, zone_id=b"\0" * 8):
        # Store an event; returns its sequence number, or 0 when a breadcrumb found no
        # room, or the flash none at all (counted in lost: never a crash).
        if self.count >= self.capacity and not self._thin() and not frames.priority(kind):
            self.dropped += 1
            return 0
        seq = self.seq.take()
        ev = frames.event(seq, utc, kind, lat, lon, acc_m, depth_m, battery, zone_id)
        try:
            with open(self.log, "ab") as f:
                f.write(ev + struct.pack("<I", binascii.crc32(ev)))
        except OSError as e:
            if e.errno != _ENOSPC:
                raise
            self.lost += 1
            return 0
        self.count += 1
        self.last = seq
        return seq

    def _thin(self):
        # Room by dropping the oldest unacknowledged breadcrumbs (an eighth of the
        # capacity at a time), then a gap marker saying so.
        budget = [self.capacity // 8 + 1]
        acked = self.acked

        def keep(rec):
            if budget[0] and rec[8] == frames.EV_POSITION and struct.unpack_from("<I", rec)[0] > acked:
                budget[0] -= 1
                return False
            return True

        before = self.count
        self._rewrite(keep)
        thinned = self.capacity // 8 + 1 - budget[0]
        if not thinned:
            return False
        self.dropped += thinned
        self.count = before - thinned
        self.append(frames.EV_GAP, 0)
        return True

    def pending_into(self, buf, limit):
        # The oldest unacknowledged events, up to limit, into buf, 32 bytes each; how many.
        n = 0
        for rec in self._records():
            if n == limit:
                break
            if _sound(rec) and struct.unpack_from("<I", rec)[0] > self.acked:
                buf[32 * n : 32 * n + 32] = memoryview(rec)[:32]
                n += 1
        return n

    def ack(self, seq):
        # Everything up to seq is safe at the centre. An acknowledgement of what was
        # never sent, or of nothing new, changes nothing.
        if seq <= self.acked or seq > self.last:
            return False
        self.acked = seq
        counter.atomic_write(self._ack_file, struct.pack("<I", seq))
        if seq == self.last:
            counter.atomic_write(self.log, b"")
            self.count = 0
        else:
            self.count = self._rewrite(lambda rec: struct.unpack_from("<I", rec)[0] > seq)
        return True
