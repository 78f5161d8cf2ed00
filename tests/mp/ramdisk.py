# A littlefs filesystem in RAM, mounted at /, for the QEMU board: it has no
# flash, and the store's tests write files as a device writes its flash.
import os

import vfs

_BLOCK = 4096


class RamDisk:
    def __init__(self, blocks):
        self.data = bytearray(blocks * _BLOCK)

    def readblocks(self, n, buf, off=0):
        at = n * _BLOCK + off
        buf[:] = self.data[at : at + len(buf)]

    def writeblocks(self, n, buf, off=None):
        at = n * _BLOCK + (off or 0)
        self.data[at : at + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return len(self.data) // _BLOCK
        if op == 5:  # block size
            return _BLOCK
        if op == 6:  # erase
            return 0
        return None


def mount(blocks=12):
    disk = RamDisk(blocks)
    vfs.VfsLfs2.mkfs(disk)
    vfs.mount(vfs.VfsLfs2(disk), "/")
    os.chdir("/")
    try:
        os.mkdir("/tmp")
    except OSError:
        pass
