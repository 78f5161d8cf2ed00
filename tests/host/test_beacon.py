"""The RF beacon's adverts (firmware/beacon.py) inside MicroPython: built as
docs/beacon.md says (checked against CPython's hmac), and verified: replays,
recordings, forgeries, other tags, every truncation, listener reboots and a clock
not yet set."""

import hashlib
import hmac
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim.device import mp
from host_sim.paths import ROOT
from tests.conftest import RV32, X86_32

FW_PLATFORMS = (X86_32, RV32)  # the kernels checked on the simulator's board and on the C3's ISA

TAG, HMU = 1, 2
ACCEPT, OTHER, DUPLICATE, FORGED, STALE, REPLAY, UNSURE = range(7)
REBOOT = -1  # in a stream: the listener restarts, its counter mark read back from flash
MARK_EVERY = 8
keys = st.binary(min_size=1, max_size=64)
u32 = st.integers(0, 2**32 - 1)


def reference_advert(key: bytes, kind: int, ident: int, counter: int, utc: int, mac_len: int) -> bytes:
    body = struct.pack("<BIII", 0x10 | kind, ident, counter, utc)
    mfr = struct.pack("<H", 0xFFFF) + body + hmac.new(key, body, hashlib.sha256).digest()[:mac_len]
    return bytes([2, 1, 6, len(mfr) + 1, 0xFF]) + mfr


@given(keys, st.sampled_from([TAG, HMU]), u32, u32, u32, st.integers(4, 11))
@settings(max_examples=200)
def test_advert_matches_the_documented_layout(fw: mp.Service, key: bytes, kind: int, ident: int, counter: int,
                                              utc: int, mac_len: int) -> None:
    got = bytes.fromhex(fw.call("rf_probe", "make_hex", key.hex(), kind, ident, counter, utc, mac_len))
    assert got == reference_advert(key, kind, ident, counter, utc, mac_len)
    assert len(got) <= 31  # legacy BLE advertising data


def reference_verdicts(key: bytes, ident: int, mac_len: int, fresh: int,
                       items: list[tuple[bytes, int]]) -> list[int]:
    """What a verifier of (TAG, ident) must say, written from docs/beacon.md: an empty
    advert is a reboot, a time of 0 a clock not yet set."""
    last, mark, sure, out = 0, 0, 0, []
    for adv, now in items:
        if not adv:
            last, sure = mark, mark + MARK_EVERY if mark else 0
            out.append(REBOOT)
            continue
        m = adv[7:] if len(adv) > 7 and adv[3:7] == bytes([len(adv) - 4, 0xFF, 0xFF, 0xFF]) else None
        if m is None or len(m) < 13 or m[0] != 0x10 | TAG or struct.unpack_from("<I", m, 1)[0] != ident:
            out.append(OTHER)
            continue
        counter, sent = struct.unpack_from("<II", m, 5)
        if len(m) != 13 + mac_len or m[13:] != hmac.new(key, m[:13], hashlib.sha256).digest()[:mac_len]:
            out.append(FORGED)
        elif now and abs(sent - now) > fresh:
            out.append(STALE)
        elif counter == last:
            out.append(DUPLICATE)
        elif counter < last:
            out.append(REPLAY)
        elif counter < sure:
            out.append(UNSURE)
        else:
            last = counter
            mark = counter if counter >= mark + MARK_EVERY or not mark else mark
            out.append(ACCEPT)
    return out


@st.composite
def advert_streams(draw: st.DrawFn) -> tuple[bytes, int, int, list[tuple[bytes, int]]]:
    key, ident, mac_len = draw(keys), draw(u32), draw(st.integers(4, 11))
    now, counter, sent = 1_800_000_000, 0, []
    items = []
    for _ in range(draw(st.integers(1, 25))):
        now += draw(st.integers(0, 120))
        how = draw(st.sampled_from(["fresh", "fresh", "fresh", "replay", "other_tag", "other_key", "stale", "trunc",
                                    "flip", "garbage", "hmu", "reboot", "unset"]))
        counter += draw(st.integers(1, 3))
        if how == "reboot":
            items.append((b"", now))
            continue
        if how == "unset" and sent:  # a recording, judged with the clock unset: by its counter alone
            items.append((draw(st.sampled_from(sent)), 0))
            continue
        if how == "replay" and sent:
            adv = draw(st.sampled_from(sent))
        elif how == "other_tag":
            adv = reference_advert(key, TAG, (ident + draw(st.integers(1, 2**32 - 1))) % 2**32, counter, now, mac_len)
        elif how == "other_key":
            adv = reference_advert(key + b"x", TAG, ident, counter, now, mac_len)
        elif how == "stale":
            adv = reference_advert(key, TAG, ident, counter, now - draw(st.integers(61, 10**6)), mac_len)
        elif how == "trunc":
            other = draw(st.integers(4, 11).filter(lambda n: n != mac_len))
            adv = reference_advert(key, TAG, ident, counter, now, other)
        elif how == "flip":
            good = bytearray(reference_advert(key, TAG, ident, counter, now, mac_len))
            good[draw(st.integers(7, len(good) - 1))] ^= 1 << draw(st.integers(0, 7))
            adv = bytes(good)
        elif how == "garbage":
            adv = draw(st.binary(max_size=31))
        elif how == "hmu":
            adv = reference_advert(key, HMU, ident, counter, now, mac_len)
        else:
            skew = draw(st.one_of(st.sampled_from([-61, -60, 60, 61]), st.integers(-60, 60)))
            adv = reference_advert(key, TAG, ident, counter, now + skew, mac_len)
            sent.append(adv)
        items.append((adv, now))
    return key, ident, mac_len, items


@given(advert_streams())
@settings(max_examples=300)
def test_verifier_against_the_reference(fw: mp.Service, stream: tuple[bytes, int, int, list[tuple[bytes, int]]]
                                        ) -> None:
    key, ident, mac_len, items = stream
    got = fw.call("rf_probe", "verify_stream", key.hex(), TAG, ident, mac_len, 60, [[a.hex(), t] for a, t in items],
                  True)
    assert got == reference_verdicts(key, ident, mac_len, 60, items)
    accepted = [struct.unpack_from("<I", a, 12)[0] for (a, _), v in zip(items, got, strict=True) if v == ACCEPT]
    assert accepted == sorted(set(accepted))  # the counter only ever moves forward, across reboots too


@given(keys, u32, st.lists(st.binary(max_size=40), min_size=1, max_size=30))
@settings(max_examples=100)
def test_no_forgery_is_accepted(fw: mp.Service, key: bytes, ident: int, junk: list[bytes]) -> None:
    # Random data, and random data dressed in our header: never accepted.
    dressed = [bytes([2, 1, 6, len(j) + 3 + 13, 0xFF, 0xFF, 0xFF, 0x11]) + struct.pack("<I", ident) + j
               for j in junk]
    got = fw.call("rf_probe", "verify_stream", key.hex(), TAG, ident, 8, 60,
                  [[a.hex(), 1_800_000_000] for a in junk + dressed])
    assert ACCEPT not in got and DUPLICATE not in got


def test_documented_vector(fw: mp.Service) -> None:
    doc = (ROOT / "docs" / "beacon.md").read_text()
    vector = doc.split("```")[-2].strip()
    args = ("5a" * 32, TAG, 0x7A600001, 1, 1_796_083_200, 8)
    assert reference_advert(bytes.fromhex(args[0]), *args[1:]).hex() == vector
    assert fw.call("rf_probe", "make_hex", *args) == vector
