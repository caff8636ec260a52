"""The garbage-collector policy of a build or a validation run.

In:  nothing; `long_lived_heap()` wraps a run, `freeze_loaded()` marks the end of loading.
Out: the same results, with Python's cyclic collector kept off the objects that live for the
     whole run.

Why: reading a project makes millions of small objects (records, positions, strings in
lists and dicts) that live until the run ends and hold no reference cycle. CPython's cyclic
collector walks every tracked object again at each full collection; reading 10,000
generated records spent 53% of its CPU time there (6.7 of 12.9 s, measured with
gc.callbacks), and the shards' workers walked the inherited project too, which also copies
its pages on write. So, as the `gc` documentation advises for processes that fork: no
collection while loading (reference counting still frees everything that is not in a
cycle), then `gc.freeze()` moves what was loaded out of the collector's sight before the
shards run, and collection is switched back on for what the shards create. At the end the
frozen objects are handed back to the collector and its previous state is restored, so a
process that runs many builds (the tests) keeps collecting between them.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_depth = 0  # nested runs (build_release -> check_project): only the outermost acts
_collecting = True  # the collector's state when the outermost run began


@contextlib.contextmanager
def long_lived_heap() -> Iterator[None]:
    """Collection off for the run (see the module docstring), restored afterwards."""
    global _depth, _collecting
    _depth += 1
    if _depth > 1:
        try:
            yield
        finally:
            _depth -= 1
        return
    _collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        _depth -= 1
        gc.unfreeze()
        if _collecting:
            gc.enable()
        else:
            gc.disable()


def freeze_loaded() -> None:
    """Everything made so far lives for the run: out of the collector's sight; collection
    back on for what is made from now on (only inside `long_lived_heap`, and only if it
    was on when the run began)."""
    if _depth:
        gc.freeze()
        if _collecting:
            gc.enable()


@contextlib.contextmanager
def shard_heap() -> Iterator[None]:
    """One shard's work with the collector paused, then one young-generation collection.

    Why: a shard makes a few hundred thousand short-lived objects (terms, keys, rows) and
    no reference cycle (measured: 0 objects collected after each record shard of the 10k
    corpus; the topics shard, an rdflib graph, leaves about a thousand). With the collector
    on, allocation alone triggered collections that walked the shard's live lists again and
    again, and full ones that walked everything the worker had kept (its term memory):
    6 of 28 s of the 10k shard stage. Paused, every object the shard made is in the
    youngest generation when it ends; `gc.collect(0)` walks only those that survived and
    frees any cycle among them, so each object is walked about once. The caller's state
    (on or off) is restored."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.collect(0)
            gc.enable()
