"""Stage `read`: the project's files -> typed sources, records and topics, checked.

In:  the project root (data/sources.yaml and data/sources/, data/records/*.yaml,
     ontology/topics.ttl, data/dataset.yaml).
Out: a `LoadedProject` (sources, records with the position of every field, topic ids) and
     every issue found on the way: YAML and schema problems, and the checks that need all
     records at once (references, duplicates, `part_of` cycles, quotes against sources).

Entry function: `load_project(root)`. Each record file is read once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import RDF, SKOS

from pipeline.check.checks import check_records, check_sources
from pipeline.check.relations import check_relations
from pipeline.errors import IssueList
from pipeline.rdf.vocab import HCTOPIC
from pipeline.read.dataset_meta import check_dataset_metadata
from pipeline.read.records import RecordSet, load_records
from pipeline.read.sources import SourceText, load_sources

TOPICS_FILE = Path("ontology/topics.ttl")


@dataclass
class LoadedProject:
    """Everything read from the project before mapping, with the issues found."""

    root: Path
    sources: dict[str, SourceText]
    records: RecordSet
    topics: set[str]
    issues: IssueList = field(default_factory=IssueList)


def load_topics(root: Path, issues: IssueList) -> set[str]:
    """Topic ids of the SKOS concept scheme in ontology/topics.ttl."""
    path = root / TOPICS_FILE
    if not path.is_file():
        issues.add(TOPICS_FILE.as_posix(), 0, "(file)", "The topic scheme is missing.",
                   "Restore ontology/topics.ttl from version control.")
        return set()
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as err:  # rdflib raises many kinds of parse errors
        issues.add(TOPICS_FILE.as_posix(), 0, "(file)", f"Cannot parse the topic scheme: {err}",
                   "Fix the Turtle syntax of ontology/topics.ttl.")
        return set()
    prefix = str(HCTOPIC)
    return {
        str(c)[len(prefix):] for c in graph.subjects(RDF.type, SKOS.Concept)
        if str(c).startswith(prefix)
    }


def load_project(root: Path, record_cache: Path | None = None) -> LoadedProject:
    """Read and check sources, records and topics; nothing is written but, with
    `record_cache`, the parsed record files (read/record_cache.py) and, in the folder
    `checks` beside it, the findings of the record checks (check/check_cache.py)."""
    issues = IssueList()
    sources = load_sources(root, issues)
    records = load_records(root, issues, cache=record_cache)
    before = len(issues.items)
    topics = load_topics(root, issues)
    # an unreadable scheme is reported once, not as one "unknown topic" per reference
    check_records(records, sources, topics if len(issues.items) == before else None, issues,
                  cache=record_cache.parent / "checks" if record_cache is not None else None)
    check_sources(root, sources, records, issues)
    check_relations(records, issues)
    check_dataset_metadata(root, issues)
    return LoadedProject(root, sources, records, topics, issues)
