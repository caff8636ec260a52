"""Run one function over many items on all cores, sharing read-only state by fork.

In:  a module-level function `func(state, item)`, the state it reads (the loaded project,
     say), the items (file paths, shards), and how many processes.
Out: `[func(state, item) for item in items]`, in order.

Workers are started by fork after `state` is set, so they inherit it without pickling; only
items and results cross between processes. Where fork is unavailable, with one core, or
for few items, the function simply runs here.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any

_STATE: Any = None
_FUNC: Callable | None = None
MIN_ITEMS = 3  # below this, starting processes costs more than it saves


def default_jobs() -> int:
    """HEALTHCOOP_JOBS if set (e.g. 1 in a test that needs one process), else the cores."""
    try:
        return max(1, int(os.environ.get("HEALTHCOOP_JOBS", "")))
    except ValueError:
        return os.cpu_count() or 1


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def fork_map(func: Callable, state: Any, items: Sequence, jobs: int | None = None) -> list:
    """`func(state, item)` for every item, on `jobs` forked processes (default: all cores)."""
    jobs = jobs or default_jobs()
    if jobs <= 1 or len(items) < MIN_ITEMS or not fork_available():
        return [func(state, item) for item in items]
    global _STATE, _FUNC
    from concurrent.futures import ProcessPoolExecutor

    _STATE, _FUNC = state, func
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=context) as pool:
            return list(pool.map(_call, items, chunksize=max(1, len(items) // (jobs * 8))))
    finally:
        _STATE, _FUNC = None, None


def _call(item):
    assert _FUNC is not None
    return _FUNC(_STATE, item)
