"""Issue 10, "no traceback, ever": hostile servers and corrupt files give clean errors.

1. A property test: the fake Wikidata (tests/wikidata_server.py) answers with Hypothesis-
   generated JSON values, real answers with parts replaced by wrong types, and raw bytes; the
   client returns a result or raises the project's error family, never anything else, and
   what it returns is printable. Budget: HEALTHCOOP_FUZZ_EXAMPLES examples (default 200).
2. `healthcoop diff` and `healthcoop load`, run as real subprocesses, and the reading of
   the previous release by `build --previous`, on every kind of corrupt input: the exit
   code the module docstring of pipeline/consume/diff.py promises (2 environment, 1 invalid data),
   the file named in the message, no "Traceback".
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wikidata_server import FIXTURES, FakeClock, body, fake_gzip, raw, running, status, truncated

from pipeline.cli import main
from pipeline.consume.diff import MAX_DUMP_BYTES, write_changes
from pipeline.errors import HealthcoopError
from pipeline.link.cache import ResponseCache
from pipeline.link.client import (
    QID_PATTERN,
    RetryPolicy,
    WikidataClient,
    claim_values,
    entity_aliases,
    entity_description,
    entity_labels,
)
from pipeline.terminal import unsafe_character

ROOT = Path(__file__).resolve().parent.parent
V1 = ROOT / "tests" / "fixtures" / "releases" / "v1"
UA = "healthcoop-fuzz/0.1 (https://example.org/healthcoop-tests) python-requests"
FUZZ_EXAMPLES = int(os.environ.get("HEALTHCOOP_FUZZ_EXAMPLES", "200"))

# --- 1. the Wikidata client against generated answers -------------------------------------------

SEARCH_ANSWER = json.loads((FIXTURES / "search-en-northbridge-university.json").read_text())
ENTITIES_ANSWER = {"entities": {q: json.loads((FIXTURES / "entities.json").read_text())[
    "entities"][q] for q in ("Q900001", "Q900060")}, "success": 1}
API_KEYS = ["search", "entities", "id", "labels", "aliases", "descriptions", "value",
            "language", "claims", "P31", "mainsnak", "datavalue", "snaktype", "rank",
            "redirects", "to", "missing", "sitelinks", "lastrevid", "error", "code", "info",
            "match", "text", "label", "Q900001", "en"]
ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT
    | st.sampled_from(["Q900001", "Q0", "Q900001\n", "\x1b[2J", "\ud800", "maxlag"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(API_KEYS) | ANY_TEXT, inner, max_size=4),
    max_leaves=12)


HOSTILE_TEXT = st.one_of(
    ANY_TEXT,
    st.builds(lambda head, bad, tail: head + bad + tail,
              st.sampled_from(["", "Northbridge ", "诺斯"]),
              st.sampled_from(["\x1b[31m", "\x1b]0;x\x07", "\x9b2J", "\u202e", "\u2066",
                               "\ud800", "\x00", "\n", "\x7f"]),
              st.sampled_from(["", " University"])))


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


READ_KEYS = {"value", "label", "description", "text", "time", "id", "to"}  # strings we read


def _places(base) -> tuple[list, list]:
    """(places near the top, where a wrong type breaks structure; string leaves, where
    hostile text hides), so that few examples reach every level."""
    paths = [p for p in _paths(base) if p]
    leaves = [p for p in paths if isinstance(_get(base, p), str) and p[-1] in READ_KEYS
              and "display" not in p]
    return [p for p in paths if len(p) <= 4], leaves


def _get(doc, path):
    for step in path:
        doc = doc[step]
    return doc


@st.composite
def mutated(draw, base):
    """A real answer with one to three parts replaced: a part near the top by any JSON
    value (a list where an object belongs, a number where a string belongs, ...), or a
    string leaf by hostile text."""
    doc = copy.deepcopy(base)
    structural, leaves = _places(base)
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            path, value = draw(st.sampled_from(structural)), draw(JSON_VALUES)
        else:
            path, value = draw(st.sampled_from(leaves)), draw(HOSTILE_TEXT)
        try:
            parent = _get(doc, path[:-1])
            if draw(st.integers(0, 4)) == 0 and isinstance(parent, dict):
                parent.pop(path[-1], None)  # a missing key
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            pass  # an earlier replacement removed this place
    return doc


GENERIC_ANSWERS = st.one_of(
    JSON_VALUES.map(body),
    st.binary(max_size=300).map(body),
    st.binary(max_size=300).map(raw),  # not even HTTP
    st.sampled_from([fake_gzip(), truncated(), raw(b"HTTP/1.1 abc\r\n\r\n")]),
    st.builds(lambda code, after: status(code, Retry_After=after),
              st.sampled_from([301, 404, 429, 500, 503]),
              st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e),
                      max_size=30)),
)
# (look-up, answer): mostly a damaged answer of the look-up's own kind, so that the damage
# gets past the first checks; sometimes anything at all
EXCHANGES = st.one_of(
    st.tuples(st.just("search"), mutated(SEARCH_ANSWER).map(body)),
    st.tuples(st.just("entities"), mutated(ENTITIES_ANSWER).map(body)),
    st.tuples(st.sampled_from(["search", "entities"]), GENERIC_ANSWERS),
)


@pytest.fixture(scope="module")
def fuzz_server():
    """One fake Wikidata for the whole property test (reset before every example)."""
    with running() as server:
        yield server


def _all_text(result) -> list[str]:
    if hasattr(result, "hits"):
        assert all(QID_PATTERN.match(h.id) for h in result.hits)
        return [t for h in result.hits for t in (h.id, h.label, h.description, h.match_type,
                                                  h.match_language, h.match_text, *h.aliases)]
    texts = []
    for res in result.values():
        assert res.status in ("found", "missing", "redirect")
        assert res.status == "missing" or QID_PATTERN.match(res.target), res.target
        assert res.revision is None or type(res.revision) is int
        texts += [res.target, *entity_labels(res.entity).keys(),
                  *entity_labels(res.entity).values(), entity_description(res.entity)]
        texts += [t for pair in entity_aliases(res.entity) for t in pair]
        texts += [v for prop in ("P31", "P17", "P571") for v in claim_values(res.entity, prop)]
    return texts


@settings(derandomize=True, max_examples=FUZZ_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(exchange=EXCHANGES)
def test_client_survives_any_answer(fuzz_server, exchange):
    """Whatever the server answers (twice: first attempt and retry), the client returns a
    result or raises a HealthcoopError; every text it hands on is printable; the cache it
    wrote reads back. Fails on any other exception: TypeError, KeyError, RecursionError,
    UnicodeEncodeError, requests' or urllib3's."""
    lookup, answer = exchange
    fuzz_server.reset()
    fuzz_server.script(answer, answer)
    with tempfile.TemporaryDirectory() as tmp:
        def client(**kwargs):
            return WikidataClient(endpoint=fuzz_server.url, user_agent=UA, clock=FakeClock(),
                                  cache=ResponseCache(Path(tmp)), timeout=(2.0, 5.0),
                                  retry=RetryPolicy(max_retries=1), **kwargs)

        def ask(c):
            return (c.search("Northbridge University") if lookup == "search"
                    else c.get_entities(["Q900001", "Q900060"]))

        online = client()
        try:
            result = ask(online)
        except HealthcoopError as err:
            assert unsafe_character(err.message) is None
            return
        assert all(unsafe_character(t) is None for t in _all_text(result))
        assert all(unsafe_character(note) is None for note in online.refused)
        assert _all_text(ask(client(offline=True))) == _all_text(result)


# --- 2. corrupt releases ------------------------------------------------------------------------

NT = (V1 / "healthcoop.nt").read_bytes()


def _write(name: str, data: bytes):
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data)
        return path
    return make


def _fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "dump.nt")
    return tmp / "dump.nt"


def _fifo_in_release(tmp: Path) -> Path:
    (tmp / "release").mkdir()
    os.mkfifo(tmp / "release" / "healthcoop.ttl")
    return tmp / "release"


def _too_large(tmp: Path) -> Path:
    path = tmp / "huge.nt"
    with path.open("wb") as handle:  # sparse: takes no disk space, and is never read
        handle.truncate(MAX_DUMP_BYTES + 1)
    return path


def _not_a_release(tmp: Path) -> Path:
    (tmp / "project").mkdir()
    (tmp / "project" / "README.md").write_text("not a release")
    return tmp / "project"


def _symlink_out(tmp: Path) -> Path:
    (tmp / "elsewhere.ttl").write_bytes(NT)
    (tmp / "release").mkdir()
    (tmp / "release" / "healthcoop.ttl").symlink_to(tmp / "elsewhere.ttl")
    return tmp / "release"


def _dangling_in_release(tmp: Path) -> Path:
    (tmp / "release").mkdir()
    (tmp / "release" / "healthcoop.ttl").symlink_to(tmp / "gone.ttl")
    return tmp / "release"


def _device(tmp: Path) -> Path:
    (tmp / "zero.nt").symlink_to("/dev/zero")
    return tmp / "zero.nt"


def _damaged_gzip() -> bytes:
    data = bytearray(gzip.compress(NT))
    data[-8:-4] = b"\0\0\0\0"  # the CRC
    return bytes(data)


# id -> (make the path, exit code, what the message says); the file is named in every one
CASES = {
    "empty": (_write("dump.nt", b""), 1, "is empty (0 bytes)"),
    "empty-gz": (_write("dump.nt.gz", b""), 1, "is empty (0 bytes)"),
    "gz-of-nothing": (_write("dump.nt.gz", gzip.compress(b"")), 1, "decompresses to nothing"),
    "truncated-gz": (_write("dump.nt.gz", gzip.compress(NT)[:300]), 1, "truncated gzip"),
    "damaged-gz": (_write("dump.nt.gz", _damaged_gzip()), 1, "damaged gzip"),
    "gz-not-gzip": (_write("dump.nt.gz", NT), 1, "not gzip-compressed"),
    "gzip-misnamed": (_write("dump.nt", gzip.compress(NT)), 1, "its name does not end in .gz"),
    "json-as-turtle": (_write("dump.ttl", b'{"@id": "x"}'), 1, "is not valid Turtle"),
    "turtle-as-nt": (_write("dump.nt", b"@prefix x: <http://x/> .\nx:a x:b x:c .\n"), 1,
                     "is not valid N-Triples"),
    "not-utf8": (_write("dump.nt", '<http://a> <http://b> "caf\xe9" .\n'.encode("latin-1")),
                 1, "is not UTF-8 text (byte 0xE9"),
    "no-triples": (_write("dump.ttl", b"# nothing here\n@prefix x: <http://x/> .\n"), 1,
                   "holds no triples"),
    "remote-context": (_write("dump.jsonld", b'{"@context": "http://127.0.0.1:9/c",'
                                             b' "@id": "http://a"}'), 1, "not valid JSON-LD"),
    "escape-in-name": (_write("\x1b[31mred.nt", b""), 1, "\\x1b[31mred.nt is empty"),
    "not-a-release": (_not_a_release, 2, "holds no healthcoop dump"),
    "fifo": (_fifo, 2, "is a named pipe (FIFO)"),
    "fifo-in-release": (_fifo_in_release, 2, "is a named pipe (FIFO)"),
    "device": (_device, 2, "is a character device"),
    "too-large": (_too_large, 2, "more than the"),
    "symlink-out": (_symlink_out, 2, "outside the release directory"),
    "dangling-in-release": (_dangling_in_release, 2, "broken or looping symbolic link"),
    "unknown-extension": (_write("dump.xyz", NT), 2, "cannot tell the RDF format"),
}


def _shown(path: Path) -> str:
    """The part of the path every message must contain (escaped as messages show it)."""
    return path.name.replace("\x1b", "\\x1b")


def _healthcoop(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


LOAD_SUBPROCESS_CASES = ("fifo", "symlink-out")


@pytest.fixture(scope="module")
def processes(tmp_path_factory):
    """Every subprocess run of this module, started three at a time (each process spends
    most of its second importing the pipeline): (command, case) -> (path, finished run)."""
    jobs = {}
    for case, (make, _code, _says) in CASES.items():
        path = make(tmp_path_factory.mktemp(case))
        jobs[("diff", case)] = (path, ["diff", str(V1), str(path)])
        if case in LOAD_SUBPROCESS_CASES:
            jobs[("load", case)] = (path, ["load", str(path), "--endpoint",
                                           "http://127.0.0.1:9/store"])
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = {key: pool.submit(_healthcoop, *args) for key, (_path, args) in jobs.items()}
        return {key: (jobs[key][0], run.result()) for key, run in runs.items()}


@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_diff_subprocess_on_corrupt_input(case, processes):
    """`healthcoop diff GOOD CORRUPT`, a real process (so a hang would show as a timeout and
    a traceback on stderr): the promised exit code, the file named, what is wrong."""
    _make, code, says = CASES[case]
    path, run = processes[("diff", case)]
    assert run.returncode == code, run.stderr
    assert "Traceback" not in run.stderr and says in run.stderr
    assert _shown(path) in run.stderr
    assert "\x1b" not in run.stderr and "fix:" in run.stderr


@pytest.mark.parametrize("case", LOAD_SUBPROCESS_CASES)
def test_load_subprocess_on_corrupt_input(case, processes):
    """A few of the cases through a real `healthcoop load` process."""
    _make, code, says = CASES[case]
    path, run = processes[("load", case)]
    assert run.returncode == code and "Traceback" not in run.stderr, run.stderr
    assert says in run.stderr and _shown(path) in run.stderr


@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_load_on_corrupt_input(case, tmp_path):
    """`healthcoop load CORRUPT`: refused before anything is sent (the store records no
    request), with the same exit code and message as diff. In-process, to keep the
    budget; test_load_subprocess repeats some cases as real processes."""
    make, code, says = CASES[case]
    path = make(tmp_path)
    with running() as store:
        endpoint = store.url.replace("/w/api.php", "/store")
        result = CliRunner().invoke(main, ["load", str(path), "--endpoint", endpoint])
        assert store.requests == []
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == code and says in result.output, result.output
    assert _shown(path) in result.output


@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_previous_release_on_corrupt_input(case, tmp_path):
    """What `build --previous` calls: write_changes raises the same clean error for a
    corrupt previous release, and writes no CHANGES file."""
    make, code, says = CASES[case]
    path = make(tmp_path)
    release = tmp_path / "new"
    shutil.copytree(V1, release)
    with pytest.raises(HealthcoopError) as err:
        write_changes(path, release, release / "CHANGES")
    assert err.value.exit_code == code and says in err.value.message
    assert not (release / "CHANGES").exists()


def test_build_previous_subprocess_on_corrupt_input(tmp_path, mini):
    """`healthcoop build --previous` with a 0-byte previous dump, as a real process: exit
    1 naming the file; the build leaves no output behind (it is atomic)."""
    empty = tmp_path / "old.nt"
    empty.write_bytes(b"")
    out = tmp_path / "out"
    run = _healthcoop("build", "--root", str(mini), "--output", str(out), "--previous",
                      str(empty))
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert f"{empty} is empty (0 bytes)" in run.stderr
    assert not out.exists()
