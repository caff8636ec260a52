"""`data/dataset.yaml` is checked field by field (pipeline/read/dataset_meta.py): every mistake a
maintainer can type is a located issue (file, line, field) and never reaches the dumps as
garbage; `load_metadata` refuses to describe a release from invalid metadata. A Hypothesis
test mutates the real file's values and asserts: valid metadata, or located issues, never
another exception."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import InvalidData, IssueList
from pipeline.publish import describe
from pipeline.read.dataset_meta import check_dataset_metadata

FUZZ_EXAMPLES = int(os.environ.get("HEALTHCOOP_FUZZ_EXAMPLES", "60"))  # make fuzz: more

ROOT = Path(__file__).resolve().parent.parent
REAL = (ROOT / "data/dataset.yaml").read_text(encoding="utf-8")
REL = "data/dataset.yaml"


def project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    (tmp_path / "data/dataset.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def replace_value(text: str, key: str, value: str) -> str:
    """Replace the value of the top-level `key:` line (and any indented lines under it)."""
    pattern = re.compile(rf"^{re.escape(key)}:.*(?:\n(?:[ ]+.*|[ ]*#.*))*", re.MULTILINE)
    assert pattern.search(text), key
    return pattern.sub(lambda m: f"{key}: {value}", text, count=1)


def line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.split("\n"), start=1):
        if re.match(rf"\s*-?\s*{re.escape(key)}:", line):
            return number
    raise AssertionError(key)


def test_the_real_file_is_valid():
    """The repository's own metadata passes, with every field the description uses."""
    issues = IssueList()
    meta = check_dataset_metadata(ROOT, issues)
    assert meta is not None and not issues.items
    assert meta.language_iri.endswith("/ENG") and meta.contact_url.startswith("https://")
    assert meta.keywords and meta.themes and meta.licence_spdx == "CC-BY-4.0"


# (top-level key, bad value as written in YAML, field in the issue, words of the message)
BAD = [
    ("issued", '"2026-02-30"', "issued", "does not exist"),
    ("issued", '"23 November 2026"', "issued", "not a date"),
    ("issued", "[2026-11-23]", "issued", "not a list"),
    ("keywords", '"health cooperation"', "keywords", "must be a list"),
    ("keywords", "{a: b}", "keywords", "must be a list"),
    ("keywords", "[China, China]", "keywords[1]", "twice"),
    ("keywords", "[[nested]]", "keywords[0]", "must be text"),
    ("licence", '"CC BY 4.0"', "licence", "space"),
    ("licence", '"creativecommons.org/licenses/by/4.0/"', "licence", "absolute"),
    ("licence", '"https://"', "licence", "web address"),
    ("language", '"en GB"', "language", "BCP 47"),
    ("language", '"English"', "language", "ISO 639"),
    ("language", '"xx"', "language", "ISO 639"),
    ("language", '"en\\n"', "language", "BCP 47"),
    ("version", '"1.0"', "version", "semantic version"),
    ("version", '"v0.1.0"', "version", "semantic version"),
    ("version", '"0.1.0\\n"', "version", "semantic version"),
    ("version", "9" * 5000, "version", "semantic version"),
    ("version", "[0, 1, 0]", "version", "not a list"),
    ("title", "[healthcoop, data]", "title", "must be text, not a list"),
    ("title", "{name: healthcoop}", "title", "must be text, not a mapping"),
    ("title", "9" * 5000, "title", "characters long"),
    ("title", '"two\\nlines"', "title", "one line"),
    ("title", '"bell \\a"', "title", "control character"),
    ("title", "", "title", "empty"),
    ("description", '"write to someone@example.org"', "description", "e-mail"),
    ("publisher", '"healthcoop project"', "publisher", "must be a mapping"),
    ("contact_point", '{name: x, url: "mailto:someone@example.org"}', "contact_point.url",
     "personal contact"),
    ("contact_point", "{name: x, url: \"https://w3id.org/healthcoop/\", email: a}",
     "contact_point.email", "personal contact"),
    ("previous_version", '"0.2.0"', "previous_version", "later than"),
    ("previous_version", '"0.1.0"', "previous_version", "equals"),
    ("uri_space", '"https://example.org/id/"', "uri_space", "URI policy"),
    ("access_rights", '"http://publications.europa.eu/resource/authority/access-right/"',
     "access_rights", "not a term"),
    ("themes", '["http://publications.europa.eu/resource/authority/data-theme/HEAL"]',
     "themes[0]", "must be a mapping"),
    ("spatial", '"China"', "spatial", "must be a list"),
]


@pytest.mark.parametrize("key,value,field,words", BAD,
                         ids=[f"{k}-{i}" for i, (k, *_rest) in enumerate(BAD)])
def test_each_mistake_is_located(tmp_path, key, value, field, words):
    """One mistake a maintainer makes in data/dataset.yaml: reported as an error at the
    line of the field, naming the field, with a message saying what is wrong and a fix;
    `load_metadata` (what the build calls) refuses it with the same issue. Fails when the
    value would be accepted and published, or when the finding is not located."""
    text = replace_value(REAL, key, value)
    root = project(tmp_path, text)
    issues = IssueList()
    assert check_dataset_metadata(root, issues) is None
    found = [i for i in issues.errors if i.field == field]
    assert found, [(i.field, i.message) for i in issues.items]
    issue = found[0]
    assert issue.file == REL and issue.line == line_of(text, key), issue
    assert words.lower() in issue.message.lower(), issue.message
    assert issue.fix
    with pytest.raises(InvalidData) as raised:
        describe.load_metadata(root)
    assert any(i.field == field and i.line == issue.line for i in raised.value.issues)


def test_missing_and_unknown_fields(tmp_path):
    """A required field left out is reported (at the document, line 1), and a misspelt one
    is an unknown field with a suggestion, at its own line. Fails when a typo silently
    drops a value."""
    text = replace_value(REAL, "title", "x").replace("title: x\n", "")
    text = text.replace("licence_name:", "licence_nme:")
    issues = IssueList()
    assert check_dataset_metadata(project(tmp_path, text), issues) is None
    by_field = {i.field: i for i in issues.errors}
    assert "title" in by_field["(document)"].message or any(
        "`title` is missing" in i.message for i in issues.errors)
    unknown = by_field["licence_nme"]
    assert unknown.line == line_of(text, "licence_nme") and "licence_name" in unknown.message


def test_not_a_mapping_at_all(tmp_path):
    """A file that is a list, or plain text, is one located finding, not a crash."""
    for text in ("- a\n- b\n", "just words\n"):
        issues = IssueList()
        assert check_dataset_metadata(project(tmp_path, text), issues) is None
        assert issues.errors and all(i.line >= 1 for i in issues.errors)


def test_no_repr_or_character_keywords_reach_the_description(tmp_path):
    """What used to happen: keywords as a string became one keyword per character, a list
    title became its Python repr. Now the description is never written from such a file,
    and from a valid one every literal is a plain string. Fails on a regression."""
    for key, value in (("keywords", '"abc"'), ("title", "[a, b]")):
        with pytest.raises(InvalidData):
            describe.load_metadata(project(tmp_path, replace_value(REAL, key, value)))
    triples = describe.describe(describe.Description(describe.load_metadata(ROOT), [], {}, []))
    literals = [t.object.value for t in triples if isinstance(t.object, ox.Literal)]
    assert not any(v.startswith("[") or v.startswith("{") for v in literals)
    keywords = [t.object.value for t in triples if t.predicate.value.endswith("#keyword")]
    assert all(len(k) > 1 for k in keywords)


# --- property-based: mutate the real file's values ---------------------------------------

def _paths(data, prefix=()):
    """Every key path and list index of the parsed file."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


REAL_DATA = yaml.safe_load(REAL)
PATHS = sorted(_paths(REAL_DATA), key=str)
HOSTILE = ["2026-02-30", "en GB", "not an iri", "https://w3id.org/healthcoop/id/", "1.0",
           "0.1.0\n", "mailto:a@b.org", "=cmd|' /C calc'!A0", "", " ", "\u202e", "\x85",
           "https://", "ftp://example.org/x", "+44 20 7946 0000", "0.1.0-rc.1", "zh-Hans"]
scalars = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30), st.integers(),
                    st.just("HUGE-NUMBER"), st.booleans(), st.none(),
                    st.floats(allow_nan=False), st.dates())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


def _set(data, path, value, delete):
    node = data
    for part in path[:-1]:
        node = node[part]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value


@settings(max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(mutations=st.lists(st.tuples(st.sampled_from(PATHS), values, st.booleans()),
                          min_size=1, max_size=3))
def test_mutated_metadata_is_valid_or_located(tmp_path, mutations):
    """Any values in data/dataset.yaml (wrong types, hostile strings, huge numbers, nested
    lists and mappings, deleted keys): either valid metadata whose description serialises
    to well-formed RDF, or errors each with the file, a line > 0 and a field; never another
    exception. Fails on a traceback or an unlocated finding."""
    import copy

    data = copy.deepcopy(REAL_DATA)
    for path, value, delete in mutations:
        try:
            _set(data, path, value, delete)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced the parent
    # a 5,000-digit number, written unquoted (a Python int that long cannot be dumped)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False).replace(
        "HUGE-NUMBER", "9" * 5000)
    root = project(tmp_path / "m", text)
    issues = IssueList()
    meta = check_dataset_metadata(root, issues)
    if meta is None:
        assert issues.errors
        for issue in issues.errors:
            assert issue.file == REL and issue.line > 0 and issue.field, issue
    else:
        assert not issues.errors
        triples = describe.describe(describe.Description(meta, [], {}, []))
        text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
        assert len(list(ox.parse(text, format=ox.RdfFormat.N_TRIPLES))) == len(triples)
        for t in triples:
            if isinstance(t.object, ox.Literal) and t.object.datatype.value.endswith("#date"):
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", t.object.value)
    shutil.rmtree(tmp_path / "m")
