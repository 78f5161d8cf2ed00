# Firmware-side helper for the battery tests (called through tests/mp/service.py).
import power


def percent(mv):
    return power.percent(mv)
