"""`healthcoop new-source FILE`: a new source text registered end to end, or nothing at all."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.check.validate import validate_project
from pipeline.cli import main
from pipeline.curate.newsource import register_source, slug
from pipeline.read.sources import load_sources

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
TEXT = ("Ministers agree on rare disease cooperation\n\n"
        "Harbour City, 2024.06.01. The two ministries signed an agreement on rare diseases.\n")






def state(root: Path) -> dict[str, bytes]:
    data = root / "data"
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(data.rglob("*")) if p.is_file()}


def _text_file(tmp_path: Path, content: bytes | str = TEXT, name: str = "release.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_registers_a_source_end_to_end(mini, tmp_path):
    """The text is archived byte for byte under a name with its hash, the registry gets an
    entry appended as text (its comments and every earlier byte unchanged), a records
    skeleton is written, and the project still validates (the new source's IRI is the one
    warning: it is not registered yet)."""
    registry_before = (mini / "data/sources.yaml").read_bytes()
    source = _text_file(tmp_path, TEXT.replace("\n", "\r\n"))  # bytes are kept, CRLF and all
    result = CliRunner().invoke(main, ["new-source", "--root", str(mini), str(source)])
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    archived = mini / "data" / "sources" / f"002_{digest[:16]}.txt"
    assert archived.read_bytes() == source.read_bytes()
    registry = (mini / "data/sources.yaml").read_bytes()
    assert registry.startswith(registry_before)
    sid = "ministers-agree-on-rare-disease-cooperation"
    assert f"  - id: {sid}\n" in registry.decode() and f"sha256: {digest}" in registry.decode()
    assert "title taken from the first line" in result.output
    skeleton = (mini / "data" / "records" / f"{sid}.yaml").read_text(encoding="utf-8")
    assert "\nagreements:\n#   - id: example-mou-2024" in skeleton
    sources = load_sources(mini)
    assert sources[sid].title == "Ministers agree on rare disease cooperation"
    report = validate_project(mini)
    assert report.errors == []
    assert [i.code for i in report.warnings if i.record_id == sid] == ["unregistered-iri"]


def test_options(mini, tmp_path):
    """--id, --title and --language are used as given; the title is written as a YAML
    string that survives quotes, colons and backslashes."""
    title = 'The "deal": 5\\6 # not a comment'
    added = register_source(mini, _text_file(tmp_path), source_id="custom-id-2024",
                            title=title, language="en-GB")
    assert added.id == "custom-id-2024" and not added.title_guessed
    source = load_sources(mini)["custom-id-2024"]
    assert (source.title, source.language) == (title, "en-GB")


@pytest.mark.parametrize("content, message", [
    (b"caf\xe9 au lait\n", "is not UTF-8 (byte 0xe9 on line 1)"),
    (b"  \n\n", "is empty"),
])
def test_refuses_unusable_text(mini, tmp_path, content, message):
    """Non-UTF-8 (quotes are matched against these bytes) and empty files are refused with
    exit 1, and nothing in data/ changes."""
    before = state(mini)
    result = CliRunner().invoke(main, ["new-source", "--root", str(mini),
                                       str(_text_file(tmp_path, content))])
    assert result.exit_code == 1 and message in result.output
    assert state(mini) == before


def test_refuses_duplicate_content(mini, tmp_path):
    """The same bytes as a registered source are refused, naming that source."""
    existing = next((mini / "data" / "sources").glob("000_*"))
    before = state(mini)
    result = CliRunner().invoke(main, ["new-source", "--root", str(mini), str(existing)])
    assert result.exit_code == 1
    assert "same bytes as source 'fixture-dialogue-2024' (data/sources.yaml:5)" in result.output
    assert state(mini) == before


@pytest.mark.parametrize("source_id, message", [
    ("../../etc/x", "is not a valid id"),
    ("Has Space", "is not a valid id"),
    ("fixture-fund-2024", "already registered"),
    ("li-wen", "already the id of a record (data/records/actors.yaml:12)"),
])
def test_refuses_bad_or_taken_ids(mini, tmp_path, source_id, message):
    """Ids become IRIs and file names: a malformed id, or one a source or record already
    has, is refused before anything is written (so `../` cannot escape data/records/)."""
    before = state(mini)
    result = CliRunner().invoke(main, ["new-source", "--root", str(mini), "--id", source_id,
                                       str(_text_file(tmp_path))])
    assert result.exit_code == 1 and message in result.output
    assert state(mini) == before


def test_a_failure_part_way_undoes_everything(mini, tmp_path, monkeypatch):
    """If the registry does not read back cleanly (or Ctrl-C arrives) after the files were
    written, every step is undone: archive file, registry and skeleton."""
    before = state(mini)

    def broken(root, sid):
        raise KeyboardInterrupt

    monkeypatch.setattr("pipeline.curate.newsource._verify", broken)
    with pytest.raises(KeyboardInterrupt):
        register_source(mini, _text_file(tmp_path))
    assert state(mini) == before
    assert not [p for p in (mini / "data").rglob(".*tmp*")]


def test_slug():
    assert slug("Ministers agree: 5 billion RMB for “rare” diseases!") == (
        "ministers-agree-5-billion-rmb-for-rare-diseases")
    assert slug("2024 visit") == "source-2024-visit"
    assert len(slug("word " * 40)) <= 60


@pytest.mark.parametrize("title", ["Health \x1b[31mminister", "Bidi \u202e title",
                                   "Bell\x07 ringing"])
def test_new_source_refuses_a_title_validation_would_refuse(mini, tmp_path, title):
    """new-source must never write what `healthcoop validate` then refuses (issue 10): a
    title with a control character or a bidirectional override is refused (exit 1) and
    nothing is archived or registered."""
    from mini_project import snapshot

    text = tmp_path / "article.txt"
    text.write_text("A headline\nThe body of the article.\n", encoding="utf-8")
    before = snapshot(mini / "data")
    result = CliRunner().invoke(main, ["new-source", str(text), "--root", str(mini),
                                       "--title", title])
    assert result.exit_code == 1, result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert snapshot(mini / "data") == before


# --- the skeleton's commented examples ------------------------------------------------------------

MUST_CODES = {"unknown-reference", "quote-not-found", "stated-as-not-in-source"}
# what a maintainer puts where the examples say MUST: ids of the mini project's records
PLACEHOLDERS = {"jane-doe": "alice-grant", "ministry-of-health": "northbridge-ministry-of-health",
                "beijing": "eastvale-city", "organisation-a": "eastvale-digital-health-institute",
                "organisation-b": "harbour-pharma"}
# an article that says what the examples quote, so their quotes need no pasting
QUOTED = ("Ministers hold health dialogue\n\nMinister of Health Jane Doe held a health dialogue in "
          "Beijing on Wednesday. A and B signed a memorandum of understanding worth 5 billion RMB, "
          "and the programme run by A will follow.\n")


def uncomment(text: str) -> str:
    """The records file with every example uncommented as a maintainer does it: below the
    first list (`roles:`), the leading "# " of each line removed. The header above stays."""
    lines = text.splitlines(keepends=True)
    start = lines.index("roles:\n")
    return "".join(lines[:start] + [line[2:] if line.startswith("# ") else line
                                    for line in lines[start:]])


def _skeleton_uncommented(mini, tmp_path, content: str) -> Path:
    added = register_source(mini, _text_file(tmp_path, content), source_id="skeleton-trial-2024")
    path = mini / added.records_file
    path.write_text(uncomment(path.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def test_uncommented_skeleton_fails_only_where_it_says_must(mini, tmp_path):
    """Every example of the skeleton, uncommented, is valid YAML and valid records except at
    the values its comments mark MUST: each error is an unknown id, a quote or an amount the
    text does not contain, on a line that says MUST; no syntax, schema or `supports` error."""
    path = _skeleton_uncommented(mini, tmp_path, TEXT)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert sum("MUST" in line for line in lines) >= 10
    report = validate_project(mini)
    rel = path.relative_to(mini).as_posix()
    assert report.errors, "the placeholders must not validate as they are"
    for issue in report.errors:
        assert issue.file == rel, (issue.file, issue.message)
        assert issue.code in MUST_CODES, (issue.code, issue.field, issue.message)
        assert "MUST" in lines[issue.line - 1], (issue.line, lines[issue.line - 1], issue.message)
    assert {i.code for i in report.errors} == MUST_CODES


def test_uncommented_skeleton_validates_once_the_must_values_are_replaced(mini, tmp_path):
    """Doing what the MUST comments say (ids of existing records in place of the examples'
    ids, a text that contains the quotes) leaves a file with no error at all: the examples
    are otherwise complete records."""
    import re

    path = _skeleton_uncommented(mini, tmp_path, QUOTED)
    text = path.read_text(encoding="utf-8")
    for placeholder, real in PLACEHOLDERS.items():
        text = re.sub(rf"(?<![\w-]){re.escape(placeholder)}(?![\w-])", real, text)
    path.write_text(text, encoding="utf-8")
    report = validate_project(mini)
    assert report.errors == [], [(i.line, i.code, i.message) for i in report.errors]
    from pipeline.read.records import load_records

    ids = set(load_records(mini).records)
    assert {"jane-doe-minister-of-health", "example-dialogue-2024", "example-mou-2024",
            "example-programme"} <= ids
