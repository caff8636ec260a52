"""The build's collector policy (pipeline/heap.py): off while loading, the loaded objects
frozen before the shards run, and the process's own state given back afterwards, also after
an error, so that a process running many builds (these tests) keeps collecting."""

from __future__ import annotations

import gc

import pytest

from pipeline import heap
from pipeline.build import build_release
from pipeline.errors import InvalidData


def test_build_gives_back_the_collector_as_it_found_it(mini, tmp_path):
    assert gc.isenabled() and gc.get_freeze_count() == 0
    build_release(mini, tmp_path / "out", register=False, site=False, executor="serial")
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        build_release(mini, tmp_path / "again", register=False, site=False, executor="serial")
        assert not gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        gc.enable()


def test_a_failing_build_gives_it_back_too(mini, tmp_path):
    record = next((mini / "data/records").glob("*.yaml"))
    record.write_text(record.read_text(encoding="utf-8").replace("id:", "id: Bad Id\n  x:", 1),
                      encoding="utf-8")
    with pytest.raises(InvalidData):
        build_release(mini, tmp_path / "out", register=False, site=False, executor="serial")
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_loading_is_not_collected_and_the_loaded_objects_are_frozen():
    kept = []
    with heap.long_lived_heap():
        assert not gc.isenabled()
        with heap.long_lived_heap():  # nested (build -> validation): the inner one is inert
            kept.append([object() for _ in range(1000)])
        assert not gc.isenabled()
        heap.freeze_loaded()
        assert gc.isenabled() and gc.get_freeze_count() >= 1000
    assert gc.isenabled() and gc.get_freeze_count() == 0
    heap.freeze_loaded()  # outside a run it does nothing
    assert gc.get_freeze_count() == 0


def test_a_shard_runs_without_collections_and_its_cycles_are_freed_at_its_end():
    import weakref

    class Node:
        pass

    collections = []

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(count)
    try:
        with heap.shard_heap():
            assert not gc.isenabled()
            a, b = Node(), Node()
            a.other, b.other = b, a  # a cycle the shard drops
            alive = weakref.ref(a)
            del a, b
            garbage = [[i] for i in range(50_000)]  # enough to trigger collections if on
            del garbage
            assert collections == [] and alive() is not None
        assert collections == [0] and alive() is None  # one young collection freed it
        assert gc.isenabled()
        gc.disable()
        with heap.shard_heap():
            pass
        assert not gc.isenabled()  # the caller's choice is kept
    finally:
        gc.enable()
        gc.callbacks.remove(count)
