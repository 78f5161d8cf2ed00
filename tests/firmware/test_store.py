# The event store on the unix port's filesystem: run inside MicroPython.
import struct

import frames
import scratch
import store


def _folder():
    return scratch.folder("emtag-store")


def _pending(s, limit):
    buf = bytearray(32 * limit)
    return buf[: 32 * s.pending_into(buf, limit)]


def _records(block):
    return [block[i : i + 32] for i in range(0, len(block), 32)]


def _seqs(block):
    return [struct.unpack_from("<I", r)[0] for r in _records(block)]


def test_append_pending_ack():
    s = store.Store(_folder())
    seqs = [s.append(frames.EV_POSITION, 1000 + i, 1, 2) for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert _seqs(_pending(s, 3)) == [1, 2, 3]
    assert s.ack(3) and s.count == 2
    assert _seqs(_pending(s, 16)) == [4, 5]
    assert not s.ack(3) and not s.ack(99)  # nothing new; never sent
    assert s.ack(5) and s.count == 0 and _pending(s, 16) == b""


def test_sequence_never_repeats_across_reboots():
    folder = _folder()
    s = store.Store(folder)
    for i in range(70):
        s.append(frames.EV_POSITION, i)
    s.ack(70)
    again = store.Store(folder)
    assert again.seq.next > 70 and again.count == 0
    first = again.append(frames.EV_BOOT, 0)
    third = store.Store(folder).append(frames.EV_BOOT, 0)
    assert first > 70 and third > first


def test_power_cut_at_every_byte_of_the_last_writes():
    folder = _folder()
    s = store.Store(folder)
    for i in range(4):
        s.append(frames.EV_BREACH, 500 + i)
    with open(s.log, "rb") as f:
        whole = f.read()
    issued = s.seq.next
    for cut in range(len(whole) + 1):
        with open(s.log, "wb") as f:
            f.write(whole[:cut])
        t = store.Store(folder)
        assert t.count == cut // 36, (cut, t.count)
        assert t.torn == (1 if cut % 36 else 0)
        assert t.seq.next >= issued  # nothing issued before the cut is issued again
        assert _seqs(_pending(t, 16)) == list(range(1, cut // 36 + 1))


def test_a_corrupt_record_is_dropped_and_the_rest_kept():
    folder = _folder()
    s = store.Store(folder)
    for i in range(3):
        s.append(frames.EV_BREACH, i)
    with open(s.log, "rb") as f:
        data = bytearray(f.read())
    data[36 + 5] ^= 0xFF
    with open(s.log, "wb") as f:
        f.write(data)
    t = store.Store(folder)
    assert _seqs(_pending(t, 16)) == [1, 3] and t.torn == 1


def test_full_store_thins_breadcrumbs_never_breaches():
    s = store.Store(_folder(), capacity=40)
    breaches = []
    for i in range(200):
        if i % 10 == 0:
            breaches.append(s.append(frames.EV_BREACH, i))
        else:
            s.append(frames.EV_POSITION, i)
    kept = _pending(s, 100)  # more than the store can hold: 40 and the breaches
    kinds = [r[8] for r in _records(kept)]
    assert all(b in _seqs(kept) for b in breaches)
    assert frames.EV_GAP in kinds
    assert s.count <= 40 + len(breaches) and s.dropped > 0
    assert _seqs(kept) == sorted(_seqs(kept))  # still in order


_PARTITION = bytearray(8 * 1024)  # taken before the heap fragments: the QEMU board's RAM is small


def _small_partition(blocks):
    # a LittleFS partition of its own, as small as a board's could be (1 KiB blocks)
    import ramdisk
    import vfs

    disk = ramdisk.RamDisk(blocks, 1024, _PARTITION)
    vfs.VfsLfs2.mkfs(disk)
    vfs.mount(vfs.VfsLfs2(disk), "/small")
    return "/small"


def test_a_small_partition_bounds_the_store_and_never_fills():
    import vfs

    folder = _small_partition(8)
    try:
        s = store.Store(folder, capacity=5000)
        assert 8 <= s.capacity < 100, s.capacity  # what 8 KiB hold twice over, not what was asked
        alarms = []
        for i in range(3 * s.capacity):  # offline for a long time: breadcrumbs, an alarm now and then
            if i % 50 == 7:
                alarms.append(s.append(frames.EV_BREACH, 1000 + i, 1, 2))
            else:
                s.append(frames.EV_POSITION, 1000 + i, 1, 2)
        assert s.dropped > 0 and s.lost == 0  # thinned, never out of room
        assert all(alarms) and s.count <= s.capacity + 1
        kinds = {}
        for rec in _records(_pending(s, s.capacity + 8)):
            kinds[rec[8]] = kinds.get(rec[8], 0) + 1
        assert kinds[frames.EV_BREACH] == len(alarms)  # every alarm kept
        again = store.Store(folder, capacity=5000)  # after a reboot: the same room, the same log
        assert again.count == s.count and again.capacity >= s.capacity
    finally:
        vfs.umount("/small")


def test_a_full_partition_loses_an_event_without_a_crash():
    import vfs

    folder = _small_partition(8)
    try:
        s = store.Store(folder, capacity=5000)
        s.capacity = 100000  # as if the store ignored its partition: the flash fills
        for i in range(3000):
            if not s.append(frames.EV_BREACH, 1000 + i, 1, 2):
                break
        assert s.lost == 1 and s.count == i
        assert store.Store(folder).count == s.count  # what was stored before is all still there
    finally:
        vfs.umount("/small")
