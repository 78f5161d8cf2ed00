# boards/esp32_board.py on the 32-bit interpreter with the fakes beside it: for each
# board definition given and each combination of what the firmware must hear, does
# wait() light-sleep, which wake sources does it arm, and does its radio scan? One
# JSON line per case; then, for each reason the chip gives for waking, what woke()
# says of it.
import json
import sys

import esp32_board
import machine

for name in sys.argv[1:]:
    with open(name) as f:
        defn = json.load(f)
    board = esp32_board.Board(defn)
    for hears in range(64):
        del machine.CALLS[:]
        board.wait(5, hears)
        slept = [c for c in machine.CALLS if c[0] == "lightsleep"]
        wakes = sorted(c[0] for c in machine.CALLS if c[0] in ("ext0", "ext1", "gpio"))
        scans = [list(c[1:]) for c in machine.CALLS if c[0] == "scan"]
        print(json.dumps({"board": defn["name"], "hears": hears, "slept": len(slept), "wakes": wakes,
                          "scanning": board.radio.scanning, "scans": scans}))
    for why in ("TIMER_WAKE", "EXT0_WAKE", "EXT1_WAKE", "PIN_WAKE"):
        machine.WAKE[0] = getattr(machine, why)
        board.wait(5, 0)
        print(json.dumps({"board": defn["name"], "why": why, "ring": board.woke(4), "console": board.woke(16)}))
    machine.WAKE[0] = machine.TIMER_WAKE
