"""`healthcoop diff OLD NEW` on two hand-made releases (tests/fixtures/releases/README.md
says what changed between them): exactly those changes, grouped by entity, whatever the
formats, with the description left out."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.consume.diff import (
    diff_releases,
    diff_triples,
    format_text,
    read_data,
    read_dump,
    run_diff,
    write_changes,
)
from pipeline.errors import EnvironmentProblem, InvalidData

RELEASES = Path(__file__).resolve().parent / "fixtures" / "releases"
V1, V2 = RELEASES / "v1", RELEASES / "v2"
HCID = "https://w3id.org/healthcoop/id/"


def test_reports_exactly_the_hand_made_changes():
    """New, changed, retired entities and the counts of triples, as the fixtures' README
    lists them. Fails when a change is missed, misattributed (the fragment node must count
    for its entity), or the description is reported."""
    diff = diff_releases(V1, V2)
    status = {e.entity[len(HCID):]: e.status for e in diff.entities}
    assert status == {"agr-1": "changed", "beta-org": "changed", "gamma-org": "new",
                      "old-dup": "retired"}
    by_id = {e.entity[len(HCID):]: e for e in diff.entities}
    assert (len(by_id["beta-org"].added), len(by_id["beta-org"].removed)) == (1, 1)
    assert '"Beta Organisation"@en' in by_id["beta-org"].added[0]
    assert '"Beta Org"@en' in by_id["beta-org"].removed[0]
    assert (len(by_id["agr-1"].added), len(by_id["agr-1"].removed)) == (1, 1)
    assert "agr-1#evidence-aaa-quote" in by_id["agr-1"].added[0]
    assert len(by_id["gamma-org"].added) == 2 and not by_id["gamma-org"].removed
    assert len(by_id["old-dup"].added) == 2
    assert (diff.added, diff.removed) == (6, 2)
    assert (diff.old_triples, diff.new_triples) == (10, 14)
    assert all("dataset" not in line for e in diff.entities for line in e.added + e.removed)


def test_same_release_in_other_formats_has_no_changes(tmp_path):
    """The same data as N-Triples, gzip-compressed Turtle and JSON-LD compares equal:
    formats, compression and named graphs do not count as changes."""
    quads = list(ox.parse(path=str(V2 / "healthcoop.trig"), format=ox.RdfFormat.TRIG))
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    ttl = tmp_path / "v2.ttl.gz"
    ttl.write_bytes(gzip.compress(ox.serialize(triples, format=ox.RdfFormat.TURTLE)))
    jsonld = tmp_path / "v2.jsonld"
    jsonld.write_bytes(ox.serialize(triples, format=ox.RdfFormat.JSON_LD))
    assert diff_releases(V2, ttl).entities == []
    assert diff_releases(ttl, jsonld).entities == []
    assert diff_releases(V1, jsonld).summary() == diff_releases(V1, V2).summary()


def test_vanished_iri_is_reported_as_gone():
    """An entity whose triples all disappear breaks the URI policy (published IRIs never
    vanish); diff says so in its own group."""
    old = read_data(V1)
    new = {t for t in old if not t.subject.value.endswith("/old-dup")}
    diff = diff_triples(old, new)
    assert [(e.entity[len(HCID):], e.status) for e in diff.entities] == [("old-dup", "gone")]
    assert "GONE" in format_text(diff)


def test_cli_text_and_json(tmp_path):
    """The CLI prints the human report by default and a JSON document with --format json;
    both name the same entities."""
    runner = CliRunner()
    text = runner.invoke(main, ["diff", str(V1), str(V2)])
    assert text.exit_code == 0, text.output
    assert "new entities: 1" in text.output
    assert "retired entities (owl:deprecated): 1" in text.output
    assert "hcid:gamma-org (Gamma Org): +2 -0" in text.output
    assert "  + <https://w3id.org/healthcoop/id/beta-org>" in text.output
    result = runner.invoke(main, ["diff", "--format", "json", str(V1), str(V2)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["summary"]["new"] == [HCID + "gamma-org"]
    assert doc["summary"]["retired"] == [HCID + "old-dup"]
    assert sorted(doc["summary"]["changed"]) == [HCID + "agr-1", HCID + "beta-org"]
    assert doc["summary"]["added_triples"] == 6


def test_unreadable_inputs_are_clear_errors(tmp_path):
    """An unknown extension, an empty directory and a broken file are errors that say what
    is wrong (exit code 2 or 1), not tracebacks."""
    odd = tmp_path / "dump.xyz"
    odd.write_text("x")
    with pytest.raises(EnvironmentProblem, match="cannot tell the RDF format"):
        read_data(odd)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(EnvironmentProblem, match="holds no healthcoop dump"):
        read_data(empty)
    broken = tmp_path / "broken.nt"
    broken.write_text("<http://a> <http://b> .\n")
    with pytest.raises(InvalidData):
        read_data(broken)
    copy = tmp_path / "v1"
    shutil.copytree(V1, copy)
    result = CliRunner().invoke(main, ["diff", str(copy), str(odd)])
    assert result.exit_code == 2 and "cannot tell the RDF format" in result.output


def test_gzip_bomb_is_cut_at_the_bound(tmp_path):
    """A small .gz that inflates past the bound is refused while decompressing (exit 2),
    not read into memory whole; a file larger than the bound is refused from its size."""
    bomb = tmp_path / "bomb.nt.gz"
    bomb.write_bytes(gzip.compress(b"\0" * 100_000))
    with pytest.raises(EnvironmentProblem, match="decompresses to more than the 1000 bytes"):
        read_dump(bomb, limit=1000)
    size = (V1 / "healthcoop.nt").stat().st_size  # refused from its size, before reading
    with pytest.raises(EnvironmentProblem, match=f"is {size} bytes, more than the 10 bytes"):
        read_dump(V1 / "healthcoop.nt", limit=10)


HOSTILE_LABEL = r'"\u001B[2J\u009B31m\u202Eevil\u0007"@en'


def test_reports_cannot_drive_the_terminal(tmp_path):
    """A label holding a clear-screen sequence, a C1 CSI, an RTL override and a bell shows
    as escapes in the text report (and in CHANGES), while the JSON report stays valid JSON
    that reads back to the very same label."""
    old = tmp_path / "old.nt"
    old.write_text("<https://w3id.org/healthcoop/id/x> <http://www.w3.org/2000/01/rdf-schema"
                   '#label> "x" .\n', encoding="utf-8")
    new = tmp_path / "new\x1b[31m.nt"
    new.write_text("<https://w3id.org/healthcoop/id/x> <http://www.w3.org/2000/01/rdf-schema"
                   f"#label> {HOSTILE_LABEL} .\n", encoding="utf-8")
    text = format_text(diff_releases(old, new))
    assert not any(ch in text for ch in "\x1b\x9b\u202e\x07")
    assert "new\\x1b[31m.nt" in text and "(\\x1b[2J\\x9b31m\\u202eevil\\x07)" in text
    document = run_diff(old, new, "json")
    assert not any(ch in document for ch in "\x1b\x9b\u202e\x07")
    assert json.loads(document)["entities"][0]["label"] == "\x1b[2J\x9b31m\u202eevil\x07"
    line = [ln for ln in text.splitlines() if ln.startswith("  + ")][0][4:]
    reread = list(ox.parse(line.encode(), format=ox.RdfFormat.N_TRIPLES))  # still N-Triples
    assert reread[0].object.value == "\x1b[2J\x9b31m\u202eevil\x07"


def test_changes_file_that_cannot_be_written(tmp_path):
    """write_changes into a directory that does not exist: a clean EnvironmentProblem."""
    with pytest.raises(EnvironmentProblem, match="cannot write"):
        write_changes(V1, V2, tmp_path / "missing" / "CHANGES")


def test_previous_void_that_is_a_fifo_is_not_read(tmp_path):
    """The previous release's void.ttl only names the release in CHANGES; a FIFO there must
    not block the build (the name falls back to the directory's)."""
    previous = tmp_path / "previous"
    shutil.copytree(V1, previous)
    os.mkfifo(previous / "void.ttl")
    target = write_changes(previous, V2, tmp_path / "CHANGES")
    assert target.read_text("utf-8").startswith("healthcoop diff: previous -> this release")
