"""Stage `link`: our persons, organisations and places -> reviewed links to Wikidata, ROR
and ISO 3166.

Entry function: `run_link(root, LinkOptions) -> LinkSummary` (`healthcoop link`).
In:  the actor and place records, the review file `data/links.yaml`, the ROR copy
     `data/reference/ror/`, pycountry's ISO 3166-1 list, and the Wikidata action API
     (cached; `--offline` = cache only).
Out: `data/links.yaml` rewritten with proposals (human decisions kept; an unchanged file is not
     touched), and, for the build: `link_triples` (accepted links, each with its reference),
     `enrichment_triples` (Wikidata labels for a separate named graph, ENRICHMENT_GRAPH),
     `linkset_files` (the SSSOM link set), `check_review_file` (located issues),
     `accepted_links` (the file read and checked once per RecordSet) and
     `load_entities` (what the review file may name).

Facts come from sources, not memory: a QID or ROR id enters the review file only from an API
response (reference: the Wikidata item page and its revision id), from a ROR record that
lists it (reference: https://ror.org/<id> and the ROR release), or by hand with the public
page or data file where a person saw it. Nothing is accepted from Wikidata automatically;
the only automatic acceptance is a ROR record whose name matches ours exactly (after
case/punctuation normalisation), in the same country, of a compatible type, active, and the
only such record (reviewer `ror-exact-match`, reason recorded). Text from Wikidata with
control characters is refused, as in records. docs/linking.md explains the review workflow.

The parts, each importing only the ones below it:
  run          `run_link`: candidates from every source merged into the review file
  linkset      the SSSOM link set, `links.sssom.tsv`
  triples      what the build publishes: `link_triples`, `enrichment_triples`
  candidates   Wikidata candidates: search, fetch, score, explain
  ror_subset   the repository's ROR copy, re-selected with --ror-source
  ror          ROR candidates from that copy
  places       ISO 3166-1 codes for places
  review_file  reading, writing and checking `data/links.yaml`
  client       the Wikidata API client; `cache`: its answers on disk
  common       the entities linked, names and their comparison
HTTP with a total deadline is `pipeline.http` (shared with `healthcoop load`).
"""

from .common import load_entities
from .linkset import linkset_files
from .review_file import check_review_file
from .run import LinkOptions, run_link
from .triples import ENRICHMENT_GRAPH, accepted_links, enrichment_triples, link_triples

__all__ = [
    "ENRICHMENT_GRAPH",
    "LinkOptions",
    "accepted_links",
    "check_review_file",
    "enrichment_triples",
    "link_triples",
    "linkset_files",
    "load_entities",
    "run_link",
]
