# A littlefs filesystem in RAM, mounted at /, for the QEMU board: it has no
# flash, and the store's tests write files as a device writes its flash.
import os

import vfs

_BLOCK = 4096


class RamDisk:
    def __init__(self, blocks, block=_BLOCK, data=None):
        self.block = block
        # a view: reading a block copies into the caller's buffer, allocating nothing big
        self.data = memoryview(data or bytearray(blocks * block))[: blocks * block]

    def readblocks(self, n, buf, off=0):
        at = n * self.block + off
        buf[:] = self.data[at : at + len(buf)]

    def writeblocks(self, n, buf, off=None):
        at = n * self.block + (off or 0)
        self.data[at : at + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return len(self.data) // self.block
        if op == 5:  # block size
            return self.block
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
