"""The record store (pipeline/read/record_store.py): records of the packed kinds kept per
file as one compressed pickle behave, through the mapping, exactly as a dict of the records;
their facts are those of the records; and a build reads each packed file a few times, not
once per record, even when ids and files interleave."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.read import record_store
from pipeline.read.record_store import Facts, RecordStore
from pipeline.read.record_types import Agreement, Event, Person, Place

ROOT = Path(__file__).resolve().parent.parent


def _record(kind: str, number: int, deprecated: bool, seed: int):
    rid = f"{kind[:3]}-{number}"
    evidence = [{"source": f"src-{seed % 3}", "quote": f"q {seed}", "supports": ["label"]}]
    retired = {"deprecated": "merged", "replaced_by": f"per-{seed % 5}"} if deprecated else {}
    if kind == "person":
        return Person.model_validate({"id": rid, "label": f"P {seed}", **retired})
    if kind == "country":
        return Place.model_validate({"id": rid, "label": f"C {seed}", "type": "country"})
    if kind == "agreement":
        return Agreement.model_validate({
            "id": rid, "label": f"A {seed}", "type": "contract", "evidence": evidence,
            "parties": [f"per-{seed % 4}", f"cou-{seed % 2}"], "signed_at": f"eve-{seed % 3}",
            "alt_labels": [{"label": f"alt {seed}", "source": "src-9"}], **retired})
    return Event.model_validate({"id": rid, "label": f"E {seed}", "type": "meeting",
                                 "evidence": evidence, "part_of": f"eve-{seed % 2}",
                                 "participants": [f"per-{seed % 4}"], **retired})


KIND = st.sampled_from(["person", "country", "agreement", "event"])
FILE = st.lists(st.tuples(KIND, st.integers(0, 30), st.booleans(), st.integers(0, 99)),
                max_size=12)
STEP = st.one_of(
    st.tuples(st.just("file"), FILE),
    st.tuples(st.just("set"), st.tuples(KIND, st.integers(0, 30), st.booleans(),
                                        st.integers(0, 99))),
    st.tuples(st.just("del"), st.integers(0, 40)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(STEP, max_size=10))
def test_the_store_behaves_as_a_dict_of_the_records(steps):
    """Files added as `load_records` adds them (packed, then moved over without the
    duplicates), records replaced and deleted: the store has the dict's ids in its order,
    its records, and facts equal to those worked out from each record; pickled (the record
    cache, worker processes) it is the same again."""
    store, model = RecordStore(), {}
    for step, value in steps:
        if step == "file":
            part = RecordStore()
            for item in value:
                record = _record(*item)
                if record.id not in part:
                    part[record.id] = record
            part.pack()
            new = [rid for rid in part if rid not in store]
            store.add_from(part, new)
            model.update((rid, part[rid]) for rid in new)
        elif step == "set":
            record = _record(*value)
            store[record.id] = model[record.id] = record
        elif model:
            rid = list(model)[value % len(model)]
            del store[rid], model[rid]
    for got in (store, pickle.loads(pickle.dumps(store))):
        assert list(got) == list(model) and len(got) == len(model)
        assert got == model and dict(got.items()) == model
        for rid, record in model.items():
            assert rid in got
            assert got.facts(rid) == Facts.of(record)
            assert got.kind_of(rid) == ("country" if getattr(record, "type", "") == "country"
                                        else record.kind)
        assert "nobody" not in got and got.kind_of("nobody") is None
        # the objects are the records not packed; only records of the packed kinds are
        packed = {rid for rid in model if got.is_packed(rid)}
        assert {r.id for r in got.objects()} == set(model) - packed
        assert all(model[rid].kind in record_store.PACKED_KINDS for rid in packed)


def test_a_build_unpacks_each_file_a_few_times(tmp_path, monkeypatch):
    """A corpus whose agreements and events are dealt to the files in turn (so that ids
    in order jump from file to file): building it in one process unpacks each file's pack a
    few times (checks, stubs, shards), never once per record. A stage that walked the
    records by id, or that read a packed record for what its facts hold, would unpack a
    file for nearly every record here."""
    from pipeline.build import build_release
    from pipeline.curate.synthetic import generate_project

    project = tmp_path / "project"
    generate_project(project, 600, 3, ROOT)
    records_dir = project / "data" / "records"
    dealt: list[dict] = [{} for _ in range(6)]
    turn = 0
    for path in sorted(records_dir.glob("*.yaml")):
        for kind, items in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            for item in items or []:
                target = dealt[0] if kind in ("persons", "organisations", "places", "roles") \
                    else dealt[1 + turn % 5]
                turn += kind in ("agreements", "events")
                target.setdefault(kind, []).append(item)
        path.unlink()
    for number, content in enumerate(dealt):
        (records_dir / f"part-{number}.yaml").write_text(
            yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")

    unpacked: list[int] = []
    original = RecordStore._unpack

    def counting(self, number):
        if number not in self._open:
            unpacked.append(number)
        return original(self, number)

    monkeypatch.setattr(RecordStore, "_unpack", counting)
    out = build_release(project, tmp_path / "out", register=False, site=False,
                        executor="serial", cache=False)
    assert (out / "healthcoop.nt").stat().st_size > 0
    packs = len(set(unpacked))
    assert packs == 5, sorted(set(unpacked))
    assert len(unpacked) <= 4 * packs, len(unpacked)
    shutil.rmtree(out)
