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

.PHONY: help test sim replay bench mpy typecheck lint flash deploy repl clean distclean venv cohort fleet

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z]+):.*## (.*)/  make \1\t\2/' | expand -t 24

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	@touch $@

venv: $(STAMP) ## create or update .venv from the pinned requirements

test: $(STAMP) mpy ## the whole test suite (host and firmware-in-MicroPython), after the ESP32 gate
	$(BIN)/pytest -n $(JOBS)

sim: $(STAMP) ## the pilot scenarios through the firmware, its heap capped at a tag's 64 KiB budget: verdicts; reports and maps in build/sim/
	$(BIN)/tagsim run scenarios --heap 64K --out build/sim --json build/sim/results.json --junit build/sim/junit.xml

replay: $(STAMP) ## real receiver captures through the firmware, checked against gpsd
	$(BIN)/tagsim replay $(CAPTURES)

cohort: $(STAMP) ## a synthetic pilot cohort in build/cohort: TAGS=500 SEED=1 (scenario files, cohort.json)
	$(BIN)/tagsim cohort generate --tags $(TAGS) --seed $(SEED) --out build/cohort

fleet: $(STAMP) mpy ## run build/cohort (resumable) and report it; SCHEDULER=tcp://… runs it on a Dask cluster
	$(BIN)/tagsim fleet run build/cohort $(if $(SCHEDULER),--scheduler $(SCHEDULER),--jobs $(JOBS))

bench: $(STAMP) mpy ## measure; figures printed and written to build/bench.json
	$(PY) -m host_sim.bench --out build/bench.json

mpy: $(STAMP) ## cross-compile every firmware module for xtensawin (ESP32/S3) and rv32imc (ESP32-C3)
	$(PY) -m host_sim.mpy_gate --out build/mpy

typecheck: $(STAMP) ## mypy: host_sim strict, firmware and boards against the ESP32 MicroPython stubs
	$(BIN)/mypy
	$(PY) -m host_sim.typecheck_firmware

lint: $(STAMP) ## ruff over every Python file
	$(BIN)/ruff check host_sim tests firmware boards bench

flash: $(STAMP) ## write MicroPython to a board: BOARD=… PORT=… FIRMWARE=… [DRY_RUN=1]
	$(PY) -m host_sim.flash --board "$(BOARD)" --port "$(PORT)" --firmware "$(FIRMWARE)" $(if $(DRY_RUN),--dry-run)

deploy: $(STAMP) mpy ## copy compiled firmware, board and configuration: BOARD=… PORT=… [CONFIG=…] [ROMFS=1] [DRY_RUN=1]
	$(PY) -m host_sim.deploy --board "$(BOARD)" --port "$(PORT)" --config "$(CONFIG)" $(if $(ROMFS),--romfs) $(if $(DRY_RUN),--dry-run)

repl: $(STAMP) ## REPL on a device (PORT=…), or the unix-port interpreter with the firmware on its path
	@if [ -n "$(PORT)" ]; then $(BIN)/mpremote connect "$(PORT)" repl; \
	else MICROPYPATH=firmware:boards $(BIN)/micropython; fi

clean: ## remove build outputs
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .hypothesis

distclean: clean ## also remove the virtual environment
	rm -rf $(VENV)
