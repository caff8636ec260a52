"""Run one function over many items on all cores, sharing read-only state by fork.

In:  a module-level function `func(state, item)`, the state it reads (the loaded project,
     say), the items (file paths, shards), how many processes, and optionally how many
     items a process works through (on average) before fresh ones take over.
Out: `[func(state, item) for item in items]`, in order (`fork_map`), or one result at a time
     (`fork_imap`).

Workers are started by fork after `state` is set, so they inherit it without pickling; only
items and results cross between processes. Where fork is unavailable, with one core, or
for few items, the function simply runs here.

Why fresh workers (`per_worker`): a forked worker shares the build's pages only until it
touches them, and in Python reading an object writes its reference count, so a worker
copies the page of every record, stub and string it reads, and keeps the copy until it
exits. Over a long run each worker grew to hold its own copy of most of what it had read
(at 100k records: two workers of 955 MB beside a build process of 830 MB, PSS). So the
items run in rounds of `jobs * per_worker`, each round in a pool of its own: its workers
exit at the end of the round and give their pages back, and the next round's are forked
afresh from the build process (from its main thread, after the previous pool has shut
down, so that no other thread holds a lock at the fork).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from pipeline.errors import EnvironmentProblem

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


def fork_map(func: Callable, state: Any, items: Sequence, jobs: int | None = None, *,
             per_worker: int | None = None) -> list:
    """`func(state, item)` for every item, on `jobs` forked processes (default: all cores);
    with `per_worker`, fresh processes for every `jobs * per_worker` items."""
    return list(fork_imap(func, state, items, jobs, per_worker=per_worker))


def fork_imap(func: Callable, state: Any, items: Sequence, jobs: int | None = None, *,
              per_worker: int | None = None) -> Iterator:
    """`fork_map`'s results one at a time, in order, each as soon as it and those before it
    are done: a caller that folds each result into its own never holds all of them (the
    parsed record files of a large corpus are gigabytes together). The caller must not
    start another `fork_map` while it iterates (the state is this module's)."""
    jobs = jobs or default_jobs()
    if jobs <= 1 or len(items) < MIN_ITEMS or not fork_available():
        for item in items:
            yield func(state, item)
        return
    global _STATE, _FUNC
    _STATE, _FUNC = state, func
    step = len(items) if per_worker is None else jobs * max(1, per_worker)
    try:
        context = multiprocessing.get_context("fork")
        for start in range(0, len(items), step):
            batch = items[start:start + step]
            pool = ProcessPoolExecutor(max_workers=min(jobs, len(batch)), mp_context=context)
            try:
                yield from pool.map(_call, batch, chunksize=max(1, len(batch) // (jobs * 8)))
            finally:  # (a caller that stops early does not wait for the rest: the map cancels
                # what has not started when it is closed, and so does this)
                pool.shutdown(wait=True, cancel_futures=True)
    except BrokenProcessPool as err:
        raise EnvironmentProblem(
            "a worker process ended without finishing its work (killed, perhaps for want "
            f"of memory): {err}",
            fix="Free memory or run with fewer processes (HEALTHCOOP_JOBS=1, or "
                "--jobs 1 where the command has it), then run again.") from err
    finally:
        _STATE, _FUNC = None, None


def _call(item):
    assert _FUNC is not None
    return _FUNC(_STATE, item)
