# A counter that never repeats, across reboots and power cuts: a high-water mark
# a block ahead is on flash before any number under it is used, so a reboot
# skips at most a block. The store's sequence numbers and the beacon's rolling
# counter both stand on it.
import os
import struct


def atomic_write(path, data):
    # the whole file or the old one, whatever the power does: written beside it, then
    # renamed over it (every small state file on flash goes this way)
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def read_u32(path):
    try:
        with open(path, "rb") as f:
            data = f.read(8)
    except OSError:
        return None
    return struct.unpack("<I", data)[0] if len(data) == 4 else None


class Counter:
    def __init__(self, path, block, floor=1):
        self._path = path
        self._block = block
        self.next = max(read_u32(path) or 1, floor)
        self._reserved = 0
        self._reserve()

    def _reserve(self):
        if self.next >= self._reserved:
            self._reserved = self.next + self._block
            atomic_write(self._path, struct.pack("<I", self._reserved))

    def take(self):
        n = self.next
        self.next += 1
        self._reserve()
        return n
