"""Fuzzing the tag's NMEA input inside MicroPython: real and generated sentences,
mutated (bit flips, truncation, insertion, CR/LF in odd places, lost and doubled
'$'), and random byte streams. No exception escapes; every sentence the framer
passes on has a correct checksum and stands verbatim in the input; the parser's
retained memory does not grow."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim.device import mp
from host_sim.paths import CAPTURES
from host_sim.world import captures

SENTENCES = 100_000
BATCH = 5_000


def _checksum_ok(s: str) -> bool:
    if len(s) < 4 or s[0] != "$" or s[-3] != "*":
        return False
    x = 0
    for c in s[1:-3].encode():
        x ^= c
    try:
        return x == int(s[-2:], 16)
    except ValueError:
        return False


def _corpus() -> list[bytes]:
    lines = []
    for log in sorted(CAPTURES.glob("*.log")):
        lines += [ln.rstrip(b"\r\n") for ln in captures.raw_lines(log) if ln.startswith(b"$")]
    return lines


def _mutate(rng: random.Random, s: bytes) -> bytes:
    b = bytearray(s)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        i = rng.randrange(len(b) + 1) if b else 0
        if op == 0 and b:
            j = rng.randrange(len(b))
            b[j] ^= 1 << rng.randrange(8)
        elif op == 1:
            del b[i:]
        elif op == 2:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3:
            b[i:i] = rng.choice([b"\r", b"\n", b"\r\n", b"\n\r"])
        elif op == 4:
            b[i:i] = b"$"
        elif op == 5 and b"$" in b:
            b.remove(ord("$"))
        elif op == 6:
            b[i:i] = b"," * rng.randint(1, 40)
    return bytes(b)


def _stream(rng: random.Random, corpus: list[bytes], n: int) -> list[bytes]:
    out = []
    for _ in range(n):
        s = rng.choice(corpus)
        r = rng.random()
        if r < 0.6:
            s = _mutate(rng, s)
        elif r < 0.7:
            s = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
        out.append(s + rng.choice([b"\r\n", b"\n", b"\r", b""]))
    return out


def test_fuzzed_streams(fw: mp.Service) -> None:
    rng = random.Random(20261130)
    corpus = _corpus()
    fed = delivered = 0
    for _ in range(SENTENCES // BATCH):
        chunks = _stream(rng, corpus, BATCH)
        data = b"".join(chunks)
        # cut the stream at random places, as UART reads would
        cuts = sorted(rng.sample(range(1, len(data)), 400))
        pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        result = fw.call("nmea_probe", "fuzz", [p.hex() for p in pieces])
        for s in result["delivered"]:
            assert _checksum_ok(s), s
            assert len(s) <= 120 and s.encode() in data, s
        counts = result["counts"]
        assert counts["sentences"] == len(result["delivered"])
        assert counts["accepted"] + counts["unknown"] + counts["malformed"] == counts["sentences"]
        fed += len(chunks)
        delivered += len(result["delivered"])
    assert fed == SENTENCES
    assert 0.2 * SENTENCES < delivered < SENTENCES  # the clean ones got through, the broken did not


def test_memory_stays_bounded(fw: mp.Service) -> None:
    rng = random.Random(7)
    chunks = _stream(rng, _corpus(), 20_000)
    growth = fw.call("nmea_probe", "retained", [c.hex() for c in chunks])
    assert growth < 256, f"parser retained {growth} bytes after 20,000 sentences"


@given(st.lists(st.binary(max_size=300), max_size=20))
@settings(max_examples=300)
def test_random_bytes(fw: mp.Service, chunks: list[bytes]) -> None:
    result = fw.call("nmea_probe", "fuzz", [c.hex() for c in chunks])
    data = b"".join(chunks)
    for s in result["delivered"]:
        assert _checksum_ok(s) and s.encode() in data
