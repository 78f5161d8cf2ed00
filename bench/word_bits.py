# The interpreter's machine word: 32 on the boards and the simulator's build.
import sys

bits = 1
while sys.maxsize >> bits:
    bits += 1
print(bits + 1)  # the sign bit too
