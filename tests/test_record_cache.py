"""The parsed-records cache (pipeline/read/record_cache.py): an unchanged record file is
not parsed again, what comes from the cache equals what parsing gives, and an entry that is
damaged, stale or from another version of the code is never trusted."""

from __future__ import annotations

import shutil

import pytest

from pipeline.build import RECORD_CACHE_DIR, build_release
from pipeline.errors import InvalidData, IssueList
from pipeline.read import record_cache, records
from pipeline.read.records import load_records


def _parses(monkeypatch) -> list[str]:
    """The files `load_yaml` parses from now on (in this process: jobs=1)."""
    seen: list[str] = []
    real = records.load_yaml

    def counting(path, root, issues, **kw):
        seen.append(path.name)
        return real(path, root, issues, **kw)

    monkeypatch.setattr(records, "load_yaml", counting)
    return seen


def _loaded(root, cache):
    issues = IssueList()
    found = load_records(root, issues, jobs=1, cache=cache)
    return found, issues.items


def _summary(found, items):
    return ({rid: (r.model_dump(), found.where[rid].file, found.where[rid].line)
             for rid, r in found.records.items()}, found.digests,
            [(i.file, i.line, i.field, i.message) for i in items])


def test_unchanged_files_come_from_the_cache_and_equal_parsing(mini, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    plain = _summary(*_loaded(mini, None))
    parsed = _parses(monkeypatch)
    first = _summary(*_loaded(mini, cache))
    files = sorted(p.name for p in (mini / "data/records").glob("*.yaml"))
    assert sorted(parsed) == files and first == plain
    parsed.clear()
    again = _summary(*_loaded(mini, cache))
    assert parsed == [] and again == plain  # nothing parsed, the same records and issues
    changed = mini / "data/records" / files[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n# a comment\n",
                       encoding="utf-8")
    _loaded(mini, cache)
    assert parsed == [files[0]]  # only the changed file
    assert len(list(cache.glob("*.pickle"))) == len(files)  # the old entry pruned


def test_only_files_to_parse_go_to_worker_processes(mini, tmp_path, monkeypatch):
    """With entries in the cache, unchanged files are loaded in this process (pickling their
    records back from workers cost more than unpickling them once); only the changed file
    is handed to the worker processes (fork_imap); and what comes back equals a load without
    any cache."""
    from pipeline import parallel

    cache = tmp_path / "cache"
    plain = _summary(*_loaded(mini, None))
    handed: list[list[str]] = []
    real = parallel.fork_imap

    def watching(func, state, items, jobs=None):
        handed.append(sorted(p.name for p in items))
        return real(func, state, items, jobs)

    monkeypatch.setattr(parallel, "fork_imap", watching)
    files = sorted(p.name for p in (mini / "data/records").glob("*.yaml"))
    first = _summary(*_loaded(mini, cache))
    assert handed == [files] and first == plain  # empty cache: every file to the workers
    changed = mini / "data/records" / files[-1]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n# a comment\n",
                       encoding="utf-8")
    handed.clear()
    again = _summary(*_loaded(mini, cache))
    assert handed == [[files[-1]]]
    assert again[0] == plain[0] and again[2] == plain[2]


def test_a_damaged_or_foreign_entry_is_parsed_again(mini, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    plain = _summary(*_loaded(mini, None))
    _loaded(mini, cache)
    entries = sorted(cache.glob("*.pickle"))
    assert len(entries) >= 3
    blob = entries[0].read_bytes()
    entries[0].write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))  # one bit flipped
    entries[1].write_bytes(blob[:10])  # truncated
    import hashlib
    payload = b"\x80\x05garbage"  # intact digest, not a pickle
    entries[2].write_bytes(hashlib.sha256(payload).digest() + payload)
    parsed = _parses(monkeypatch)
    assert _summary(*_loaded(mini, cache)) == plain
    assert len(parsed) == 3
    parsed.clear()
    monkeypatch.setattr(record_cache, "code_digest", lambda: "another version of the code")
    assert _summary(*_loaded(mini, cache)) == plain
    assert len(parsed) == len(entries)  # another code version: nothing reused


def test_a_finding_in_a_cached_file_names_the_line_of_its_field(mini, tmp_path):
    """Positions of cached files are read from the file when a finding needs one, also
    after the project was moved."""
    path = mini / "data/records/fixture-dialogue-2024.yaml"
    lines = path.read_text(encoding="utf-8").split("\n")
    at = lines.index("    person: alice-grant")
    lines[at] = "    person: nobody-we-know"
    path.write_text("\n".join(lines), encoding="utf-8")
    build = tmp_path / "first"
    with pytest.raises(InvalidData):
        build_release(mini, build, register=False, site=False)
    assert any((mini / RECORD_CACHE_DIR).glob("*.pickle"))
    moved = tmp_path / "moved"
    shutil.copytree(mini, moved)  # with its .cache
    shutil.rmtree(mini)
    with pytest.raises(InvalidData) as err:
        build_release(moved, tmp_path / "out", register=False, site=False)
    found = [i for i in err.value.issues if "nobody-we-know" in i.message]
    assert found and found[0].line == at + 1, [(i.line, i.message) for i in found]
    assert found[0].file == path.relative_to(mini).as_posix()
