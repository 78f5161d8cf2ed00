"""The geofence kernel's word size: its arithmetic replayed in int32 over zones the
compiler accepts and points anywhere on their grids, extreme corners included.
No intermediate may leave a signed 32-bit word (the ESP32's viper int), and no
word the kernel loads through ptr32 may be negative (x86-64 zero-extends ptr32
loads, so a stored -5 would read back as 4294967291 on the PC and -5 on the ESP32).
The model must also give the kernel's own answers, or it models something else."""

import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from host_sim.device import mp, zone_compiler
from host_sim.device.zone_compiler import GRID, UNIT
from host_sim.paths import ROOT
from host_sim.world import zones
from tests.conftest import RV32, X86_32
from tests.host import zone_gen

FW_PLATFORMS = (X86_32, RV32)  # the kernels checked on the simulator's board and on the C3's ISA

HEADER, EDGE = 6, zone_compiler.EDGE_WORDS


def i32(v: int) -> int:
    assert -(2**31) <= v < 2**31, f"{v} overflows a 32-bit word"
    return v


def load(words: list[int], i: int) -> int:
    w = words[i]
    assert 0 <= w < 2**31, f"word {i} = {w}: negative or above 2**31 through ptr32"
    return w


def isqrt_round_model(n: int) -> int:
    r, bit = 0, 1 << 28
    assert 0 <= n < 2**30
    while bit > n:
        bit >>= 2
    while bit:
        if n >= i32(r + bit):
            n = i32(n - (r + bit))
            r = i32((r >> 1) + bit)
        else:
            r >>= 1
        bit >>= 2
    return r + (n > r)


def depth_model(words: list[int], px: int, py: int) -> int:
    reach = load(words, 5)
    gx = max(i32(load(words, 1) - px), i32(px - load(words, 3)))
    gy = max(i32(load(words, 2) - py), i32(py - load(words, 4)))
    if gx > reach or gy > reach:
        return -max(gx, gy)
    inside, best_v2, best_q, band = 0, 32768 * 32768 - 1, 32768, 32768
    for i in range(HEADER, HEADER + load(words, 0) * EDGE, EDGE):
        ay, by = load(words, i + 1), load(words, i + 3)
        dy = i32(py - ay)
        if (dy > band and i32(py - by) > band) or (i32(-dy) > band and i32(by - py) > band):
            continue
        ax, bx = load(words, i), load(words, i + 2)
        dx, ex, ey = i32(px - ax), i32(bx - ax), i32(by - ay)
        if (ay > py and by <= py) or (ay <= py < by):
            cross = i32(i32(ex * dy) - i32(ey * dx))
            if (ay > py and cross < 0) or (ay <= py and cross > 0):
                inside ^= 1
        t = i32(i32(dx * ex) + i32(dy * ey))
        if t <= 0:
            d2 = i32(i32(dx * dx) + i32(dy * dy))
            if d2 < best_v2:
                best_v2 = d2
                hi, lo = max(abs(dx), abs(dy)), min(abs(dx), abs(dy))
                band = min(band, i32(i32(hi + (lo >> 1)) + 1))
        elif t < load(words, i + 4):
            ux, uy = i32(load(words, i + 5) - UNIT), i32(load(words, i + 6) - UNIT)
            s = abs(i32(i32(dx * uy) - i32(dy * ux)))
            q = i32(s + 16384) >> 15
            if q < best_q:
                best_q = q
                band = min(band, q + 2)
    d = min(isqrt_round_model(best_v2), best_q)
    return d if inside else -d


@given(zone_gen.zone_feature(), st.randoms(use_true_random=False))
@settings(max_examples=100)
def test_kernel_fits_int32_and_matches_the_model(fw: mp.Service, feature, rnd: random.Random) -> None:  # type: ignore[no-untyped-def]
    (cz,), blob = zone_compiler.compile_zones([zones.from_feature(feature)], "int32")
    words = cz.kernel_words()
    corners = [(x, y) for x in (-GRID, 0, GRID) for y in (-GRID, 0, GRID)]
    near = [(rnd.randint(-GRID, GRID), rnd.randint(-GRID, GRID)) for _ in range(30)]
    on_edges = [(e[0] + (e[2] - e[0]) // 2, e[1] + (e[3] - e[1]) // 2) for e in cz.edges[:20]]
    pts = corners + near + on_edges + [(e[0], e[1]) for e in cz.edges[:20]]
    model = [depth_model(words, x + GRID, y + GRID) for x, y in pts]
    viper_and_twin = fw.call("geofence_probe", "kernel_pair", blob.hex(), pts)
    assert [v for v, _ in viper_and_twin] == model
    assert [b for _, b in viper_and_twin] == model


@given(st.integers(-GRID, GRID), st.integers(-GRID, GRID))
def test_circle_arithmetic_fits_int32(x: int, y: int) -> None:
    i32(i32(x * x) + i32(y * y))
    isqrt_round_model(x * x + y * y)


def test_ptr32_sign_on_the_boards(fw: mp.Service) -> None:
    """On a 32-bit machine (x86-32 here, RV32 and the ESP32's Xtensa alike) a ptr32
    load is a whole machine word: -5 reads back as -5."""
    assert fw.call("geofence_probe", "ptr32_reads", [-5, 7]) == [-5, 7]


def test_ptr32_zero_extends_on_a_64_bit_pc(tmp_path: Path) -> None:
    """The hazard itself, in the 64-bit PyPI interpreter: there the same load
    zero-extends, so a kernel tested only on a PC would read its negatives wrong.
    That is why the zone words are stored offset, non-negative on every platform."""
    script = tmp_path / "ptr32.py"
    script.write_text("import geofence_probe\nprint(geofence_probe.ptr32_reads([-5, 7]))\n")
    proc = mp.run(script, extra_paths=[ROOT / "tests" / "firmware", ROOT / "bench"], interpreter=mp.micropython64())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"[{2**32 - 5}, 7]"
