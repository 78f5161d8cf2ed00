"""A run keeps to one core with the processes it starts, and gives its cores back;
a pool's workers take the cores in turn (host_sim/cores.py)."""

import multiprocessing
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from host_sim import cores

MACHINE = sorted(range(os.cpu_count() or 1))
needs_two = pytest.mark.skipif(len(MACHINE) < 2 or not cores.PINNABLE, reason="one core, or no affinity here")


@pytest.fixture
def every_core() -> Iterator[None]:
    # the test runner keeps each of its workers to one core: these tests start from all of them
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, MACHINE)
    yield
    os.sched_setaffinity(0, before)


def _mask_of_child() -> set[int]:
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        return os.sched_getaffinity(proc.pid)
    finally:
        proc.communicate(b"")


@needs_two
def test_a_run_keeps_to_the_core_it_is_on_with_its_children_and_gives_the_rest_back(every_core: None) -> None:
    with cores.one():
        inside = os.sched_getaffinity(0)
        child = _mask_of_child()
        here = cores.current()
    assert len(inside) == 1
    assert child == inside  # the firmware processes a run starts share its core
    assert here in inside
    assert os.sched_getaffinity(0) == set(MACHINE)


@needs_two
def test_a_run_already_on_one_core_stays_there(every_core: None) -> None:
    os.sched_setaffinity(0, {MACHINE[-1]})
    with cores.one():
        assert os.sched_getaffinity(0) == {MACHINE[-1]}
    assert os.sched_getaffinity(0) == {MACHINE[-1]}


def _worker(setup: dict[str, object], out: "multiprocessing.Queue[list[int]]") -> None:
    setup["initializer"](*setup["initargs"])  # type: ignore[operator]  # as ProcessPoolExecutor calls it
    out.put(sorted(os.sched_getaffinity(0)))


@needs_two
def test_a_pools_workers_take_the_cores_in_turn(every_core: None) -> None:
    ctx = multiprocessing.get_context("fork")
    setup = cores.pool_setup()
    out: multiprocessing.Queue[list[int]] = ctx.Queue()
    masks = []
    for _ in range(len(MACHINE) + 1):  # one more worker than cores: the first core again
        p = ctx.Process(target=_worker, args=(setup, out))
        p.start()
        masks.append(out.get(timeout=30))
        p.join()
    assert masks == [[c] for c in MACHINE] + [[MACHINE[0]]]
