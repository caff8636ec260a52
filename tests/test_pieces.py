"""Assembling a dump from its pieces (pipeline/publish/pieces.py): the bytes written are the
header, every piece and the tail in order, and the size and sha256 returned are those of
the file on disk, whatever the sizes of the pieces (empty, within a memory page, across
pages)."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pyoxigraph as ox
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pipeline.publish import pieces

BLOBS = st.binary(max_size=40)  # empty pieces too (which cannot be mapped)
PAGES = st.binary(min_size=4000, max_size=9000)  # across the edges of memory pages


@settings(max_examples=150, deadline=None)
@given(head=BLOBS, parts=st.lists(st.one_of(BLOBS, PAGES), max_size=6), tail=BLOBS)
def test_a_dump_is_its_head_pieces_and_tail_with_their_size_and_sha256(head, parts, tail):
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for number, data in enumerate(parts):
            files.append(Path(tmp) / f"{number}.nt")
            files[-1].write_bytes(data)
        target = Path(tmp) / "dump.nt"
        size, sha256 = pieces._concatenate(target, head, files, tail)
        written = target.read_bytes()
    expected = head + b"".join(parts) + tail
    assert written == expected
    assert (size, sha256) == (len(expected), hashlib.sha256(expected).hexdigest())


@settings(max_examples=100, deadline=None)
@given(head=BLOBS, parts=st.lists(st.one_of(BLOBS, PAGES, st.binary(max_size=300_000)),
                                  max_size=5), tail=BLOBS)
def test_a_plain_dump_is_its_pieces_members_inflated(head, parts, tail):
    """A plain dump from the pieces' gzip members (the only form the cache keeps): head, each
    member decompressed, tail, with the size and sha256 of those bytes; pieces larger than a
    slice of input (`INFLATE_INPUT`) and of arbitrary bytes (which barely compress) too."""
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for number, data in enumerate(parts):
            files.append(Path(tmp) / f"{number}.nt.gz")
            files[-1].write_bytes(pieces.gzip_member(data) if data else b"")
        target = Path(tmp) / "dump.nt"
        size, sha256 = pieces._concatenate(target, head, files, tail, inflate=True)
        written = target.read_bytes()
    expected = head + b"".join(parts) + tail
    assert written == expected
    assert (size, sha256) == (len(expected), hashlib.sha256(expected).hexdigest())


def test_a_damaged_member_is_an_environment_problem_not_a_short_dump(tmp_path):
    """A piece's member cut short, with bytes after it, with a flipped byte or not gzip at
    all (the cache's manifest was checked before, so the file changed during the build):
    exit 2 naming the piece, never a dump that silently lacks its bytes."""
    import pytest

    from pipeline.errors import EnvironmentProblem

    member = pieces.gzip_member(b"<https://example.org/s> <https://example.org/p> 1 .\n" * 5000)
    flipped = bytearray(member)
    flipped[len(member) // 2] ^= 0xFF
    for bad in (member[:-9], member + b"x", member + member, bytes(flipped), b"not gzip"):
        piece = tmp_path / "piece.nt.gz"
        piece.write_bytes(bad)
        with pytest.raises(EnvironmentProblem, match="piece.nt.gz"):
            pieces._concatenate(tmp_path / "dump.nt", b"", [piece], b"", inflate=True)


def test_a_write_that_takes_part_of_the_bytes_is_continued():
    """A raw (unbuffered) write may write fewer bytes than given; the rest is written."""

    class Trickle:
        def __init__(self) -> None:
            self.got = bytearray()

        def write(self, data) -> int:
            taken = bytes(data[:3])
            self.got += taken
            return len(taken)

    out = Trickle()
    pieces._write_all(out, b"a longer block than three bytes")
    assert bytes(out.got) == b"a longer block than three bytes"


# --- N-Quads and TriG put together graph by graph, against pyoxigraph's own writers -----------

NS = "https://w3id.org/healthcoop/"
PREFIXES = {"hc": NS + "ontology#", "hcid": NS + "id/", "g": NS + "graph/",
            "schema": "https://schema.org/", "xsd": "http://www.w3.org/2001/XMLSchema#"}
LOCALS = st.text(st.characters(codec="utf-8", exclude_characters='<>"{}|^`\\ \t\n\r'),
                 max_size=6)
IRIS = st.builds(lambda ns, local: ns + local,
                 st.sampled_from([NS + "id/", NS + "id/x#", NS + "ontology#", NS + "graph/",
                                  "https://schema.org/", "urn:other:"]), LOCALS)
LITERALS = st.one_of(
    st.builds(ox.Literal, st.text(max_size=8)),
    st.builds(lambda v, lang: ox.Literal(v, language=lang), st.text(max_size=8),
              st.sampled_from(["en", "zh-hans", "en-gb"])),
    st.builds(lambda v, dt: ox.Literal(v, datatype=ox.NamedNode(dt)),
              st.sampled_from(["1", "2020-01-02", "-0.5", "x", ""]),
              st.sampled_from(["http://www.w3.org/2001/XMLSchema#" + t
                               for t in ("integer", "date", "decimal", "string", "boolean")])))


def _named(iri: str):
    try:
        return ox.NamedNode(iri)
    except ValueError:
        return None


@st.composite
def graphed_triples(draw):
    """Sorted distinct triples (some with blank nodes and rdf:type) and named graphs, each
    holding a sorted non-empty subset of them, the graphs sorted by N-Triples form."""
    def node(strategy):
        found = _named(draw(strategy))
        assume(found is not None)
        return found

    count = draw(st.integers(1, 8))
    triples = set()
    for _ in range(count):
        subject = (ox.BlankNode(draw(st.sampled_from(["b1", "b2"])))
                   if draw(st.integers(0, 5)) == 0 else node(IRIS))
        predicate = (ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
                     if draw(st.booleans()) else node(IRIS))
        obj = draw(st.one_of(LITERALS, IRIS.map(_named).filter(bool)))
        triples.add(ox.Triple(subject, predicate, obj))
    ordered = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate) != str(
        ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")), str(t.predicate),
        str(t.object)))
    graphs = {}
    for _ in range(draw(st.integers(1, 5))):
        graph = node(IRIS)
        graphs[str(graph)] = sorted(set(draw(st.lists(st.integers(0, len(ordered) - 1),
                                                      min_size=1, max_size=len(ordered)))))
    return ordered, sorted(graphs.items())


@settings(max_examples=300, deadline=None, derandomize=True)
@given(graphed_triples())
def test_nquads_and_trig_put_together_are_pyoxigraphs(case):
    """Byte for byte what pyoxigraph writes for the same quads in the same order, whatever
    the literals (quotes, line breaks, languages, datatypes), blank nodes, graph names a
    prefix abbreviates or not, and graphs sharing all or some of their triples."""
    triples, graphs = case
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g[1:-1]))
             for g, positions in graphs for t in (triples[i] for i in positions)]
    safe = pieces.turtle_prefixes(PREFIXES)
    texts = pieces.piece_texts(triples, graphs, PREFIXES)
    assert texts["nq"] == ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    trig = ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=safe)
    assert texts["trig"] == pieces._without_prefixes(trig, safe)
    assert texts["nt"] == ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)


def test_a_graph_name_a_prefix_abbreviates_is_written_as_pyoxigraph_does():
    subject = ox.NamedNode(NS + "id/a")
    triple = ox.Triple(subject, ox.NamedNode(NS + "ontology#p"), ox.Literal("x"))
    graphs = [(f"<{NS}graph/s1>", [0])]
    quad = ox.Quad(triple.subject, triple.predicate, triple.object, ox.NamedNode(NS + "graph/s1"))
    trig = pieces.piece_texts([triple], graphs, PREFIXES)["trig"]
    assert trig.startswith(b"g:s1 {\n")  # checked by hand: the "g:" prefix, no "<...>"
    safe = pieces.turtle_prefixes(PREFIXES)
    assert trig == pieces._without_prefixes(
        ox.serialize([quad], format=ox.RdfFormat.TRIG, prefixes=safe), safe)
