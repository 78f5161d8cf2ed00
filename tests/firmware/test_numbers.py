# The boards' floats are IEEE single precision: the ESP32 port is built with
# MICROPY_FLOAT_IMPL_FLOAT, and the C3 computes them in software to the same rounding.
# A whole number above 2**24 may then not be itself as a float, which is why the
# firmware decides in integers. Run inside MicroPython, on each interpreter the
# firmware is tested on, which must round as the boards do.

_BIG = 1 << 24


def test_a_float_has_24_bits_of_mantissa():
    assert float(_BIG + 1) == float(_BIG)  # 16,777,217 rounds to even
    assert float(_BIG - 1) + 1 == _BIG
    assert float(_BIG) + 1 == float(_BIG)


def test_each_operation_rounds_to_single_precision():
    # (1 + 2**-23) squared is 1 + 2**-22 + 2**-46: rounded to 24 bits the last term goes
    x = 1.0 + 2.0 ** -23
    assert x * x - (1.0 + 2.0 ** -22) == 0.0


def test_a_root_in_floats_can_be_a_unit_long():
    # how the tag reports a moved home unit's distance (firmware/tag.py): one below
    # 4098**2 rounds up to it as a float, so the root comes out 4098, not 4097; the
    # decision before it (d2 > far * far) is in integers, and exact
    d2 = 4098 * 4098 - 1
    assert int(d2 ** 0.5) == 4098
