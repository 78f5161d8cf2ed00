# An alcohol tag's sensors on the host board (docs/alcohol.md), the module itself
# the board's `alcohol` part: what the simulator last gave as inputs (I), the
# board's _inputs, set here by the board. Loaded only for a definition with
# "alcohol", so no other device's heap holds a name of it.
_inputs: dict[str, int] = {}


def sample():
    # (alcohol 1e-4 g/dL, IR counts, skin and case 0.1 °C): a worn, sober tag's until given
    i = _inputs
    return i.get("tac", 0), i.get("ir", 600), i.get("skin_c10", 330), i.get("case_c10", 250)
