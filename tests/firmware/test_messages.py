# A built-in exception says what the boards' MicroPython says: the ESP32 port reports
# errors at MICROPY_ERROR_REPORTING_NORMAL, without the value at fault, and the
# firmware passes such texts on (a refused order's reason, the technician's console).
# Run inside MicroPython, on each interpreter the firmware is tested on.


def test_a_builtin_error_names_no_value():
    try:
        int("12x")
    except ValueError as e:
        said = str(e)
    assert said == "invalid syntax for integer with base 10", said
