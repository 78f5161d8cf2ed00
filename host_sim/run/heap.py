"""The firmware's heap cap (`micropython -X heapsize`) on the 32-bit interpreter,
whose object sizes are the ESP32's (docs/interpreters.md, docs/simulator.md Heap).

BUDGET is a GPS tag's: `make sim` runs the pilot scenarios under it, the bench
its day in the life, and the simulator's default, HEAP, is the same, so every
duty (a tag with zones, an RF curfew and a modem at once; a technician's console
session; an order from the centre) runs within it."""

BUDGET = "64K"
HEAP = BUDGET
