"""Running firmware: the lockstep driver, the tag's rig and the home unit's, the
modem emulator and serial uplink they talk through, the energy and heap models,
a scenario's run (sim.execute) and real captures replayed through the parser."""
