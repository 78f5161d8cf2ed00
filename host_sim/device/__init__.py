"""Devices and images: board definitions, the interpreters (32-bit unix, RV32 under
QEMU), the cross-compile gate, ROMFS and flash images, zone compilation, flashing
and deploying, and the pseudo-terminal device and console."""
