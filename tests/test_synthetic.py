"""`healthcoop bench generate` (pipeline/curate/synthetic.py): a synthetic project that builds.

Each test generates a small corpus into a temporary directory: the same N and seed give the
same bytes (whatever the hash seed), another seed another corpus; the corpus validates and
builds with no error and about 45 triples a record; every quote occurs in its text with the
right occurrence; actors are cited with a skew; the output guard refuses a foreign directory
and leaves it as it was; the command works from the command line.
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from mini_project import snapshot

from pipeline.curate.synthetic import MARKER, UNLINKED, generate_project
from pipeline.errors import EnvironmentProblem, IssueList
from pipeline.read.record_types import Agreement, Event, Organisation, Person
from pipeline.read.records import load_records
from pipeline.read.sources import load_sources

ROOT = Path(__file__).resolve().parent.parent


def test_same_seed_gives_identical_bytes(tmp_path):
    """Two runs with the same N and seed, one in this process and one through the CLI in a
    fresh process with another hash seed, write byte-identical trees."""
    generate_project(tmp_path / "a", 600, 11, ROOT)
    env = dict(os.environ, PYTHONHASHSEED="4242")
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "bench", "generate",
                           "--records", "600", "--seed", "11", "--out", str(tmp_path / "b"),
                           "--root", str(ROOT)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    first, second = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
    assert len(first) > 20 and MARKER in first


def test_another_seed_gives_another_corpus(tmp_path):
    """Seed 12 gives other records and texts than seed 11 (the layout may be the same)."""
    one = snapshot(generate_project(tmp_path / "a", 600, 11, ROOT).out_dir)
    two = snapshot(generate_project(tmp_path / "b", 600, 12, ROOT).out_dir)
    for name in ("data/records/records-0001.yaml", "data/sources/src-0001.txt",
                 "data/records/directory-0001.yaml", "data/published-iris.txt"):
        assert one[name] != two[name], name
    assert one["ontology/topics.ttl"] == two["ontology/topics.ttl"]


def test_corpus_validates_and_builds_with_no_error(tmp_path):
    """A 300-record corpus validates with no error and only the advice on the few actors
    left unlinked on purpose, then builds; its records map to about 45 triples each."""
    from pipeline.build import build_release
    from pipeline.check.validate import validate_project

    root = generate_project(tmp_path / "corpus", 300, 1, ROOT).out_dir
    report = validate_project(root)
    assert [f"{i.location()}: {i.message}" for i in report.errors] == []
    assert len(report.warnings) <= 2 * UNLINKED, [i.message for i in report.warnings]
    out = build_release(root, root / "output", site=False)
    per_kind: collections.Counter = collections.Counter()
    for line in (out / "healthcoop.nt").read_text(encoding="utf-8").splitlines():
        if line.startswith("<https://w3id.org/healthcoop/id/"):
            per_kind[line[len("<https://w3id.org/healthcoop/id/"):].split("-", 1)[0]] += 1
    # Counted by hand for seed 1 (190 agreements, 110 events): 8,843 + 4,679 = 13,522 triples
    # have an agreement or event (or one of its fragments) as subject, 45.1 a record; one
    # evidence quote alone maps to about 22 triples (annotation, target, two selectors).
    # Actors, places, roles, sources and the description add 6,884 more lines (20,406 in all).
    per_record = (per_kind["agr"] + per_kind["evt"]) / 300
    assert 40 <= per_record <= 50, per_record
    assert per_kind["org"] and per_kind["person"] and per_kind["role"] and per_kind["venue"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A 2,000-record corpus (seed 3), its sources and records as the pipeline reads them."""
    root = generate_project(tmp_path_factory.mktemp("synthetic") / "corpus", 2000, 3,
                            ROOT).out_dir
    issues = IssueList()
    sources, records = load_sources(root, issues), load_records(root, issues)
    assert issues.items == []  # every SHA-256 matches, every record reads
    return root, sources, records


def test_every_quote_occurs_in_its_text(corpus):
    """Every evidence quote is in its archived text as written, at an occurrence that exists
    and is given whenever the quote occurs more than once; amounts as stated and datelines
    are there too."""
    root, sources, records = corpus
    assert len(sources) == len(list((root / "data" / "sources").iterdir())) > 80
    checked = repeated = 0
    for record in records.records.values():
        for ev in record.evidence:
            source = sources[ev.source]
            assert ev.quote in source.text, (record.id, ev.quote)
            found = source.occurrences(ev.quote)
            assert 1 <= ev.occurrence <= len(found), (record.id, ev.quote)
            if len(found) > 1:
                repeated += 1
                assert "occurrence" in ev.model_fields_set, (record.id, ev.quote)
            checked += 1
        amount = getattr(record, "amount", None)
        if amount is not None:
            assert any(amount.stated_as in sources[e.source].text for e in record.evidence)
    assert checked > 2500 and repeated > 0  # the occurrence rule was exercised
    for source in sources.values():
        if source.dateline_quote:
            assert source.dateline_quote in source.text


def test_actor_reuse_is_skewed(corpus):
    """The most cited actor is in a tenth or more of the records; the most cited tenth of the
    actors take 40% or more of the citations and the less cited half 20% or less (uniform
    reuse: 10% and 50%)."""
    _root, _sources, records = corpus
    actors = {r.id for r in records.records.values() if isinstance(r, (Person, Organisation))}
    cited: collections.Counter = collections.Counter()
    for record in records.records.values():
        if isinstance(record, (Agreement, Event)):
            cited.update({t for f, _i, t in record.references()
                          if t in actors and not f.startswith("evidence")})
    counts = sorted((cited[a] for a in actors), reverse=True)
    total, n = sum(counts), len(counts)
    # seed 3 (100 actors): the top actor is in 471 records; the top tenth take 51.6% of the
    # citations, the lower half 11.7%
    assert n == 100 and counts[0] >= 200
    assert sum(counts[: n // 10]) >= 0.4 * total and sum(counts[n // 2:]) <= 0.2 * total


def test_guard_refuses_a_foreign_directory_and_leaves_it_untouched(tmp_path):
    """A non-empty directory without the marker, a file, a symbolic link, the repository and
    its own folders are refused (EnvironmentProblem, exit 2) and nothing in them changes; an
    earlier corpus is replaced as a whole, with no staging directory left beside it. (The
    repository here is a copy, so that a broken guard could not harm the real one.)"""
    repo = tmp_path / "repo"
    for part in ("ontology", "shapes", "queries"):
        shutil.copytree(ROOT / part, repo / part)
    (repo / "data").mkdir()
    shutil.copy(ROOT / "data" / "dataset.yaml", repo / "data" / "dataset.yaml")
    foreign = tmp_path / "notes"
    (foreign / "sub").mkdir(parents=True)
    (foreign / "todo.txt").write_text("mine\n", encoding="utf-8")
    (foreign / "sub" / "data.yaml").write_text("a: 1\n", encoding="utf-8")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    (tmp_path / "link").symlink_to(foreign)
    before = snapshot(tmp_path)
    messages = []
    for target in (foreign, tmp_path / "file", tmp_path / "link", repo / "ontology" / "x",
                   repo, tmp_path):
        with pytest.raises(EnvironmentProblem) as err:
            generate_project(target, 20, 1, repo)
        assert "Nothing was changed" in err.value.message
        messages.append(err.value.message)
    assert "not a synthetic corpus (it holds sub, todo.txt;" in messages[0]
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "link", "notes", "repo"]

    corpus = generate_project(tmp_path / "corpus", 30, 1, repo).out_dir
    (corpus / "output").mkdir()
    (corpus / "output" / "old.nt").write_text("old\n", encoding="utf-8")
    generate_project(corpus, 40, 2, repo)
    assert not (corpus / "output").exists() and (corpus / MARKER).is_file()
    assert "--records 40 --seed 2" in (corpus / MARKER).read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "file", "link", "notes",
                                                           "repo"]


def test_cli_generates_and_refuses_without_traceback(tmp_path):
    """`healthcoop bench generate` prints one summary line and exits 0; into a foreign
    directory it exits 2 with an error message and no traceback."""
    from pipeline.cli import main

    out = tmp_path / "corpus"
    result = CliRunner().invoke(main, ["bench", "generate", "--records", "40", "--seed", "2",
                                       "--out", str(out), "--root", str(ROOT)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("generated 40 records (") and result.output.count("\n") == 1
    assert (out / "data" / "sources.yaml").is_file() and (out / MARKER).is_file()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "a.txt").write_text("keep", encoding="utf-8")
    result = CliRunner().invoke(main, ["bench", "generate", "--records", "40", "--out",
                                       str(tmp_path / "mine"), "--root", str(ROOT)])
    assert result.exit_code == 2
    assert "error: --out" in result.output and "Traceback" not in result.output
    assert (tmp_path / "mine" / "a.txt").read_text(encoding="utf-8") == "keep"
    result = CliRunner().invoke(main, ["bench", "generate", "--records", "0", "--out",
                                       str(tmp_path / "x")])
    assert result.exit_code == 2 and not (tmp_path / "x").exists()


def test_readme_documents_the_command():
    """The CLI table of README.md has a row for `healthcoop bench generate`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## The CLI", 1)[1].split("\n\n", 2)[1]
    assert any(line.startswith("| `healthcoop bench generate") for line in table.splitlines())
