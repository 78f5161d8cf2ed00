"""The link's wire format: the firmware's frames (inside MicroPython) and the
centre's (host_sim/wire.py, written from docs/frames.md) agree, byte for byte,
and with the test vectors in the document."""

import hashlib
import hmac
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim import wire
from host_sim.device import mp
from host_sim.paths import FIRMWARE, ROOT
from tests.conftest import RV32, X86_32

FW_PLATFORMS = (X86_32, RV32)  # the kernels checked on the simulator's board and on the C3's ISA

KEY = bytes(range(32))
DEV = "tag-0001"


def _vectors() -> dict[str, str]:
    text = (ROOT / "docs" / "frames.md").read_text()
    return dict(re.findall(r"^\| `([a-z_]+)` \| `([0-9a-f]+)` \|$", text, re.M))


def test_documented_vectors() -> None:
    v = _vectors()
    ev = wire.Event(7, 1796083200, 1, 0, 524862000, -18904000, 8, 32, 255, bytes.fromhex("0102030405060708"))
    assert wire.events_frame(KEY, wire.device_id(DEV), [ev], sent=1796083205).hex() == v["events_frame"]
    assert wire.ack_frame(KEY, wire.device_id(DEV), 7).hex() == v["ack_frame"]
    assert wire.ack_frame(KEY, wire.device_id(DEV), 7, 1796083205250).hex() == v["ack_frame_timed"]
    assert wire.slip(bytes([0xC0, 0x01, 0xDB])).hex() == v["slip"]
    assert ev.pack().hex() == v["event_record"]


@given(st.binary(max_size=64), st.binary(max_size=300))
@settings(max_examples=200)
def test_firmware_hmac_is_rfc2104(fw: mp.Service, key: bytes, msg: bytes) -> None:
    assert fw.call("link_probe", "hmac_hex", key.hex(), msg.hex()) == hmac.new(key, msg, hashlib.sha256).hexdigest()


@given(st.binary(max_size=100), st.binary(max_size=300))
@settings(max_examples=300)
def test_a_keyed_mac_is_rfc2104(key: bytes, msg: bytes) -> None:
    """The centre's prepared key (wire.Keyed) against Python's HMAC, keys longer than
    SHA-256's block among them; frames sealed and opened under either are the same."""
    assert wire.Keyed(key).mac(msg) == hmac.new(key, msg, hashlib.sha256).digest()[:wire.MAC_LEN] == wire.mac(key, msg)
    frame = wire.ack_frame(wire.keyed(key), wire.device_id(DEV), 7)
    assert frame == wire.ack_frame(key, wire.device_id(DEV), 7)
    assert wire.open_frame(wire.keyed(key), frame) == wire.open_frame(key, frame)


events = st.lists(st.tuples(st.integers(1, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 255),
                            st.integers(-900000000, 900000000), st.integers(-1800000000, 1800000000),
                            st.integers(0, 65535), st.integers(-32768, 32767), st.integers(0, 255),
                            st.binary(min_size=8, max_size=8)), min_size=1, max_size=16)


@given(events, st.integers(0, 2**32 - 1))
@settings(max_examples=150)
def test_firmware_and_centre_frames_agree(fw: mp.Service, evs: list[tuple], sent: int) -> None:  # type: ignore[type-arg]
    # frames.event(seq, utc, kind, lat, lon, acc_m, depth_m, battery, zone_id)
    fw_hex = fw.call("link_probe", "events_frame_hex", KEY.hex(), DEV, [[*e[:8], e[8].hex()] for e in evs], sent)
    host = wire.events_frame(KEY, wire.device_id(DEV),
                             [wire.Event(e[0], e[1], e[2], 0, e[3], e[4], e[5], e[6], e[7], e[8]) for e in evs], sent)
    assert fw_hex == host.hex()
    kind, dev, payload = wire.open_frame(KEY, host)
    assert kind == wire.EVENTS and [x.seq for x in wire.events_of(payload)] == [e[0] for e in evs]
    assert wire.sent_of(payload) == sent


@given(st.binary(min_size=1, max_size=200), st.integers(0, 2**32 - 1), st.none() | st.integers(0, 2**64 - 1))
@settings(max_examples=150)
def test_tag_accepts_only_authentic_acks(fw: mp.Service, noise: bytes, seq: int, utc_ms: int | None) -> None:
    good = wire.ack_frame(KEY, wire.device_id(DEV), seq, utc_ms)  # with the centre's time or without
    assert fw.call("link_probe", "open_hex", KEY.hex(), DEV, good.hex())["kind"] == wire.ACK
    forged = wire.ack_frame(b"x" * 32, wire.device_id(DEV), seq)
    other = wire.ack_frame(KEY, wire.device_id("tag-0002"), seq)
    for bad in (good[:-1] + bytes([good[-1] ^ 1]), good[:-3], noise, forged, other):
        assert "error" in fw.call("link_probe", "open_hex", KEY.hex(), DEV, bad.hex())


@given(st.lists(st.binary(max_size=200), max_size=8), st.data())
@settings(max_examples=150)
def test_slip_round_trip_both_sides(fw: mp.Service, frames: list[bytes], data: st.DataObject) -> None:
    frames = [f for f in frames if f]
    stream = b"".join(wire.slip(f) for f in frames)
    assert [f for f in wire.Unslip().feed(stream)] == frames
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=5)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    got = fw.call("link_probe", "slip_roundtrip", [p.hex() for p in pieces])
    assert got["frames"] == [f.hex() for f in frames]
    for f in frames[:2]:
        assert fw.call("link_probe", "slip_hex", f.hex()) == wire.slip(f).hex()


def _unslip_bytewise(stream: bytes, limit: int) -> tuple[list[bytes], int]:
    """SLIP decoded a byte at a time, as the format reads: (frames, oversized dropped)."""
    frames, buf, over, oversized = [], bytearray(), False, 0
    for b in stream:
        if b == wire.END:
            if over:
                oversized += 1
            elif buf:
                frames.append(bytes(buf).replace(b"\xdb\xdc", b"\xc0").replace(b"\xdb\xdd", b"\xdb"))
            buf, over = bytearray(), False
        elif not over:
            over = len(buf) >= 2 * limit
            buf = bytearray() if over else buf + bytes([b])
    return frames, oversized


@given(st.lists(st.binary(max_size=40) | st.sampled_from([b"\xc0", b"\xdb", b"\xc0\xc0"]), max_size=12),
       st.integers(1, 12), st.data())
@settings(max_examples=300)
def test_host_unslip_matches_bytewise_decoding(chunks: list[bytes], limit: int, data: st.DataObject) -> None:
    """Any stream, frames slipped or raw garbage, cut anywhere: the same frames and the same
    count of oversized ones as a byte-at-a-time decoder, a frame of exactly twice the limit kept."""
    stream = b"".join(wire.slip(c) if data.draw(st.booleans()) else c for c in chunks)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    unslip, got = wire.Unslip(limit), []
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        got += unslip.feed(stream[a:b])
    assert (got, unslip.oversized) == _unslip_bytewise(stream, limit)
    edge = wire.Unslip(4)
    assert list(edge.feed(b"\xc0" + b"x" * 8 + b"\xc0" + b"y" * 9 + b"\xc0")) == [b"x" * 8]
    assert edge.oversized == 1


def test_event_codes_are_one_table() -> None:
    """The firmware's EV_ constants, the host's table (wire.Kind) and docs/frames.md
    name the same codes: each firmware constant is in the table under its own name,
    and every code in the table is in the document's list of types."""
    found = {}
    for path in FIRMWARE.glob("*.py"):
        for name, value in re.findall(r"^_?EV_(\w+) = const\((\d+)\)", path.read_text(), re.M):
            found[name] = int(value)
    assert len(found) >= 20
    assert {name: wire.Kind(value).name for name, value in found.items()} == {name: name for name in found}
    types = next(ln for ln in (ROOT / "docs" / "frames.md").read_text().splitlines() if ln.startswith("| type |"))
    listed = {int(n) for n in re.findall(r"(?:[|,;:] )(\d+) ", types)}
    assert listed == {k.value for k in wire.Kind}
