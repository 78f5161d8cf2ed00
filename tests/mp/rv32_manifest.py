# Frozen into the RV32 QEMU image (make interpreters): the firmware as a board
# carries it, the firmware tests' probes, and what runs a test file there.
freeze("$(MPY_DIR)/../../firmware")
freeze("$(MPY_DIR)/../../tests/firmware", ("decide_probe.py", "geofence_probe.py", "link_probe.py", "nmea_probe.py",
                                          "power_probe.py", "rf_probe.py", "clock_probe.py", "alcohol_probe.py",
                                          "scratch.py"))
freeze("$(MPY_DIR)/../../tests/mp", ("runner.py", "ramdisk.py"))
freeze("$(MPY_DIR)/../../bench", ("geofence_twin.py",))
