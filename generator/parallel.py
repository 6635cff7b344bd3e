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

_JOB: tuple[Callable[[Any], Any], Sequence[Any]] | None = None
_ENABLED = True


def use_cores(enabled: bool) -> None:
    """Turn forking on or off for every fork_map. `kepu serve` turns it off: its process runs
    the live-reload server and file-watcher threads, and forking a threaded process can leave a
    child holding a lock no thread will release."""
    global _ENABLED
    _ENABLED = enabled


def _run(bounds: tuple[int, int]) -> list[Any]:
    assert _JOB is not None
    fn, items = _JOB
    try:
        return [fn(x) for x in items[slice(*bounds)]]
    except Exception:
        # an exception that cannot be pickled back (one whose __init__ takes other arguments)
        # would hang pool.map for ever; its text always travels
        raise RuntimeError(traceback.format_exc()) from None


def fork_map(fn: Callable[[T], R], items: Sequence[T], *, min_items: int = 400) -> list[R]:
    """``[fn(x) for x in items]``, on every core when there are enough items to be worth it."""
    global _JOB
    workers = os.cpu_count() or 1
    if (not _ENABLED or len(items) < min_items or workers < 2
            or "fork" not in multiprocessing.get_all_start_methods()):
        return [fn(x) for x in items]
    size = -(-len(items) // (workers * 4))
    _JOB = (fn, items)
    # Objects that exist before the fork are moved out of the collector's reach, so a worker's
    # garbage collection does not write to (and so copy) every page of the shared model. Left
    # frozen when the caller had frozen them (see plugin.py).
    frozen = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_run, [(i, min(i + size, len(items))) for i in range(0, len(items), size)])
    finally:
        _JOB = None
        if not frozen:
            gc.unfreeze()
    return [r for part in parts for r in part]
