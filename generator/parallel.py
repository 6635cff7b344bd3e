"""One helper for using both cores on independent, per-activity work (pages, feed events).

Workers are forked, so they share the already loaded model instead of having it pickled; only
chunk bounds go out and results come back. Output does not depend on the split, so a build is
byte-identical with one core or many.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# The job of a worker process: set in the worker only (by the pool's initializer, handed over
# by the fork itself, never pickled), so the parent keeps no state between calls.
_JOB: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def _adopt(job: tuple[Callable[[Any], Any], Sequence[Any]]) -> None:
    global _JOB
    _JOB = job


def _run(bounds: tuple[int, int]) -> list[Any]:
    assert _JOB is not None
    fn, items = _JOB
    try:
        return [fn(x) for x in items[slice(*bounds)]]
    except Exception:
        # an exception that cannot be pickled back (one whose __init__ takes other arguments)
        # would hang pool.map for ever; its text always travels
        raise RuntimeError(traceback.format_exc()) from None


def fork_map(fn: Callable[[T], R], items: Sequence[T], *, parallel: bool, min_items: int = 400) -> list[R]:
    """``[fn(x) for x in items]``, on every core when ``parallel`` and there are enough items to
    be worth it. `kepu serve` passes ``parallel=False``: its process runs the live-reload server
    and file-watcher threads, and forking a threaded process can leave a child holding a lock no
    thread will release."""
    workers = os.cpu_count() or 1
    if (not parallel or len(items) < min_items or workers < 2
            or "fork" not in multiprocessing.get_all_start_methods()):
        return [fn(x) for x in items]
    size = -(-len(items) // (workers * 4))
    # Objects that exist before the fork are moved out of the collector's reach, so a worker's
    # garbage collection does not write to (and so copy) every page of the shared model. Left
    # frozen when the caller had frozen them (see plugin.py).
    frozen = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        # A fresh worker for each share (maxtasksperchild=1): whatever of the shared model a
        # worker touches (reference counts) is copied into it, so a worker living through half of
        # the items ended up with a private copy of half the model. With pages made in file order
        # (outputs/build.py) the peak at 30,000 activities fell from 638 to 478 MB, at 200,000
        # from 3.8 to 3.0 GB; a fork costs milliseconds.
        with multiprocessing.get_context("fork").Pool(workers, _adopt, ((fn, items),),
                                                      maxtasksperchild=1) as pool:
            parts = pool.map(_run, [(i, min(i + size, len(items))) for i in range(0, len(items), size)])
    finally:
        if not frozen:
            gc.unfreeze()
    return [r for part in parts for r in part]
