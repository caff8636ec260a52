"""Typed records: schema problems become file:line:field with a fix, and a broken record or
file does not drown the report in consequential errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.check.checks import check_records, stated_currencies
from pipeline.errors import IssueList
from pipeline.read.records import load_records, salvage_ids

HEAD = "persons:\n"


def _records(tmp_path: Path, files: dict[str, str]):
    directory = tmp_path / "data" / "records"
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    issues = IssueList()
    return load_records(tmp_path, issues), issues.items


PERSON = ('  - id: {id}\n    label: "{label}"\n    evidence:\n      - source: src\n'
          '        quote: "q"\n        supports: [label]\n')


@pytest.mark.parametrize("value, message", [
    ("2020-02-30", "'2020-02-30' does not exist: 2020-02 has 29 days"),
    ("2021-02-29", "'2021-02-29' does not exist: 2021-02 has 28 days"),
    ("2020-13", "'2020-13' has no month 13"),
    ("15/05/2020", "'15/05/2020' is not a date"),
    ("2020-5-1", "'2020-5-1' is not a date"),
    ("May 2020", "'May 2020' is not a date"),
])
def test_impossible_and_malformed_dates(tmp_path, value, message):
    """Dates are checked as calendar dates, at the line of `value:`."""
    text = ("events:\n  - id: ev\n    label: \"E\"\n    type: meeting\n    date:\n"
            f"      value: \"{value}\"\n")
    _, issues = _records(tmp_path, {"e.yaml": text})
    assert [(i.line, i.field) for i in issues] == [(6, "events[0].date.value")]
    assert message in issues[0].message


def test_leap_day_is_a_date(tmp_path):
    text = ("events:\n  - id: ev\n    label: \"E\"\n    type: meeting\n    date:\n"
            "      value: 2020-02-29\n")
    records, issues = _records(tmp_path, {"e.yaml": text})
    assert issues == [] and records.records["ev"].date.value == "2020-02-29"


@pytest.mark.parametrize("bad_id", ["a b", "../x", "x<y>", "x#y", "X", "a--b", "1abc", "a" * 81,
                                    "a/b", "ä-b", "a-", "-a", "a_b"])
def test_ids_that_would_break_an_iri_or_a_path(tmp_path, bad_id):
    """Ids become IRIs and file names: anything outside the pattern is refused."""
    text = HEAD + PERSON.format(id=f"'{bad_id}'", label="A")
    records, issues = _records(tmp_path, {"p.yaml": text})
    assert records.records == {}
    assert [(i.line, i.field, i.code) for i in issues] == [(2, "persons[0].id", "schema")]


def test_unknown_field_suggests_the_real_one(tmp_path):
    """A typo of a field name gets a 'did you mean' with the right name."""
    text = HEAD + PERSON.format(id="aa", label="A") + "    honorfic: Dr\n"
    _, issues = _records(tmp_path, {"p.yaml": text})
    assert [(i.line, i.field) for i in issues] == [(8, "persons[0].honorfic")]
    assert issues[0].fix == "Did you mean 'honorific'?"


def test_wrong_types(tmp_path):
    """Lists given as text, text given as lists: each named with a way to write it."""
    text = ("agreements:\n  - id: ag\n    label: [\"A\", \"B\"]\n    type: contract\n"
            "    parties: someone\n")
    _, issues = _records(tmp_path, {"g.yaml": text})
    got = {(i.line, i.field): i for i in issues}
    assert "`label` must be text, not a list" in got[(3, "agreements[0].label")].message
    assert got[(5, "agreements[0].parties")].fix.startswith("Write `parties: [someone]`")


def test_currency_names_that_look_like_codes(tmp_path):
    """RMB matches the shape of a code but is not ISO 4217: the fix names CNY."""
    text = ("initiatives:\n  - id: fu\n    label: \"F\"\n    type: fund\n    amount:\n"
            "      value: \"5\"\n      currency: RMB\n      stated_as: \"5 RMB\"\n")
    _, issues = _records(tmp_path, {"f.yaml": text})
    assert [(i.line, i.field) for i in issues] == [(7, "initiatives[0].amount.currency")]
    assert "write CNY" in issues[0].message


def test_duplicate_id_across_files(tmp_path):
    """Ids are unique across files; the second one is reported with where the first is."""
    records, issues = _records(tmp_path, {
        "a.yaml": HEAD + PERSON.format(id="same", label="A"),
        "b.yaml": "organisations:\n  - id: same\n    label: \"B\"\n    type: company\n"})
    assert [(i.file, i.line, i.field, i.code) for i in issues] == [
        ("data/records/b.yaml", 2, "organisations[0].id", "duplicate-id")]
    assert "data/records/a.yaml:2" in issues[0].message


def test_failed_records_stay_known(tmp_path):
    """A record with a schema error, and every record of a file YAML cannot read, are known
    by id: references to them are not reported again as unknown ids."""
    records, issues = _records(tmp_path, {
        "a.yaml": HEAD + PERSON.format(id="broken", label=" A"),
        "b.yaml": "places:\n  - id: unreadable\n    label: \"X\n",
        "c.yaml": "events:\n  - id: ev\n    label: \"E\"\n    type: meeting\n"
                  "    participants: [broken]\n    locations: [unreadable, missing]\n"})
    assert set(records.failed) == {"broken", "unreadable"}
    check_records(records, {}, set(), issues := IssueList())
    unknown = [(i.field, i.message) for i in issues.items if i.code == "unknown-reference"]
    assert unknown == [("events[0].locations[1]", "Unknown id 'missing' in `locations`.")]


def test_salvage_ids(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("persons:\n  - id: a-b\n    label: \"x\n  -   id: 'cc'  # note\n"
                    "    other_id: d\n", encoding="utf-8")
    assert salvage_ids(path) == [("a-b", 2), ("cc", 4)]


def test_stated_currencies():
    """How the text writes an amount decides whether a currency may be recorded."""
    assert stated_currencies("5 billion RMB") == ({"CNY"}, set())
    assert stated_currencies("£1 billion") == ({"GBP"}, set())
    assert stated_currencies("US$1 trillion")[0] == {"USD"}
    assert "USD" in stated_currencies("$5 million")[1]
    assert stated_currencies("over 200 million") == (set(), set())
    assert stated_currencies("5 billion yuan") == ({"CNY"}, set())
    assert stated_currencies("EUROPEAN 5") == (set(), set())  # a word, not "euro"


@pytest.mark.parametrize("text, personal", [
    ("contact chris.cotton@cbbc.org.", True),
    ("Tel: 2961 8989", True),
    ("+852 2961 8989", True),
    ("Telephone: (852) 2961 8989", True),
    ("2024-09-14", False),            # dates, amounts and runs of years are not phones
    ("5000000000", False),
    ("between 2018 2019 2020 2021", False),
    ("the Hospital Authority (HA)", False),
])
def test_contact_details_are_recognised(text, personal):
    from pipeline.check.checks import _has_contact_details

    assert _has_contact_details(text) is personal


def test_compacted_records_keep_their_values(tmp_path):
    """Loading compacts each record (records.compact: short strings interned, one shared
    frozenset per distinct set of given fields); the records still equal what pydantic
    validates from the same data, field by field and in which fields were given, and
    survive pickling (the record cache, worker processes) the same."""
    import pickle

    import yaml

    from pipeline.read.record_types import KINDS

    text = ("persons:\n" + PERSON.format(id="p-one", label="Ann Li")
            + PERSON.format(id="p-two", label="Bo Li")
            + "agreements:\n  - id: agr-one\n    label: \"MoU\"\n"
              "    type: memorandum-of-understanding\n"
              "    parties: [p-one, p-two]\n    topics: [public-health]\n"
              "    evidence:\n      - source: src\n        quote: \"q\"\n"
              "        supports: [type, parties]\n        occurrence: 1\n")
    records, issues = _records(tmp_path, {"r.yaml": text})
    assert issues == []
    plain = {item["id"]: KINDS[kind].model_validate(item)
             for kind, items in yaml.safe_load(text).items() for item in items}
    assert set(records.records) == set(plain) == {"p-one", "p-two", "agr-one"}
    for rid, expected in plain.items():
        for got in (records.records[rid], pickle.loads(pickle.dumps(records.records[rid]))):
            assert got == expected
            assert got.model_dump() == expected.model_dump()
            assert got.model_fields_set == expected.model_fields_set
            assert [e.model_fields_set for e in got.evidence] == \
                [e.model_fields_set for e in expected.evidence]
    one, two = records.records["p-one"], records.records["p-two"]
    # what makes them smaller: the same objects where the values repeat
    assert one.__pydantic_fields_set__ is two.__pydantic_fields_set__
    assert one.evidence[0].supports[0] is two.evidence[0].supports[0]
    assert records.records.is_packed("agr-one") and not records.records.is_packed("p-one")


def test_copies_of_compacted_records_can_be_updated(tmp_path):
    """model_copy(update=...) adds to the copy's set of given fields: a copy of a loaded
    record must not hold the shared frozenset (nor change the original's)."""
    records, _ = _records(tmp_path, {"p.yaml": HEAD + PERSON.format(id="p-one", label="A")
                                     + PERSON.format(id="p-two", label="B")})
    one = records.records["p-one"]
    for deep in (False, True):
        copied = one.model_copy(update={"note": "n"}, deep=deep)
        assert copied.note == "n" and "note" in copied.model_fields_set
        assert "note" not in one.model_fields_set
        assert "note" not in records.records["p-two"].model_fields_set
