"""The archive and its registry: sources are kept byte for byte, quotes are located by
character offsets, and broken encoding is repaired only in what we publish."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import IssueList
from pipeline.read.sources import SourceText, load_sources, repair_text


def _source(text: str) -> SourceText:
    return SourceText(id="s", file="s.txt", sha256="", title="t", language="en", text=text)


def test_registry_matches_archive(project_root):
    """Every archived text is registered with the SHA-256 of its bytes, and no text in
    data/sources/ is left unregistered."""
    issues = IssueList()
    sources = load_sources(project_root, issues)
    assert not issues.errors, issues.errors
    # sources are added over time: the five founding sources are among them
    assert {"hancock-china-visit-digital-health", "uk-china-healthcare-deals-2018",
            "cbbc-healthcare-delegation-2015", "hk-dh-beijing-meetings-2024",
            "china-uk-video-meeting-2020"} <= set(sources)
    archived = {p.name for p in (project_root / "data/sources").glob("*.txt")}
    assert {s.file for s in sources.values()} == archived
    for source in sources.values():
        raw = (project_root / "data/sources" / source.file).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == source.sha256


def test_quote_found_across_line_breaks_with_exact_offsets():
    """Whitespace differences are ignored, and offsets index the original text."""
    text = "Title\n\nFebruary 14\n09:56 2018\n\nIt has been"
    loc = _source(text).locate_quote("February 14 09:56 2018")
    assert loc is not None
    assert text[loc.start:loc.end] == "February 14\n09:56 2018"
    assert loc.exact == "February 14\n09:56 2018"
    assert loc.prefix.endswith("Title\n\n")


def test_nth_occurrence_and_missing_quote():
    """A repeated quote is addressed by occurrence; a quote that is not there gives None."""
    text = "the FDA and the MHRA agreed. Later the FDA and the MHRA met."
    src = _source(text)
    first, second = src.locate_quote("the FDA and the MHRA"), src.locate_quote(
        "the FDA and the MHRA", 2)
    assert first.start == 0 and second.start == text.index("the FDA", 5)
    assert src.locate_quote("the FDA and the MHRA", 3) is None
    assert src.locate_quote("the WHO") is None


def test_closest_passage_points_at_what_the_source_says():
    """A misquote is answered with the passage it most resembles."""
    src = _source("Medopad and Peking University Smart Health Lab signed an agreement.")
    passage, score = src.closest_passage("Medopad and Peking Univ. Smart Health Lab signed")
    assert "Peking University Smart Health Lab" in passage
    assert score > 80


def test_mojibake_is_repaired_for_publication(project_root):
    """Source 003 starts with a zero-width space mis-decoded as cp1252 ("â€‹"): ftfy repairs
    the encoding (the zero-width space it stood for comes back) and changes nothing else:
    no HTML unescaping, no width folding, no ligature splitting (issue 10)."""
    text = (project_root / "data/sources/003_e6a44c0e7e435b66.txt").read_text(encoding="utf-8")
    assert "â€‹" in text  # the archive keeps the broken bytes
    line = text.splitlines()[2].strip()
    assert repair_text(line).startswith("\u200bUpon invitation of the Beijing Municipal")
    for kept in ("China’s Health Minister", "Smith &amp; Nephew", "ＡＢＣ医疗（深圳）有限公司",
                 "ﬁnance", "x\u200by", "Ｔｅｎｃｅｎｔ"):
        assert repair_text(kept) == kept


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=60) | st.text(st.characters(max_codepoint=127), max_size=60))
def test_repair_is_ftfys_encoding_fix_for_any_text(text):
    """ASCII text skips ftfy (its first rule returns it unchanged): the result is still
    ftfy's for ASCII and for everything else."""
    import ftfy

    assert repair_text(text) == ftfy.fix_encoding(text)


def test_changed_source_bytes_are_reported(project_copy):
    """An archived text edited after curation is caught by its checksum."""
    path = project_copy / "data/sources/000_e98664ba0d4f74a4.txt"
    path.write_bytes(path.read_bytes().replace(b"Beijing", b"Peking", 1))
    issues = IssueList()
    load_sources(project_copy, issues)
    [issue] = issues.errors
    assert issue.file == "data/sources.yaml" and issue.field == "sources[0].sha256"
    assert "has changed" in issue.message


def _reference_origin(text: str) -> list[int]:
    """Per character of the normalised text, the offset it came from, one character at a
    time: a word's characters map to themselves, the space between two words to the last
    white-space character before the second."""
    out, in_word, started = [], False, False
    for i, ch in enumerate(text):
        if ch.isspace():  # what the regex \S refuses
            in_word = False
            continue
        if not in_word and started:
            out.append(i - 1)
        out.append(i)
        in_word = started = True
    return out


_texts = st.text(alphabet=st.sampled_from(list("ab 中\t\n\r\x1c\u3000\xa0\u2028.")),
                 max_size=60)


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_every_normalised_character_maps_back_to_where_it_came_from(text):
    """The compact word table gives, for every character of the normalised text, the same
    offset as a per-character table would."""
    source = _source(text)
    normal = source._normal_text
    expected = _reference_origin(text)
    assert len(expected) == len(normal)
    assert [source._origin(i) for i in range(len(normal))] == expected
    for i, at in enumerate(expected):
        assert normal[i] == (" " if text[at].isspace() else text[at])


@settings(max_examples=300, deadline=None)
@given(_texts, st.data())
def test_any_quote_of_the_text_is_located_at_its_original_characters(text, data):
    source = _source(text)
    normal = source._normal_text
    if not normal.strip():
        return
    start = data.draw(st.integers(0, len(normal) - 1))
    end = data.draw(st.integers(start + 1, len(normal)))
    quote = normal[start:end]
    if not quote.strip():
        return
    loc = source.locate_quote(quote)
    assert loc is not None
    assert " ".join(text[loc.start:loc.end].split()) == " ".join(quote.split())
    assert text[loc.start:loc.end] == loc.exact
