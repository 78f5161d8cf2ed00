"""Which CPU core a run keeps to.

The simulator and the firmware processes it drives take turns (the lockstep,
host_sim/run/lockstep.py): one always waits while the other runs. Kept on one
core they lose no time, and each message between them wakes a process on the
core it is already on. Spread over two, every message is a wake-up sent to the
other core, which on a virtual machine costs more than the firmware's turn
(docs/simulator.md gives the figures). A pool's workers each keep to a core of
their own, taken in turn from the cores the pool's parent may use.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

PINNABLE = hasattr(os, "sched_setaffinity")  # Linux; elsewhere runs go where the scheduler puts them


def allowed() -> list[int]:
    """The cores this thread may run on."""
    return sorted(os.sched_getaffinity(0)) if PINNABLE else []


def current() -> int:
    """The core this thread ran on last (Linux: field 39 of its stat)."""
    return int(Path("/proc/thread-self/stat").read_text().rsplit(")", 1)[1].split()[36])


@contextmanager
def one() -> Iterator[None]:
    """Keep this thread, and the processes and threads it starts meanwhile, to one core:
    the one it is on, unless it keeps to one already. Its cores are given back after."""
    cores = allowed()
    if len(cores) < 2:
        yield
        return
    here = current()
    os.sched_setaffinity(0, {here if here in cores else cores[0]})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cores)


def pool_setup() -> dict[str, Any]:
    """ProcessPoolExecutor's initializer and initargs: each worker keeps to the next of
    this process's cores, round the cores again when there are more workers."""
    return {"initializer": _take, "initargs": (allowed(), multiprocessing.Value("i", 0))}


def pin(k: int, cores: list[int] | None = None) -> None:
    """Keep this process from now on to the k-th of cores (default: those it may use),
    counted round them again past the last."""
    cores = allowed() if cores is None else cores
    if len(cores) > 1:
        os.sched_setaffinity(0, {cores[k % len(cores)]})


def _take(cores: list[int], taken: Synchronized[int]) -> None:
    with taken.get_lock():
        k = taken.value
        taken.value = k + 1
    pin(k, cores)
