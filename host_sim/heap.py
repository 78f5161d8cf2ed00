"""The firmware's heap caps (`micropython -X heapsize`), at the unix port's 64-bit
object sizes (docs/simulator.md, Heap).

BUDGET is a GPS tag's duties: `make sim` runs the pilot scenarios under it, and
the bench its day in the life. HEAP, the simulator's default, also holds what the
budget does not at these sizes: a tag with zones, an RF curfew and a modem at
once, a technician's console session, and an order from the centre checked
beside the one in force."""

BUDGET = "64K"
HEAP = "80K"
