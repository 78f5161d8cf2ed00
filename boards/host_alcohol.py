# An alcohol tag's sensors on the host board (docs/alcohol.md), the module itself
# the board's `alcohol` part: what the simulator last gave as inputs (I), the
# board's _inputs, set here by the board; before the first, what it gave at
# power-on in EMTAG_SENSORS ("tac=0,ir=580,..."), so the reading taken as the tag
# boots is the sensors' and not a default. Loaded only for a definition with
# "alcohol", so no other device's heap holds a name of it.
import os

_inputs: dict[str, int] = {}
_at_boot = {k: int(v) for k, v in (p.split("=") for p in (os.getenv("EMTAG_SENSORS") or "").split(",") if p)}


def sample():
    # (alcohol 1e-4 g/dL, IR counts, skin and case 0.1 °C): a worn, sober tag's unless given;
    # a fault given: the bus answers nothing, as the ESP32's I2C says it
    i = _at_boot | _inputs
    if i.get("fault"):
        raise OSError(19)
    return i.get("tac", 0), i.get("ir", 600), i.get("skin_c10", 330), i.get("case_c10", 250)
