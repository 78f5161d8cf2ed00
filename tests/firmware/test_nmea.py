# Firmware tests: run inside MicroPython by tests/firmware/conftest.py.
from array import array

import nmea


class _Sink:
    def __init__(self):
        self.lines = []

    def __call__(self, fr):
        self.lines.append(bytes(fr.line[: fr.n]))


def _framed(data, chunk=None):
    sink = _Sink()
    fr = nmea.Framer(sink)
    if chunk:
        for i in range(0, len(data), chunk):
            fr.feed(data[i : i + chunk])
    else:
        fr.feed(data)
    return sink.lines, fr


def test_frames_crlf_lf_and_cr():
    s = b"$GPGGA,,,,,,0,00,99.99,,,,,,*48"
    for end in (b"\r\n", b"\n", b"\r"):
        lines, fr = _framed(s + end + s + end)
        assert lines == [s, s], lines
        assert fr.count(nmea.C_SENTENCES) == 2


def test_partial_reads_one_byte_at_a_time():
    s = b"$GPRMC,,V,,,,,,,,,,N*53"
    lines, _ = _framed(b"junk" + s + b"\r\n" + s + b"\r\n", chunk=1)
    assert lines == [s, s]


def test_bad_checksum_is_counted_and_dropped():
    lines, fr = _framed(b"$GPRMC,,V,,,,,,,,,,N*54\r\n$GPRMC,,V,,,,,,,,,,N\r\n")
    assert lines == []
    assert fr.count(nmea.C_CHECKSUM) == 2


def test_overlong_line_is_counted_and_dropped():
    body = b"GPXXX," + b"1" * 130
    x = 0
    for c in body:
        x ^= c
    line = b"$" + body + b"*%02X\r\n" % x
    lines, fr = _framed(line + b"$GPRMC,,V,,,,,,,,,,N*53\r\n")
    assert lines == [b"$GPRMC,,V,,,,,,,,,,N*53"]
    assert fr.count(nmea.C_OVERLONG) == 1


def test_binary_between_sentences_is_skipped():
    ubx = b"\xb5\x62\x01\x07\x5c\x00$\x00\xff\x10\n\r"
    s = b"$GPRMC,,V,,,,,,,,,,N*53"
    lines, fr = _framed(ubx + s + b"\r\n" + ubx + s + b"\r\n")
    assert lines == [s, s]
    assert fr.count(nmea.C_BROKEN) >= 1


def test_coordinate_is_exact():
    out = array("i", [0])
    offs = array("H", [1, 10, 12, 13])
    line = bytearray(b"$4807.038,N,")
    assert nmea.field_coord(line, offs, 0, 2, out) == nmea.OK
    # 48 + 7.038/60 = 48.1173 exactly
    assert out[0] == 481173000, out[0]
