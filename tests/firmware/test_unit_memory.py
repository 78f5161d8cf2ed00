# What the home unit keeps through a restart (beacon.py's counter mark, hmu.py's
# curfew state), cut by the power at every byte of its next write: run inside
# MicroPython. A rewrite goes beside the file and is renamed over it (counter.py),
# so a cut leaves the new file torn and the old one whole; an append is committed
# only when the file is closed, so a cut leaves the file as it was.
import struct

import beacon
import config
import counter
import hmu
import rf_probe
import scratch

_T = 1796500000
_KEY = b"k" * 32


def _cut_write_at_every_byte(path, old, new, check):
    # check() after each way the power can go during the write of new over old
    for cut in range(len(new)):
        counter.atomic_write(path, old)
        with open(path + ".new", "wb") as f:  # torn where the power went, never renamed
            f.write(new[:cut])
        check(old)
    counter.atomic_write(path, new)  # the write whole, and renamed
    check(new)


def _advert(n):
    return beacon.make(_KEY, beacon.TAG, 7, n, _T)


def _restarts_at(path, mark, accepted):
    # a restart with mark the last on flash refuses all that was accepted, takes the new
    again = beacon.Verifier(_KEY, beacon.TAG, 7, 8, 60, path)
    heard = [again.verify(_advert(n), _T) for n in range(1, mark + 9)]
    assert beacon.ACCEPT not in heard[:accepted]
    assert heard[:mark] == [beacon.REPLAY] * (mark - 1) + [beacon.DUPLICATE]
    assert heard[mark + 7] == beacon.ACCEPT  # the tag moving on is taken 8 past the mark


def test_beacon_counter_marks_are_appended_and_a_cut_append_leaves_the_last():
    path = scratch.folder("emtag-mark") + "/mark.dat"
    v = beacon.Verifier(_KEY, beacon.TAG, 7, 8, 60, path)
    for n in range(1, 17):
        assert v.verify(_advert(n), _T) == beacon.ACCEPT
    with open(path, "rb") as f:
        assert f.read() == struct.pack("<II", 1, 9)  # the first accepted, then 8 on
    _restarts_at(path, 9, 16)  # a cut append (17's) is never committed: the file as it was
    # that restart took 17 (8 past the mark) and appended it; the next goes on from there
    v = beacon.Verifier(_KEY, beacon.TAG, 7, 8, 60, path)
    for n in range(25, 30):
        assert v.verify(_advert(n), _T) == beacon.ACCEPT
    with open(path, "rb") as f:
        assert f.read() == struct.pack("<IIII", 1, 9, 17, 25)
    _restarts_at(path, 25, 29)


def test_beacon_counter_through_a_cut_at_every_byte_of_its_rewrite():
    path = scratch.folder("emtag-mark") + "/mark.dat"
    v = beacon.Verifier(_KEY, beacon.TAG, 7, 8, 60, path)
    for n in range(1, 8 * 64 + 1):  # 64 marks: 1, 9, ... 505
        assert v.verify(_advert(n), _T) == beacon.ACCEPT
    with open(path, "rb") as f:
        old = f.read()
    assert len(old) == 4 * 64 and struct.unpack_from("<I", old, 4 * 63)[0] == 505
    new = struct.pack("<I", 513)  # the 65th mark: the file rewritten with it alone

    def check(kept):
        _restarts_at(path, struct.unpack_from("<I", kept, len(kept) - 4)[0], 512)

    _cut_write_at_every_byte(path, old, new, check)
    assert v.verify(_advert(513), _T) == beacon.ACCEPT  # and the running verifier writes just that
    with open(path, "rb") as f:
        assert f.read() == new


def test_unit_state_through_a_cut_at_every_byte():
    folder = scratch.folder("emtag-unit")
    cfg = config.merge(config.defaults(), {"pair_key": "5a" * 16, "beacon_id": "0000abcd",
                                           "curfew": [[127, 19 * 60, 7 * 60]]}, "test")

    def start():
        return hmu.App(rf_probe._Board(folder, _T, _T + 1, [], []), cfg)

    app = start()
    app.alerted, app._seen, app._enforced_since, app._alert_spell = True, True, _T - 900, _T - 900
    app._save(0)  # gone, alerted in the curfew enforced since 15 minutes ago
    with open(folder + "/curfew.state", "rb") as f:
        old = f.read()
    new = struct.pack("<BII", 1 | 4, _T - 900, _T - 900)  # back: no alert standing

    def check(kept):
        again = start()
        if kept == old:
            assert again.alerted and not again.presence.here
        else:
            assert not again.alerted and again.presence.here
        assert again._seen and again._enforced_since == again._alert_spell == _T - 900

    _cut_write_at_every_byte(folder + "/curfew.state", old, new, check)
