"""Every RDF file of the release parses, to exactly the same triples, in independent strict
parsers: pyoxigraph, serdi, rapper (raptor2), Apache Jena's riot, N3.js and jsonld.js.

Each judge converts the file to N-Triples / N-Quads; that output is read back with pyoxigraph
and compared, as a set, with pyoxigraph's reading of the file. Equal sets mean the same
count and the same terms (a parser that kept `\\#` in an IRI, dropped a language tag or
fetched a context would differ). rdflib is no judge: it accepts invalid syntax.

The external judges are installed by .ci/install-tools; tests/test_tools_present.py fails
in CI when one is missing, so these tests cannot be skipped there unnoticed.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

TOOLS = Path(__file__).resolve().parent / "tools"
JS = Path(__file__).resolve().parent / "js"
RIOT = TOOLS / "riot"

DUMPS = {  # file -> pyoxigraph format
    "healthcoop.nt": ox.RdfFormat.N_TRIPLES,
    "healthcoop.ttl": ox.RdfFormat.TURTLE,
    "healthcoop.jsonld": ox.RdfFormat.JSON_LD,
    "healthcoop.nq": ox.RdfFormat.N_QUADS,
    "healthcoop.trig": ox.RdfFormat.TRIG,
}
SYNTAX = {  # pyoxigraph format -> (serdi, rapper, riot, n3.js) syntax names
    ox.RdfFormat.N_TRIPLES: ("ntriples", "ntriples", "ntriples", "ntriples"),
    ox.RdfFormat.TURTLE: ("turtle", "turtle", "turtle", "turtle"),
    ox.RdfFormat.N_QUADS: ("nquads", "nquads", "nquads", "nquads"),
    ox.RdfFormat.TRIG: ("trig", "trig", "trig", "trig"),
    ox.RdfFormat.JSON_LD: (None, None, "jsonld10", None),
}
JUDGES = ["serdi", "rapper", "riot", "n3", "jsonld"]


def rdf_files(release: Path) -> dict[str, ox.RdfFormat]:
    """Every RDF file in the release: the dumps, void.ttl, the ontology and the shapes."""
    files = dict(DUMPS)
    for path in sorted(release.rglob("*.ttl")):
        files.setdefault(path.relative_to(release).as_posix(), ox.RdfFormat.TURTLE)
    return files


def canonical(data: bytes | str, fmt: ox.RdfFormat) -> Counter[str]:
    """The statements as N-Quads lines (graph kept, default graph empty), via pyoxigraph.

    Blank node labels are arbitrary, so each becomes `_:b` (the dumps have none; the
    ontology and shapes do): a multiset of such lines compares the ground structure and the
    count, which is what a parser could get wrong."""
    out: Counter[str] = Counter()
    for q in ox.parse(data, format=fmt):
        terms = [q.subject, q.predicate, q.object]
        if isinstance(q, ox.Quad) and not isinstance(q.graph_name, ox.DefaultGraph):
            terms.append(q.graph_name)
        out[" ".join("_:b" if isinstance(t, ox.BlankNode) else str(t) for t in terms)] += 1
    return out


def read_back(output: str) -> Counter[str]:
    """A judge's N-Triples or N-Quads output (N-Quads is a superset of N-Triples)."""
    return canonical(output.encode("utf-8"), ox.RdfFormat.N_QUADS)


def run(cmd: list[str], cwd: Path | None = None) -> str:
    result = subprocess.run(cmd, capture_output=True, cwd=cwd, timeout=600,
                            stdin=subprocess.DEVNULL)
    stderr = result.stderr.decode("utf-8", "replace")
    if result.returncode != 0:
        raise AssertionError(f"{cmd[0]} rejected the file (exit {result.returncode}):\n"
                             f"{stderr[-3000:]}")
    if any(word in stderr for word in ("WARN", "ERROR", "Warning", "Error")):
        raise AssertionError(f"{cmd[0]} complained:\n{stderr[-3000:]}")
    return result.stdout.decode("utf-8")


def need(program: str) -> None:
    if program == "riot":
        ok = (RIOT.exists() and shutil.which("java")
              and Path("/usr/share/java/jena-core.jar").exists())
    elif program in ("n3", "jsonld"):
        ok = shutil.which("node") and (JS / "node_modules" / program).is_dir()
    else:
        ok = shutil.which(program)
    if not ok:
        pytest.skip(f"{program} is not installed (run .ci/install-tools)")


MANY_FILES = ("riot", "n3")  # judges given all files of one syntax in one run (a JVM or
# node start costs ~2 s or ~0.2 s; the release has a few hundred Turtle documents)


def judge(program: str, path: Path | list[Path], fmt: ox.RdfFormat) -> str | None:
    """The judge's reading of `path` (for riot and N3.js: of a list of files, concatenated)
    as N-Triples/N-Quads text, or None when it cannot read that syntax."""
    paths = [str(p) for p in (path if isinstance(path, list) else [path])]
    assert len(paths) == 1 or program in MANY_FILES
    serdi, rapper, riot, n3 = SYNTAX[fmt]
    if program == "serdi" and serdi:
        out_syntax = "nquads" if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG) else "ntriples"
        return run(["serdi", "-i", serdi, "-o", out_syntax, *paths])
    if program == "rapper" and rapper:
        out_syntax = "nquads" if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG) else "ntriples"
        return run(["rapper", "-q", "-i", rapper, "-o", out_syntax, *paths])
    if program == "riot" and riot:
        return run([str(RIOT), "--strict", f"--syntax={riot}", "--output=nq", *paths])
    if program == "n3" and n3:
        return run(["node", str(JS / "n3-parse.js"), n3, *paths])
    if program == "jsonld" and fmt == ox.RdfFormat.JSON_LD:
        return run(["node", str(JS / "jsonld-parse.js"), *paths])
    return None


@pytest.fixture(scope="module")
def reference(release_dir) -> dict[str, Counter[str]]:
    """pyoxigraph's reading of every RDF file of the release."""
    return {name: canonical((release_dir / name).read_bytes(), fmt)
            for name, fmt in rdf_files(release_dir).items()}


def test_pyoxigraph_reads_every_file_and_dumps_agree(release_dir, reference):
    """The reference reading: every dump holds the same statements (N-Quads and TriG with
    graphs, the others in the default graph), so comparing each judge with it is meaningful.
    Fails when a writer drops or alters a triple in one format only."""
    nt = reference["healthcoop.nt"]
    assert nt, "the N-Triples dump is empty"
    assert reference["healthcoop.ttl"] == nt
    assert reference["healthcoop.jsonld"] == nt
    assert Counter(set(map(_without_graph, reference["healthcoop.nq"]))) == nt
    assert reference["healthcoop.trig"] == reference["healthcoop.nq"]


def _without_graph(nquad: str) -> str:
    q = next(iter(ox.parse(nquad.encode(), format=ox.RdfFormat.N_QUADS)))
    return f"{q.subject} {q.predicate} {q.object}"


@pytest.mark.external
@pytest.mark.parametrize("program", JUDGES)
def test_judge_reads_every_file_identically(program, release_dir, reference):
    """Each independent parser reads each RDF file of the release (dumps, void.ttl, ontology,
    shapes) without error or warning, to exactly pyoxigraph's set of statements. This is
    the promise to consumers that Oxigraph, Jena (Fuseki), rapper/serd-based tools, N3.js
    and jsonld.js users never hit a parse error. Fails on any rejected or altered file."""
    need(program)
    checked = []
    by_format: dict[ox.RdfFormat, list[str]] = {}
    for name, fmt in rdf_files(release_dir).items():
        by_format.setdefault(fmt, []).append(name)
    for fmt, names in by_format.items():
        batches = [names] if program in MANY_FILES else [[name] for name in names]
        for batch in batches:
            output = judge(program, [release_dir / name for name in batch], fmt)
            if output is None:
                continue
            got = read_back(output)
            if got != sum((reference[name] for name in batch), Counter()):
                for name in batch:  # which file: each on its own
                    _compare(program, name, read_back(judge(program, release_dir / name, fmt)),
                             reference[name])
                pytest.fail(f"{program} read {batch} differently together than one by one")
            checked += batch
    assert checked, f"{program} checked no file"
    assert program not in ("riot", "n3") or any("site/" in name for name in checked)


def _compare(program: str, name: str, got: Counter[str], want: Counter[str]) -> None:
    missing, extra = want - got, got - want
    assert not missing and not extra, (
        f"{program} read {name} differently: {got.total()} statements vs {want.total()};\n"
        f"missing e.g. {sorted(missing)[:3]}\nextra e.g. {sorted(extra)[:3]}")


@pytest.mark.external
@pytest.mark.parametrize("program", JUDGES)
def test_judge_rejects_broken_files(program, tmp_path):
    """A judge that accepted anything would prove nothing: each must reject a file with an
    invalid IRI (a space) and one with a syntax error, in each syntax it reads."""
    need(program)
    broken = {
        ox.RdfFormat.N_TRIPLES: ["<http://a b> <http://b> <http://c> .\n",
                                 '<http://a> <http://b> "unterminated .\n'],
        ox.RdfFormat.TURTLE: ["<http://a b> <http://b> <http://c> .\n",
                              "@prefix ex: <http://e/> .\nex:a ex:b .\n"],
        ox.RdfFormat.N_QUADS: ["<http://a> <http://b> <http://c> <http://g h> .\n"],
        ox.RdfFormat.TRIG: ["<http://g> { <http://a b> <http://b> <http://c> . }\n"],
        # truncated JSON (a remote context is tested with jsonld.js alone: riot would try
        # to fetch it, and the tests make no outside connections)
        ox.RdfFormat.JSON_LD: ['{"@id": "http://a", "http://b": "x"'],
    }
    tried = 0
    for fmt, texts in broken.items():
        for index, text in enumerate(texts):
            path = tmp_path / f"broken-{index}.{fmt.file_extension}"
            path.write_text(text, encoding="utf-8")
            try:
                output = judge(program, path, fmt)
            except AssertionError:
                tried += 1
                continue
            if output is not None:
                pytest.fail(f"{program} accepted a broken {fmt.name} file: {text!r}")
    assert tried, f"{program} was tried on no syntax"


@pytest.mark.parametrize("name", list(DUMPS))
def test_gzip_copy_holds_the_same_bytes(name, release_dir):
    """Each .gz decompresses (with Python and with the gzip program, an independent
    implementation) to exactly the uncompressed dump. Fails on a stale or truncated copy."""
    plain = (release_dir / name).read_bytes()
    packed = release_dir / (name + ".gz")
    assert gzip.decompress(packed.read_bytes()) == plain
    if shutil.which("gzip"):
        result = subprocess.run(["gzip", "-dc", str(packed)], capture_output=True, check=True)
        assert result.stdout == plain


@pytest.mark.external
def test_jsonld_js_refuses_remote_contexts_and_lossy_documents(tmp_path):
    """jsonld.js runs in safe mode with a loader that refuses every fetch: a document that
    needs a remote context, or whose keys would be silently dropped (no context for them),
    is rejected. Our dump passes these conditions (test above), so it is self-contained
    and loses nothing on expansion."""
    need("jsonld")
    remote = tmp_path / "remote.jsonld"
    remote.write_text('{"@context": "https://example.org/ctx", "@id": "http://a", "p": "x"}')
    lossy = tmp_path / "lossy.jsonld"
    lossy.write_text('{"@id": "http://a", "p": "x"}')
    for path in (remote, lossy):
        with pytest.raises(AssertionError, match="rejected"):
            judge("jsonld", path, ox.RdfFormat.JSON_LD)
