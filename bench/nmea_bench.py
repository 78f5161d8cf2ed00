# NMEA throughput and allocation in MicroPython: the tag's parser beside a naive
# one (checksum, split(b','), RMC/GGA coordinates to integers) on the same stream.
# Run by host_sim.bench with an ESP32-like heap; prints one JSON line.
import gc
import json
import sys
import time

import gnss
import nmea

_SAMPLE = 60  # sentences in the allocation sample (the naive parse must fit the heap uncollected)


def naive_coord(v, h):
    dot = v.find(b".")
    deg = int(v[: dot - 2])
    whole, _, frac = v[dot - 2 :].partition(b".")
    scale = 10 ** len(frac)
    e7 = deg * 10000000 + (int(whole) * scale + int(frac or b"0")) * 10000000 // (60 * scale)
    return -e7 if h in (b"S", b"W") else e7


def naive(line):
    line = line.strip()
    star = line.find(b"*")
    if not line.startswith(b"$") or star < 0:
        return None
    x = 0
    for c in line[1:star]:
        x ^= c
    try:
        if x != int(line[star + 1 : star + 3], 16):
            return None
    except ValueError:
        return None
    f = line[1:star].split(b",")
    kind = f[0][2:]
    try:
        if kind == b"RMC" and len(f) > 6 and f[3]:
            return naive_coord(f[3], f[4]), naive_coord(f[5], f[6])
        if kind == b"GGA" and len(f) > 5 and f[2]:
            return naive_coord(f[2], f[3]), naive_coord(f[4], f[5])
    except ValueError:
        return None
    return f


def run_tag(chunks):
    g = gnss.Gnss(lambda f: None)
    t0 = time.ticks_us()
    for c in chunks:
        g.feed(c)
    dt = time.ticks_diff(time.ticks_us(), t0)
    return g.framer.count(nmea.C_SENTENCES), dt


def run_naive(lines):
    n = 0
    t0 = time.ticks_us()
    for ln in lines:
        if naive(ln) is not None:
            n += 1
    dt = time.ticks_diff(time.ticks_us(), t0)
    return n, dt


def alloc_tag(chunks):
    g = gnss.Gnss(lambda f: None)
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    for c in chunks:
        g.feed(c)
    used = gc.mem_alloc() - a
    gc.enable()
    return used, g.framer.count(nmea.C_SENTENCES)


def alloc_naive(lines):
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    for ln in lines:
        naive(ln)
    used = gc.mem_alloc() - a
    gc.enable()
    return used


def main():
    path, repeat = sys.argv[1], int(sys.argv[2])
    with open(path, "rb") as f:
        data = f.read()
    # allocation first, on a sample, while the heap is still empty enough for the
    # naive parse to run uncollected
    end = 0
    for _ in range(_SAMPLE):
        end = data.index(b"\n", end) + 1
    sample = data[:end]
    tag_alloc, sample_n = alloc_tag([sample[i : i + 256] for i in range(0, len(sample), 256)])
    naive_alloc = alloc_naive(sample.split(b"\n")[:-1])
    sample = None
    chunks = [data[i : i + 256] for i in range(0, len(data), 256)]  # UART-sized reads
    lines = data.split(b"\n")
    tag_n = tag_us = naive_n = naive_us = 0
    for _ in range(repeat):  # interleaved, so both meet the same machine state
        n, us = run_tag(chunks)
        tag_n += n
        tag_us += us
        n, us = run_naive(lines)
        naive_n += n
        naive_us += us
    print(json.dumps({
        "sentences": tag_n,
        "sentences_per_s": tag_n * 1000000 // tag_us,
        "alloc_bytes_per_sentence": tag_alloc / sample_n,
        "naive_sentences": naive_n,
        "naive_sentences_per_s": naive_n * 1000000 // naive_us,
        "naive_alloc_bytes_per_sentence": naive_alloc / sample_n,
        "stream_bytes": len(data),
    }))


main()
