"""fork_map gives the same results, in the same order, as a plain loop (the build relies on it
for byte-identical output whatever the number of cores)."""

from __future__ import annotations

import os

from generator.parallel import fork_map


def test_fork_map_matches_a_plain_loop_and_keeps_order():
    items = [f"活动{i}" for i in range(1003)]
    parent = os.getpid()
    out = fork_map(lambda s: (s[::-1], os.getpid()), items, min_items=1)
    assert [r for r, _ in out] == [s[::-1] for s in items]
    if (os.cpu_count() or 1) > 1:
        assert any(pid != parent for _, pid in out), "no work ran in a worker process"


def test_fork_map_small_inputs_stay_in_process():
    parent = os.getpid()
    assert fork_map(lambda _: os.getpid(), [1, 2, 3]) == [parent] * 3
