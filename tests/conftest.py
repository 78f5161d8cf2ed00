import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from host_sim import cores
from host_sim.device import mp, rv32
from host_sim.paths import ROOT

MP_HELPERS = ROOT / "tests" / "firmware"
BENCH = ROOT / "bench"  # the geofence kernel's bytecode twin
# The boards the firmware is tested on: the unix port built for 32-bit x86 (the
# simulator's), and RV32IMC under QEMU (the ESP32-C3's instruction set).
X86_32 = "x86-32"
RV32 = "rv32"

settings.register_profile("default", deadline=None)
settings.load_profile("default")


def pytest_configure(config: pytest.Config) -> None:
    # each of pytest -n's workers on a core of its own, with the firmware it drives (host_sim/cores.py)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw"):
        cores.pin(int(worker[2:]))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # a test module naming FW_PLATFORMS runs its `fw` tests on each of them
    platforms = getattr(metafunc.module, "FW_PLATFORMS", None)
    if platforms and "fw" in metafunc.fixturenames:
        metafunc.parametrize("fw", platforms, indirect=True, scope="module")


@pytest.fixture(scope="module")
def fw(request: pytest.FixtureRequest) -> Iterator[Any]:
    """MicroPython with the firmware and the firmware-side test helpers: the 32-bit
    unix port (a process), or with the parameter "rv32" the QEMU RV32IMC board."""
    if getattr(request, "param", X86_32) == RV32:
        with rv32.Rv32Board() as board:
            yield board
        return
    service = mp.Service(extra_paths=[MP_HELPERS, BENCH])
    yield service
    service.close()


RV32_SHARE = 6  # QEMU emulates every instruction: RV32 runs each property with a sixth of its examples


@pytest.fixture(autouse=True)
def _fewer_examples_on_rv32(request: pytest.FixtureRequest) -> Iterator[None]:
    callspec = getattr(request.node, "callspec", None)
    test = getattr(request.node, "obj", None)
    chosen = getattr(test, "_hypothesis_internal_use_settings", None)
    if callspec is None or callspec.params.get("fw") != RV32 or chosen is None:
        yield
        return
    test._hypothesis_internal_use_settings = settings(chosen, max_examples=max(10, chosen.max_examples // RV32_SHARE))
    yield
    test._hypothesis_internal_use_settings = chosen


def capture_path(name: str) -> Path:
    from host_sim.paths import CAPTURES

    return CAPTURES / name


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A PostgreSQL server with PostGIS, started for this test run in a folder of its own
    (host_sim/centre/pg_server.py); not installed is a failure that names the packages."""
    from host_sim.centre.pg_server import TempServer

    with TempServer() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def centre_db(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """A new, empty centre database of each kind the centre runs on: a SQLite file, and a
    database on the test run's PostgreSQL server."""
    if request.param == "sqlite":
        return tmp_path / "centre.db"
    return str(request.getfixturevalue("postgres").database(f"t{uuid.uuid4().hex[:16]}"))
