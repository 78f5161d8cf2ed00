"""The ESP32 cross-compile gate: everything compiles for xtensawin and rv32imc, and a
viper type error fails it."""

import os
import shutil
from pathlib import Path

from host_sim.device import mpy_gate
from host_sim.paths import BOARDS, FIRMWARE


def test_every_module_compiles_for_both_arches(tmp_path: Path) -> None:
    assert mpy_gate.main(["--out", str(tmp_path)]) == 0
    modules = mpy_gate.sources([FIRMWARE, BOARDS])
    assert len(modules) >= 8
    for arch in (*mpy_gate.ARCHES, mpy_gate.HOST_ARCH):
        for src in modules:
            mpy = tmp_path / arch / f"{src.stem}.mpy"
            assert mpy.exists() and mpy.stat().st_size > 0, mpy
            assert mpy.read_bytes()[:2] == b"M\x06"  # .mpy version 6


def _copy_firmware(tmp_path: Path) -> Path:
    src = tmp_path / "firmware"
    shutil.copytree(FIRMWARE, src)
    return src


def test_viper_type_error_fails_the_gate(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    src = _copy_firmware(tmp_path)
    nmea = src / "nmea.py"
    nmea.write_text(nmea.read_text() + '''

@micropython.viper
def broken(buf: ptr8) -> int:
    return buf[0] + "x"
''')
    assert mpy_gate.main(["--src", str(src), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "ViperTypeError" in err and "nmea.py" in err
    assert "xtensawin" in err and "rv32imc" in err


def test_literal_above_2_30_in_viper_fails_the_gate(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # Fine on the 64-bit PC, a heap object in viper on the 32-bit ESP32.
    src = _copy_firmware(tmp_path)
    (src / "wide.py").write_text('''import micropython

@micropython.viper
def over(x: int) -> int:
    return x + 1800000000
''')
    assert mpy_gate.main(["--src", str(src), "--out", str(tmp_path / "out")]) == 1
    assert "wide.py" in capsys.readouterr().err


def test_a_changed_source_is_compiled_again_whatever_its_time(tmp_path: Path) -> None:
    """The build cache goes by what the source says, not when it was written: an older
    file put in its place (a copy, a checkout of an older commit) is compiled again."""
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    module = src / "m.py"
    module.write_text("X = 1\n")
    assert mpy_gate.compile_arch([src], out, mpy_gate.HOST_ARCH, stale_only=True) == []
    mpy = out / mpy_gate.HOST_ARCH / "m.mpy"
    first = mpy.read_bytes()
    module.write_text("X = 123456\n")
    os.utime(module, (mpy.stat().st_mtime - 86400,) * 2)  # older than its .mpy
    assert mpy_gate.compile_arch([src], out, mpy_gate.HOST_ARCH, stale_only=True) == []
    second = mpy.read_bytes()
    assert second != first
    when = mpy.stat().st_mtime_ns
    assert mpy_gate.compile_arch([src], out, mpy_gate.HOST_ARCH, stale_only=True) == []
    assert mpy.stat().st_mtime_ns == when and mpy.read_bytes() == second  # the same text: left as it is
