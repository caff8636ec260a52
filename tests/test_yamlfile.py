"""Reading curated YAML: nothing is silently changed or lost, and every problem is located."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import IssueList
from pipeline.read.yamlfile import MAX_FILE_BYTES, load_yaml


def _load(tmp_path: Path, content: str | bytes, name: str = "x.yaml"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    issues = IssueList()
    return load_yaml(path, tmp_path, issues), issues.items


def test_implicit_typing_cannot_change_a_value(tmp_path):
    """YAML 1.1 would turn NO into False, 0123 into 83, 1.10 into 1.1, an unquoted date into
    a date object and 2020-02-30 into an error far from its line: every scalar stays the
    text the curator wrote."""
    doc, issues = _load(tmp_path, "a: NO\nb: 0123\nc: 1.10\nd: 2020-05-15\ne: 2020-02-30\n"
                                  "f: 0x1F\ng: 1e3\nh: yes\ni: .inf\nj: '~'\n")
    assert issues == []
    assert doc.data == {"a": "NO", "b": "0123", "c": "1.10", "d": "2020-05-15",
                        "e": "2020-02-30", "f": "0x1F", "g": "1e3", "h": "yes", "i": ".inf",
                        "j": "~"}


def test_plain_empty_and_null_mean_no_value(tmp_path):
    """`roles:` with nothing after it, `~` and `null` mean "no value" (the C parser marks
    plain scalars differently from the pure-Python one; both must agree); a quoted "" or
    "null" stays text."""
    doc, issues = _load(tmp_path, 'a:\nb: ~\nc: null\nd: ""\ne: "null"\n')
    assert issues == []
    assert doc.data == {"a": None, "b": None, "c": None, "d": "", "e": "null"}


def test_positions(tmp_path):
    """Every value remembers its line, so later errors can name file:line:field."""
    doc, _ = _load(tmp_path, "agreements:\n  - id: a\n    parties: [x, y]\n    date:\n"
                             "      value: \"2020\"\n")
    assert doc.line(("agreements", 0)) == 2
    assert doc.line(("agreements", 0, "parties", 1)) == 3
    assert doc.column(("agreements", 0, "parties", 1)) == 18
    assert doc.line(("agreements", 0, "date", "value")) == 5
    assert doc.line(("agreements", 0, "missing", "field")) == 2  # nearest parent


def test_duplicate_key_is_an_error(tmp_path):
    """A key given twice would silently keep only the last value."""
    doc, issues = _load(tmp_path, "persons:\n  - id: a\n    label: A\n    label: B\n")
    assert doc is None
    assert [(i.line, i.field, i.code) for i in issues] == [
        (4, "persons[0].label", "duplicate-key")]
    assert "first set on line 3" in issues[0].message


def test_tab_indentation(tmp_path):
    """Tabs in indentation are reported at their line and column."""
    doc, issues = _load(tmp_path, "persons:\n  - id: a\n\t label: A\n")
    assert doc is None and [(i.line, i.column, i.code) for i in issues] == [(3, 1, "yaml-tab")]


def test_byte_order_mark(tmp_path):
    """A BOM is reported, not silently stripped."""
    doc, issues = _load(tmp_path, b"\xef\xbb\xbfa: b\n")
    assert doc is None and issues[0].line == 1 and "byte-order mark" in issues[0].message


def test_not_utf8_names_the_line(tmp_path):
    """Bytes that are not UTF-8 are located by line."""
    doc, issues = _load(tmp_path, b"a: b\nc: caf\xe9\n")
    assert doc is None and issues[0].line == 2 and "0xe9" in issues[0].message


def test_empty_file(tmp_path):
    """A file with only comments is reported (it is almost always a mistake)."""
    doc, issues = _load(tmp_path, "# nothing yet\n\n")
    assert doc is None and issues[0].message.startswith("The file is empty")


def test_aliases_are_located_at_the_alias(tmp_path):
    """An alias is reported where it is used (composing would give the anchor's line)."""
    doc, issues = _load(tmp_path, "a: &x [1, 2]\nb: c\nd: *x\n")
    assert doc is None
    assert [(i.line, i.column, i.field) for i in issues] == [(3, 4, "d")]


def test_several_documents(tmp_path):
    doc, issues = _load(tmp_path, "a: b\n---\nc: d\n")
    assert doc is None and "2 YAML documents" in issues[0].message


@pytest.mark.parametrize("char", ["\x07", "\x00", "\x85", "\u2028", "\u2029", "\x1b"])
def test_invisible_control_characters(tmp_path, char):
    """Raw control characters and the characters YAML takes as line breaks (U+0085, U+2028,
    U+2029) are located by the line an editor shows; YAML alone would either fail without a
    line or silently split the value."""
    doc, issues = _load(tmp_path, f"a: b\nc: \"x{char}y\"\n")
    assert doc is None
    assert [(i.line, i.column, i.code) for i in issues] == [(2, 6, "yaml-control-character")]
    assert f"U+{ord(char):04X}" in issues[0].message


def test_lone_carriage_return(tmp_path):
    """A lone CR is a line break to YAML but not to most editors; CRLF files are fine."""
    doc, issues = _load(tmp_path, "a: b\rc: d\n")
    assert doc is None and issues[0].code == "yaml-control-character"
    doc, issues = _load(tmp_path, "a: b\r\nc: d\r\n", "crlf.yaml")
    assert issues == [] and doc.data == {"a": "b", "c": "d"} and doc.line(("c",)) == 2


def test_lone_surrogate_escape(tmp_path):
    """A \\ud800 escape is half of a UTF-16 pair: a located syntax error with a fix."""
    doc, issues = _load(tmp_path, 'a: b\nc: "x\\ud800y"\n')
    assert doc is None and issues[0].line == 2 and "UTF-16" in issues[0].fix


def test_syntax_error_is_located(tmp_path):
    doc, issues = _load(tmp_path, 'a: b\nc: "unclosed\nd: e\n')
    assert doc is None and issues[0].code == "yaml-syntax" and issues[0].line >= 2


def test_over_large_file_is_not_read(tmp_path):
    """A file over the limit is refused from its size, before it is read into memory."""
    path = tmp_path / "big.yaml"
    with path.open("wb") as out:
        out.truncate(MAX_FILE_BYTES + 1)
    issues = IssueList()
    assert load_yaml(path, tmp_path, issues) is None
    assert issues.items[0].line == 1 and "at most 20 MB" in issues.items[0].message


RECORDS = ("agreements:\n"
           "  - id: first-agreement\n"
           "    label: First\n"
           "    parties:\n"
           "      - alpha\n"
           "      - beta\n"
           "  - id: second-agreement\n"
           "    label: Second\n")


def test_a_compacted_document_finds_its_positions_again_in_the_file(tmp_path):
    """Record files keep only their records' lines in memory; a finding about a field
    reads the positions from the file again, once, and they are the same."""
    doc, issues = _load(tmp_path, RECORDS)
    full = dict(doc.positions)
    doc.compact(2, "id")
    assert set(doc.positions) == {(), ("agreements",), ("agreements", 0), ("agreements", 1),
                                  ("agreements", 0, "id"), ("agreements", 1, "id")}
    assert doc.line(("agreements", 1, "id")) == 7 and doc.kept_depth == 2  # kept: no read
    assert doc.line(("agreements", 0, "parties", 1)) == 6
    assert doc.column(("agreements", 0, "parties", 1)) == 9
    assert doc.positions == full and doc.kept_depth is None


def test_a_file_changed_since_it_was_read_is_not_trusted_for_positions(tmp_path):
    """If the bytes differ from those read, its lines may have moved: a field's finding
    points at its record's line instead of a line that may now hold something else."""
    doc, issues = _load(tmp_path, RECORDS)
    doc.compact(2, "id")
    (tmp_path / "x.yaml").write_text("# a comment added above\n" + RECORDS, encoding="utf-8")
    assert doc.line(("agreements", 0, "parties", 1)) == 2  # the record's line, as read
    (tmp_path / "x.yaml").unlink()
    assert doc.line(("agreements", 1, "label")) == 7  # gone: the same, and no crash


def test_a_remembered_document_is_only_reused_for_the_same_bytes(tmp_path):
    """`remember=True` callers share one parse of a file's bytes; the file changed (same
    path, same size) is parsed again; a caller that did not ask gets its own document, and
    a file with findings is never remembered (its findings are reported to every caller)."""
    path = tmp_path / "r.yaml"
    path.write_text("a: 1\n")
    first = load_yaml(path, tmp_path, IssueList(), remember=True)
    assert load_yaml(path, tmp_path, IssueList(), remember=True) is first
    assert load_yaml(path, tmp_path, IssueList()) is not first
    path.write_text("a: 2\n")
    changed = load_yaml(path, tmp_path, IssueList(), remember=True)
    assert changed is not first and changed.data == {"a": "2"}  # (no implicit typing)
    path.write_text("a: [\n")
    for _ in range(2):
        issues = IssueList()
        assert load_yaml(path, tmp_path, issues, remember=True) is None
        assert [i.code for i in issues.items] == ["yaml-syntax"]


def _first_line_finding(text: str):
    """The rule as it reads, line by line (the reference for the whole-text search): the
    first line with a tab in its indentation (reported before anything else on that line)
    or an invisible character; lines split on "\\n" only; CR is fine only at a line's end."""
    import re

    bad_re = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]|\r(?!$)")
    for number, line in enumerate(text.split("\n"), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            return number, indent.index("\t") + 1, "yaml-tab"
        bad = bad_re.search(line)
        if bad:
            return number, bad.start() + 1, "yaml-control-character"
    return None


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.text(st.sampled_from(list(" \t\na:-\r\x0b\x85\u2028\x00é")), max_size=30))
def test_tabs_and_invisible_characters_are_found_where_a_line_by_line_reading_finds_them(text):
    expected = _first_line_finding(text)
    with tempfile.TemporaryDirectory() as tmp:
        _doc, issues = _load(Path(tmp), "k: v\n" + text)
    found = [(i.line - 1, i.column, i.code) for i in issues
             if i.code in ("yaml-tab", "yaml-control-character")]
    if expected is None:
        assert found == []
    else:
        assert found == [(expected[0], expected[1], expected[2])]
