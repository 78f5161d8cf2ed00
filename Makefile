# emtag: every workflow. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
CAPTURES := ../shared/data/gpsd-nmea
BOARD ?=
PORT ?=
FIRMWARE ?=
CONFIG ?= devices/example-tag.json
DRY_RUN ?=
JOBS ?= 2
TAGS ?= 500
SEED ?= 1
SCHEDULER ?=
# The boards' MicroPython, built from the vendored source (docs/interpreters.md)
MP_VERSION := 1.28.0
MP_ARCHIVE := ../shared/vendor/micropython-$(MP_VERSION).tar.gz
MP_SRC := build/micropython-$(MP_VERSION)
MP32 := build/mp32/micropython
RV32 := build/rv32/firmware.elf
RV32_FROZEN := $(wildcard firmware/*.py tests/firmware/*_probe.py tests/firmware/scratch.py) tests/mp/runner.py tests/mp/ramdisk.py tests/mp/rv32_manifest.py
DEBS := gcc-multilib gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc postgresql postgresql-15-postgis-3
# -O2 without assertions, as the ESP32 port's own build (sdkconfig.base: CONFIG_COMPILER_OPTIMIZATION_PERF);
# floats single precision, as the ESP32 port's (MICROPY_FLOAT_IMPL_FLOAT), each operation rounded
# to 32 bits as its FPU and the C3's soft float do (SSE, not the x87's 80-bit registers)
MP_UNIX_FLAGS := MICROPY_FORCE_32BIT=1 MICROPY_PY_THREAD=0 MICROPY_PY_BTREE=0 MICROPY_SSL_MBEDTLS=0 MICROPY_PY_SSL=0 MICROPY_PY_FFI=0 \
	FROZEN_MANIFEST= USER_C_MODULES=$(CURDIR)/boards/cmodules/unix COPT="-O2 -DNDEBUG" \
	CFLAGS_EXTRA="-DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT -msse2 -mfpmath=sse"
# the C3 has no Zba: the emitter's Zba is switched off at unpacking, and frozen code is built without it
MP_RV32_FLAGS := BOARD=VIRT_RV32 CROSS_COMPILE=riscv64-unknown-elf- RV32_ARCH="rv32imac -misa-spec=2.2" \
	MPY_CROSS_FLAGS=-march=rv32imc MICROPY_VFS_LFS2=1 USER_C_MODULES=$(CURDIR)/boards/cmodules/qemu \
	FROZEN_MANIFEST=$(CURDIR)/tests/mp/rv32_manifest.py

.PHONY: help debs interpreters test sim replay bench mpy typecheck lint flash deploy repl clean distclean venv cohort fleet

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z]+):.*## (.*)/  make \1\t\2/' | expand -t 24

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	@touch $@

venv: $(STAMP) ## create or update .venv from the pinned requirements

debs: ## check the Debian packages the interpreters need; name the apt-get line that installs the missing
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || printf ' %s' $$p; done); \
	if [ -n "$$missing" ]; then echo "make: the interpreters and the centre's PostgreSQL tests need Debian packages; install them with:"; \
	echo "  apt-get install -y$$missing"; exit 1; fi

$(MP_SRC)/.unpacked: $(MP_ARCHIVE) | debs
	rm -rf $(MP_SRC) && mkdir -p build && tar -C build -xzf $(MP_ARCHIVE)
	mkdir -p $(MP_SRC)/lib/micropython-lib && touch $(MP_SRC)/lib/micropython-lib/README.md
	sed -i -E 's/(define MICROPY_EMIT_RV32_ZBA +)\(1\)/\1(0)/' $(MP_SRC)/ports/qemu/mpconfigport.h
	grep -qE 'define MICROPY_EMIT_RV32_ZBA +\(0\)' $(MP_SRC)/ports/qemu/mpconfigport.h
	$(MAKE) -s -C $(MP_SRC)/mpy-cross -j$(JOBS) > build/mpy-cross.log 2>&1 || (tail -20 build/mpy-cross.log; exit 1)
	@touch $@

# the flags as last built with: a change rebuilds the port from clean
MP32_FLAGS := build/mp32/flags
$(shell mkdir -p build/mp32 && (echo '$(MP_UNIX_FLAGS)' | cmp -s - $(MP32_FLAGS) || echo '$(MP_UNIX_FLAGS)' > $(MP32_FLAGS)))

# its path buffers the ESP32 port's size (MICROPY_ALLOC_PATH_MAX 128, not the PC's 4096): each
# nested import holds one on the C stack, which the host board holds to the ESP32's (hostmem.stack);
# its error messages the ESP32 port's (MICROPY_ERROR_REPORTING_NORMAL, not the PC's detailed ones)
$(MP32): $(MP_SRC)/.unpacked $(MP32_FLAGS) $(wildcard boards/cmodules/unix/*/*) Makefile
	@echo "building MicroPython $(MP_VERSION), unix port, 32-bit x86 (log: build/mp32.log)"
	rm -rf $(MP_SRC)/ports/unix/build-standard
	sed -i -E 's/(define MICROPY_ALLOC_PATH_MAX +)\(PATH_MAX\)/\1(128)/' $(MP_SRC)/ports/unix/mpconfigport.h
	grep -qE 'define MICROPY_ALLOC_PATH_MAX +\(128\)' $(MP_SRC)/ports/unix/mpconfigport.h
	sed -i -E 's/(define MICROPY_ERROR_REPORTING +)\(MICROPY_ERROR_REPORTING_DETAILED\)/\1(MICROPY_ERROR_REPORTING_NORMAL)/' \
		$(MP_SRC)/ports/unix/variants/mpconfigvariant_common.h
	grep -qE 'define MICROPY_ERROR_REPORTING +\(MICROPY_ERROR_REPORTING_NORMAL\)' $(MP_SRC)/ports/unix/variants/mpconfigvariant_common.h
	$(MAKE) -C $(MP_SRC)/ports/unix -j$(JOBS) $(MP_UNIX_FLAGS) > build/mp32.log 2>&1 || (tail -20 build/mp32.log; exit 1)
	install -D $(MP_SRC)/ports/unix/build-standard/micropython $@

$(RV32): $(MP_SRC)/.unpacked $(RV32_FROZEN) $(wildcard boards/cmodules/qemu/*/*)
	@echo "building MicroPython $(MP_VERSION), QEMU virt RV32IMC, firmware frozen in (log: build/rv32.log)"
	$(MAKE) -C $(MP_SRC)/ports/qemu -j$(JOBS) $(MP_RV32_FLAGS) > build/rv32.log 2>&1 || (tail -20 build/rv32.log; exit 1)
	install -D $(MP_SRC)/ports/qemu/build-VIRT_RV32/firmware.elf $@

interpreters: debs $(MP32) $(RV32) ## build the boards' MicroPython from ../shared/vendor: unix port at 32 bits, RV32IMC for QEMU

test: $(STAMP) interpreters mpy ## the whole test suite: host, firmware in 32-bit MicroPython and on RV32 under QEMU, after the ESP32 gate
	$(BIN)/pytest -n $(JOBS)

sim: $(STAMP) $(MP32) ## the pilot scenarios through the firmware, its heap capped at a tag's 64 KiB budget: verdicts; reports and maps in build/sim/
	$(BIN)/tagsim run scenarios --heap 64K --out build/sim --json build/sim/results.json --junit build/sim/junit.xml

replay: $(STAMP) $(MP32) ## real receiver captures through the firmware, checked against gpsd
	$(BIN)/tagsim replay $(CAPTURES)

cohort: $(STAMP) ## a synthetic pilot cohort in build/cohort: TAGS=500 SEED=1 (scenario files, cohort.json)
	$(BIN)/tagsim cohort generate --tags $(TAGS) --seed $(SEED) --out build/cohort

fleet: $(STAMP) $(MP32) mpy ## run build/cohort (resumable) and report it; SCHEDULER=tcp://… runs it on a Dask cluster
	$(BIN)/tagsim fleet run build/cohort $(if $(SCHEDULER),--scheduler $(SCHEDULER),--jobs $(JOBS))

bench: $(STAMP) $(MP32) mpy ## measure; figures printed and written to build/bench.json
	$(PY) -m host_sim.bench --out build/bench.json

mpy: $(STAMP) ## cross-compile every firmware module for xtensawin (ESP32/S3) and rv32imc (ESP32-C3)
	$(PY) -m host_sim.device.mpy_gate --out build/mpy

typecheck: $(STAMP) ## mypy: host_sim strict, firmware and boards against the ESP32 MicroPython stubs
	$(BIN)/mypy
	$(PY) -m host_sim.device.typecheck_firmware

lint: $(STAMP) ## ruff over every Python file
	$(BIN)/ruff check host_sim tests firmware boards bench

flash: $(STAMP) ## write MicroPython to a board: BOARD=… PORT=… FIRMWARE=… [DRY_RUN=1]
	$(PY) -m host_sim.device.flash --board "$(BOARD)" --port "$(PORT)" --firmware "$(FIRMWARE)" $(if $(DRY_RUN),--dry-run)

deploy: $(STAMP) mpy ## copy compiled firmware, board and configuration: BOARD=… PORT=… [CONFIG=…] [SECRETS=…] [CENTRE=host:port] [ROMFS=1] [DRY_RUN=1]
	$(PY) -m host_sim.device.deploy --board "$(BOARD)" --port "$(PORT)" --config "$(CONFIG)" $(if $(SECRETS),--secrets "$(SECRETS)") $(if $(CENTRE),--centre "$(CENTRE)") $(if $(ROMFS),--romfs) $(if $(DRY_RUN),--dry-run)

repl: $(STAMP) $(MP32) ## REPL on a device (PORT=…), or the unix-port interpreter with the firmware on its path
	@if [ -n "$(PORT)" ]; then $(BIN)/mpremote connect "$(PORT)" repl; \
	else MICROPYPATH=firmware:boards $(MP32); fi

clean: ## remove build outputs
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .hypothesis

distclean: clean ## also remove the virtual environment
	rm -rf $(VENV)
