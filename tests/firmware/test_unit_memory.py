# What the home unit keeps through a restart (beacon.py's counter mark, hmu.py's
# curfew state), cut by the power at every byte of its next write: run inside
# MicroPython. A write goes beside the file and is renamed over it (counter.py), so
# a cut leaves the new file torn and the old one whole.
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


def test_beacon_counter_through_a_cut_at_every_byte():
    path = scratch.folder("emtag-mark") + "/mark.dat"
    v = beacon.Verifier(_KEY, beacon.TAG, 7, 8, 60, path)

    def advert(n):
        return beacon.make(_KEY, beacon.TAG, 7, n, _T)

    for n in range(1, 17):
        assert v.verify(advert(n), _T) == beacon.ACCEPT
    with open(path, "rb") as f:
        old = f.read()
    assert struct.unpack("<I", old)[0] == 9  # the first accepted, then 8 on
    new = struct.pack("<I", 17)  # what accepting 17 writes

    def check(kept):
        mark = struct.unpack("<I", kept)[0]
        again = beacon.Verifier(_KEY, beacon.TAG, 7, 8, 60, path)
        heard = [again.verify(advert(n), _T) for n in range(1, 26)]
        assert beacon.ACCEPT not in heard[:16]  # nothing accepted before the restart
        assert heard[:mark] == [beacon.REPLAY] * (mark - 1) + [beacon.DUPLICATE]
        assert heard[mark + 7] == beacon.ACCEPT  # the tag moving on is taken 8 past the mark

    _cut_write_at_every_byte(path, old, new, check)


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
