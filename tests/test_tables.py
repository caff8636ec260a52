"""The CSV on the Web tables and the Frictionless package of a release: they validate with
third-party tools (`csvw`, `frictionless validate`), a CSVW processor's RDF from them is
contained in our dump (same IRIs, same properties, same literals), they are deterministic,
described in void.ttl and listed in SHA256SUMS, and hostile text passes through verbatim.

The `csvw` package (PyPI) parses and validates CSVW (cells typed by the metadata, URI
templates expanded) but converts only to JSON; `csvw_rdf` below applies the CSV2RDF rules
(W3C "Generating RDF from Tabular Data on the Web", section 4.6.8) to csvw's parsed cells:
subject from aboutUrl, predicate from propertyUrl, an IRI object from valueUrl, otherwise a
literal with the column's datatype or language, skipping null cells and suppressOutput
columns. The conversion's bookkeeping (csvw:Table, csvw:row, ...) is not generated, and
only triples about our entities are compared.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from csvw import CSVW, TableGroup
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline.build import build_release
from pipeline.publish import tables
from pipeline.publish.describe import load_metadata
from pipeline.rdf import vocab

ROOT = Path(__file__).resolve().parent.parent
HCID = "https://w3id.org/healthcoop/id/"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
SPDX = "http://spdx.org/rdf/terms#"
HOSTILE = "=cmd|' /C calc'!A0, \"quoted\", +1 -2 @at"
FRICTIONLESS = Path(sys.executable).with_name("frictionless")


def csvw_rdf(metadata: Path) -> set[ox.Triple]:
    """The RDF a CSVW processor makes of the tables (CSV2RDF, minimal mode)."""
    group = TableGroup.from_file(metadata)
    out: set[ox.Triple] = set()
    for table in group.tables:
        row_about = table.tableSchema.aboutUrl
        columns = {c.name: c for c in table.tableSchema.columns}
        for number, row in enumerate(table.iterdicts(strict=True), start=1):
            for name, value in row.items():
                col = columns[name]
                if col.suppressOutput or value is None or value == "" or value == []:
                    continue
                about = col.aboutUrl or row_about
                subject = ox.NamedNode(table.expand(about, row, _row=number, _name=name))
                predicate = ox.NamedNode(table.expand(col.propertyUrl, row, _row=number,
                                                      _name=name))
                if col.valueUrl:
                    obj = ox.NamedNode(table.expand(col.valueUrl, row, _row=number,
                                                    _name=name))
                else:
                    lexical = col.datatype.formatted(value)
                    lang = col.inherit("lang")
                    base = col.datatype.base
                    if base == "string" and lang and lang != "und":
                        obj = ox.Literal(lexical, language=lang)
                    else:
                        obj = ox.Literal(lexical, datatype=ox.NamedNode(XSD + base))
                out.add(ox.Triple(subject, predicate, obj))
    return out


def nt(path: Path) -> set[ox.Triple]:
    return {ox.Triple(q.subject, q.predicate, q.object)
            for q in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)}


@pytest.fixture(scope="module")
def converted(release_dir) -> set[ox.Triple]:
    return csvw_rdf(release_dir / tables.CSVW_METADATA)


def test_csvw_validates_the_tables(release_dir):
    """`csvw` reads the metadata and every table strictly (datatypes, required cells,
    primary and foreign keys) without a warning, and its CLI `csvwvalidate` says OK. Fails
    when a cell does not match its column's datatype or a key is duplicated."""
    reader = CSVW(str(release_dir / tables.CSVW_METADATA), validate=True, strict=True)
    assert reader.is_valid, [str(w.message) for w in reader.warnings]
    assert not reader.warnings
    cli = Path(sys.executable).with_name("csvwvalidate")
    run = subprocess.run([str(cli), "-v", str(release_dir / tables.CSVW_METADATA)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_csvw_rdf_is_contained_in_the_dump(release_dir, converted):
    """Every triple a CSVW processor makes of the tables about our entities is in
    healthcoop.nt: the metadata maps columns to our IRIs and properties, and the cells hold
    the published literals. Fails when a column's template, datatype or language drifts
    from the RDF model, or a cell differs from the published text."""
    ours = {t for t in converted if t.subject.value.startswith(HCID)}
    assert len(ours) == len(converted), "triples about something that is not our entity"
    missing = ours - nt(release_dir / "healthcoop.nt")
    assert not missing, sorted(map(str, missing))[:10]


def test_every_table_converts_to_rdf(release_dir, converted):
    """Each table contributes triples (the round trip is not vacuous): actor labels and
    classes, agreement parties, event participants, evidence quotes and offsets. Fails
    when a table's columns are all suppressed or its templates produce nothing."""
    predicates = {t.predicate.value for t in converted}
    for iri in ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
                "http://www.w3.org/2000/01/rdf-schema#label",
                "https://w3id.org/healthcoop/ontology#party",
                "https://w3id.org/healthcoop/ontology#participant",
                "http://www.w3.org/ns/oa#hasBody", "http://www.w3.org/ns/oa#exact",
                "http://www.w3.org/ns/oa#start", "http://www.w3.org/ns/prov#wasDerivedFrom",
                "https://schema.org/value"):
        assert iri in predicates, iri
    assert len(converted) > 1500


def test_statements_hold_every_evidenced_fact(release_dir, dataset_store):
    """Each evidence annotation of the dump appears in statements.csv, once per property
    it supports, with its source, verbatim quote and offsets. Fails when the statements
    table loses evidence."""
    rows = list(csv.DictReader(io.StringIO(
        (release_dir / "tables/statements.csv").read_text(encoding="utf-8"), newline="")))
    seen = {(HCID + r["entity"] + "#evidence-" + r["evidence"], r["property"]) for r in rows}
    expected = {(s["a"].value, s["p"].value) for s in dataset_store.query("""
        SELECT ?a ?p WHERE { ?a a <http://www.w3.org/ns/oa#Annotation> ;
            <https://w3id.org/healthcoop/ontology#supportsProperty> ?p }""")}
    assert expected and seen == expected
    quotes = {s["a"].value: (s["q"].value, s["b"].value, s["e"].value)
              for s in dataset_store.query("""
        PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT ?a ?q ?b ?e WHERE { ?a oa:hasTarget ?t . ?t oa:hasSelector ?qs, ?ps .
            ?qs oa:exact ?q . ?ps oa:start ?b ; oa:end ?e }""")}
    for r in rows:
        ann = HCID + r["entity"] + "#evidence-" + r["evidence"]
        assert (r["quote"], r["start"], r["end"]) == quotes[ann]


def test_frictionless_validate_accepts_the_package(release_dir):
    """`frictionless validate datapackage.json` (the CLI a consumer runs) passes: schemas,
    types, primary and foreign keys, byte counts and SHA-256 of every table, the licence.
    Fails when a table does not match its schema or changes after the package was written."""
    run = subprocess.run([str(FRICTIONLESS), "validate", "--json", "datapackage.json"],
                         cwd=release_dir, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    report = json.loads(run.stdout)
    assert report["valid"] is True
    package = json.loads((release_dir / tables.DATAPACKAGE).read_text(encoding="utf-8"))
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    assert {r["path"] for r in package["resources"]} == {t.path for t in tables.TABLES}


def test_tables_are_described_in_void_and_sha256sums(release_dir):
    """Each table, the CSVW metadata and datapackage.json are distributions in void.ttl
    with their byte size and SHA-256, and lines of SHA256SUMS. Fails when the tables are
    written after the description or the checksum list."""
    store = ox.Store()
    store.bulk_load(path=str(release_dir / "void.ttl"), format=ox.RdfFormat.TURTLE)
    described = {s["t"].value: (int(s["n"].value), s["h"].value) for s in store.query(f"""
        SELECT ?t ?n ?h WHERE {{ ?d a <{DCAT}Distribution> ; <{DCT}title> ?t ;
            <{DCAT}byteSize> ?n ; <{SPDX}checksum>/<{SPDX}checksumValue> ?h }}""")}
    sums = dict(reversed(line.split("  ", 1)) for line in
                (release_dir / "SHA256SUMS").read_text(encoding="utf-8").splitlines())
    for rel in [t.path for t in tables.TABLES] + [tables.CSVW_METADATA, tables.DATAPACKAGE]:
        data = (release_dir / rel).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        assert described[rel] == (len(data), digest), rel
        assert sums[rel] == digest, rel


def test_tables_do_not_depend_on_triple_order(release_dir, tmp_path):
    """write_tables gives the same bytes whatever order the triples come in (and a second
    build is byte-identical: tests/test_publish.py compares every file of two builds).
    Fails when a row or a multi-valued cell follows input order."""
    data = list(nt(release_dir / "healthcoop.nt"))
    meta = load_metadata(ROOT)
    random.Random(7).shuffle(data)
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    tables.write_tables(data, first, meta)
    data.reverse()
    tables.write_tables(data, second, meta)
    for rel in [t.path for t in tables.TABLES] + [tables.CSVW_METADATA, tables.DATAPACKAGE]:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
        assert (first / rel).read_bytes() == (release_dir / rel).read_bytes(), rel


def test_csv_is_rfc_4180_and_keeps_hostile_text_verbatim(tmp_path):
    """A label with quotes, commas, a line break and a spreadsheet formula
    (`=cmd|' /C calc'!A0`) is written quoted, CRLF-terminated, UTF-8 without BOM, and reads
    back (Python's csv, csvw, and the CSVW conversion) as exactly the same text: the tables
    never alter data; the metadata warns about formulas instead. Fails when the writer
    escapes, prefixes or trims values."""
    n = ox.NamedNode
    label = HOSTILE + "\nsecond line ünïcode"
    person = n(HCID + "hostile-person")
    data = [ox.Triple(person, n("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                      n(str(c))) for c in vocab.PERSON_CLASSES] + [
        ox.Triple(person, n("http://www.w3.org/2000/01/rdf-schema#label"),
                  ox.Literal(label, language="en")),
        ox.Triple(person, n("http://xmlns.com/foaf/0.1/title"), ox.Literal("-Dr")),
    ]
    meta = load_metadata(ROOT)
    tables.write_tables(data, tmp_path, meta)
    raw = (tmp_path / "tables/actors.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == 2 and b'"=cmd|\' /C calc\'!A0, ""quoted""' in raw
    (row,) = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert row["label"] == label and row["honorific"] == "-Dr"
    converted = csvw_rdf(tmp_path / tables.CSVW_METADATA)
    assert ox.Triple(person, n("http://www.w3.org/2000/01/rdf-schema#label"),
                     ox.Literal(label, language="en")) in converted
    assert converted <= set(data)
    for rel in (tables.CSVW_METADATA, tables.DATAPACKAGE):
        assert "formulas" in (tmp_path / rel).read_text(encoding="utf-8")


def test_hostile_record_label_through_a_real_build(project_copy, tmp_path):
    """The same hostile text as a curated record's label, through validate and build: the
    tables hold it verbatim, csvw and frictionless still accept the release, and its CSVW
    RDF is still contained in the dump. Fails when a hostile string breaks a table."""
    path = project_copy / "data/records/actors.yaml"
    text = path.read_text(encoding="utf-8")
    first_label = text.index("label: ")
    end = text.index("\n", first_label)
    escaped = HOSTILE.replace("\\", "\\\\").replace('"', '\\"')
    path.write_text(text[:first_label] + f'label: "{escaped}"' + text[end:], encoding="utf-8")
    out = build_release(project_copy, tmp_path / "out")
    assert HOSTILE in (out / "tables/actors.csv").read_text(encoding="utf-8").replace('""', '"')
    rows = list(csv.DictReader(io.StringIO(
        (out / "tables/actors.csv").read_text(encoding="utf-8"), newline="")))
    assert HOSTILE in {r["label"] for r in rows}
    assert CSVW(str(out / tables.CSVW_METADATA), validate=True).is_valid
    run = subprocess.run([str(FRICTIONLESS), "validate", "datapackage.json"], cwd=out,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:]
    assert csvw_rdf(out / tables.CSVW_METADATA) <= nt(out / "healthcoop.nt")
    shutil.rmtree(out)


# --- the shards' rows files: sort keys and CSV lines (publish/pieces.py) -----------------------

_values = st.text(alphabet=st.sampled_from(list("a\x00\x01\x02 ,\"\n\r\u00e9\u4e2d\U0001f600")),
                  max_size=6)
_rows = st.lists(_values, max_size=4)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.lists(_values | st.text(max_size=8), max_size=4))
@example([""])  # one empty value: csv.writer writes "" so that the line is not blank
@example(["", ""])
def test_a_csv_line_is_what_csv_writer_writes(row):
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerow(row)
    assert tables.csv_line(row) == expected.getvalue().encode("utf-8")


_key_rows = st.lists(st.text(alphabet=st.sampled_from(list("\x00\x01a\u00e9")), max_size=3),
                    max_size=3)


@settings(max_examples=500, deadline=None)
@given(_key_rows, _key_rows)
@example(["\x00"], ["", "a"])  # a NUL must not read as the end of a value
def test_a_row_key_sorts_as_its_row(a, b):
    from pipeline.publish.pieces import row_key

    assert (row_key(a) < row_key(b)) == (a < b)
    assert (row_key(a) == row_key(b)) == (a == b)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.lists(_values, min_size=3, max_size=3), max_size=8), max_size=7),
       st.integers(2, 4), st.sampled_from([1, 2, 7, 64, 1 << 16]))
def test_rows_files_merge_into_the_csv_of_all_rows_sorted(tmp_path_factory, runs, fan_in,
                                                         block):
    """Sorted runs written as rows files and merged (in rounds when there are more files
    than the fan-in; read in blocks of `block` bytes, so that entries straddle blocks)
    give the lines csv.writer writes for all rows sorted together."""
    from pipeline.publish import pieces

    folder = tmp_path_factory.mktemp("rows")
    paths = []
    for n, run in enumerate(runs):
        paths.append(folder / f"{n}.rows")
        pieces.write_rows(paths[-1], sorted(run))
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerows(sorted(r for run in runs for r in run))
    original = pieces.MERGE_FAN_IN, pieces.ROWS_BLOCK
    pieces.MERGE_FAN_IN, pieces.ROWS_BLOCK = fan_in, block
    try:
        assert b"".join(pieces.merged_rows(paths)).decode("utf-8") == expected.getvalue()
    finally:
        pieces.MERGE_FAN_IN, pieces.ROWS_BLOCK = original


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 300), max_size=120), min_size=1, max_size=6),
       st.sampled_from([16, 256, 1 << 16]))
def test_long_runs_that_interleave_in_parts_merge_in_order(tmp_path_factory, runs, block):
    """Rows files whose ranges of keys overlap in parts, touch or do not meet at all (the
    merge hands over whole stretches of a block at once): the merged lines are all rows
    sorted together, duplicates included."""
    from pipeline.publish import pieces

    folder = tmp_path_factory.mktemp("rows")
    paths = []
    for n, run in enumerate(runs):
        paths.append(folder / f"{n}.rows")
        pieces.write_rows(paths[-1], sorted([f"{v:03d}", "x" * (v % 7)] for v in run))
    rows = sorted([f"{v:03d}", "x" * (v % 7)] for run in runs for v in run)
    original = pieces.ROWS_BLOCK
    pieces.ROWS_BLOCK = block
    try:
        merged = b"".join(pieces.merged_rows(paths)).decode("utf-8")
    finally:
        pieces.ROWS_BLOCK = original
    assert merged == "".join(f"{key},{pad}\r\n" for key, pad in rows)


@pytest.mark.parametrize("cut", [1, 5, 9, -1])
def test_a_truncated_rows_file_is_refused(tmp_path, monkeypatch, cut):
    """A rows file cut short (in an entry's length header, its key or its line) is an
    error, not a shorter table."""
    from pipeline.publish import pieces

    monkeypatch.setattr(pieces, "ROWS_BLOCK", 4)
    path = tmp_path / "t.rows"
    pieces.write_rows(path, [["a", "b"], ["c", "d"]])
    raw = path.read_bytes()
    path.write_bytes(raw[:len(raw) // 2 + cut] if cut > 0 else raw[:cut])
    with pytest.raises(ValueError, match="truncated rows file"):
        list(pieces._read_blocks(path))
