"""fork_map gives the same results, in the same order, as a plain loop (the build relies on it
for byte-identical output whatever the number of cores)."""

from __future__ import annotations

import os
import threading

import pytest

from generator import parallel
from generator.parallel import fork_map


def test_fork_map_matches_a_plain_loop_and_keeps_order():
    items = [f"活动{i}" for i in range(1003)]
    parent = os.getpid()
    out = fork_map(lambda s: (s[::-1], os.getpid()), items, parallel=True, min_items=1)
    assert [r for r, _ in out] == [s[::-1] for s in items]
    if (os.cpu_count() or 1) > 1:
        assert any(pid != parent for _, pid in out), "no work ran in a worker process"


def test_fork_map_small_inputs_stay_in_process():
    parent = os.getpid()
    assert fork_map(lambda _: os.getpid(), [1, 2, 3], parallel=True) == [parent] * 3


def test_parallel_off_keeps_everything_in_process():
    parent = os.getpid()
    assert fork_map(lambda _: os.getpid(), list(range(2000)), parallel=False, min_items=1) == [parent] * 2000


def test_the_parent_keeps_no_job_between_calls():
    """The setting is the argument, not module state: a parallel call leaves nothing behind
    (the job lives in the workers only), and a serial call after it stays in process."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: fork_map runs in process")
    parent = os.getpid()
    pids = fork_map(lambda _: os.getpid(), list(range(2000)), parallel=True, min_items=1)
    assert set(pids) != {parent}
    assert parallel._JOB is None
    assert fork_map(lambda _: os.getpid(), list(range(2000)), parallel=False, min_items=1) == [parent] * 2000


class TwoArgError(Exception):
    """Like load.LoadError: pickle cannot rebuild it, which used to hang the pool."""

    def __init__(self, where: str, message: str):
        super().__init__(message)
        self.where = where


def test_a_worker_error_reaches_the_parent_with_its_text():
    def fail(i: int) -> int:
        if i == 1500:
            raise TwoArgError("a.yml", "第 1500 项出错")
        return i

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: fork_map runs in process")
    raised: list[BaseException] = []

    def call() -> None:
        try:
            fork_map(fail, list(range(2000)), parallel=True, min_items=1)
        except BaseException as err:  # noqa: BLE001 (handed to the test thread)
            raised.append(err)

    # in a thread, so that a hanging pool (the bug this guards against) fails the test instead
    runner = threading.Thread(target=call, daemon=True)
    runner.start()
    runner.join(timeout=60)
    assert not runner.is_alive(), "fork_map hung on a worker error"
    assert len(raised) == 1 and isinstance(raised[0], RuntimeError), raised
    assert "第 1500 项出错" in str(raised[0])
