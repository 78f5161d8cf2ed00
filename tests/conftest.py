from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from host_sim import mp
from host_sim.paths import ROOT

MP_HELPERS = ROOT / "tests" / "firmware"

settings.register_profile("default", deadline=None)
settings.load_profile("default")


@pytest.fixture(scope="module")
def fw() -> Iterator[mp.Service]:
    """A MicroPython process with the firmware and the firmware-side test helpers on its path."""
    service = mp.Service(extra_paths=[MP_HELPERS])
    yield service
    service.close()


def capture_path(name: str) -> Path:
    from host_sim.paths import CAPTURES

    return CAPTURES / name
