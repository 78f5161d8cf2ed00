# boards/alcohol_sensors.py on the 32-bit interpreter with the ESP32 fakes beside it:
# argv[1] a board definition, argv[2] a JSON file of cases (an argument of 256 bytes
# or more is too long for the unix port's argv), each what the parts hold (the ADC's
# microvolts in turn, the VCNL4040's proximity count, the two TMP117s' raw words).
# Prints the driver's set-up calls, then one JSON line per case: sample(), or the error.
import json
import sys

import alcohol_sensors
import machine

with open(sys.argv[1]) as f:
    spec = json.load(f)["alcohol"]
sensors = alcohol_sensors.Sensors(spec)
print(json.dumps([[x.hex() if isinstance(x, bytes) else x for x in c] for c in machine.CALLS]))
with open(sys.argv[2]) as f:
    cases = json.load(f)
for case in cases:
    machine.ADC.UV[:] = case["uv"]
    mem = machine.I2C.MEM
    mem.clear()
    for addr, reg, word, little in ((spec["ir_addr"], 0x08, case["ir"], True),
                                    (spec["skin_addr"], 0x00, case["skin_raw"], False),
                                    (spec["case_addr"], 0x00, case["case_raw"], False)):
        if word is not None:
            word &= 0xFFFF
            mem[(addr, reg)] = bytes([word & 0xFF, word >> 8] if little else [word >> 8, word & 0xFF])
    try:
        print(json.dumps(sensors.sample()))
    except OSError as e:
        print(json.dumps({"error": e.args[0]}))
