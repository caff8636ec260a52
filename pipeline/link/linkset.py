"""The link set: every reviewed link decision as SSSOM TSV (`links.sssom.tsv`).

In:  the project root (`data/links.yaml`, the records, and `data/dataset.yaml` for the
     version and licence; `records`: the project's RecordSet if already read) and the
     output directory.
Out: `linkset_files` -> [out_dir/links.sssom.tsv]: every decision, accepted and rejected,
     about an actor or a place, and a sssom:NoTermFound row for each entity left without an
     accepted Wikidata link, under a YAML metadata header; same input, same bytes.
"""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import yaml

from pipeline.errors import IssueList
from pipeline.read.yamlfile import load_yaml

from .common import AUTO_REVIEWER, SKOS_CURIES, target_kind
from .places import ISO_AGENCY, ISO_PAGE
from .review_file import entry_id
from .triples import _accepted

SSSOM_FILE = "links.sssom.tsv"
LINKSET_ID = "https://w3id.org/healthcoop/linkset"


SSSOM_COLUMNS = (
    "subject_id", "subject_label", "predicate_id", "predicate_modifier", "object_id",
    "object_label", "mapping_justification", "confidence", "mapping_tool", "reviewer_label",
    "mapping_date", "object_source", "object_source_version", "see_also", "comment",
)


def _tsv_cell(value: str) -> str:
    """A TSV cell: backslash, tab and line breaks escaped so a row stays one line."""
    text = str(value)
    text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\r", "\\r")
    text = text.replace("\n", "\\n")
    return "".join(ch if unicodedata.category(ch) not in ("Cc", "Zl", "Zp")
                   else ch.encode("unicode_escape").decode("ascii") for ch in text)


def linkset_files(root: Path, out_dir: Path, records=None) -> list[Path]:
    """Write the link set (every decision, accepted and rejected, about an actor or a place,
    and the entities left without a Wikidata link) as SSSOM TSV with its YAML metadata
    header; same input, same bytes. `records`: the project's RecordSet if already read."""
    entries, entities = _accepted(root, records)
    meta = _dataset_meta(root)
    rows = []
    has_qid = set()
    for entry in entries:
        subject_id = entry_id(entry)
        label = entry.get("label") if isinstance(entry.get("label"), str) else ""
        cands = entry.get("candidates") if isinstance(entry.get("candidates"), list) else []
        for cand in cands:
            if not isinstance(cand, dict) or cand.get("decision") not in ("accepted", "rejected"):
                continue
            target = cand["target"]
            kind = target_kind(target)
            match_type = cand.get("match_type") or "exact"
            if kind == "ror":
                obj, source = "ror:" + target.rsplit("/", 1)[1], "https://ror.org/"
                predicate = SKOS_CURIES[match_type]
            elif kind == "iso":
                obj, source = "iso3166:" + target.split(":", 1)[1], ISO_AGENCY
                predicate = "skos:exactMatch"
            else:
                obj = "wikidata:" + target
                predicate = "owl:sameAs" if match_type == "exact" else SKOS_CURIES[match_type]
                source = "http://www.wikidata.org/entity/"
                if cand["decision"] == "accepted":
                    has_qid.add(subject_id)
            method = cand.get("method") or "manual"
            if cand.get("reviewer") == AUTO_REVIEWER:
                justification = "semapv:MappingChaining" if method == "ror-listed-wikidata" \
                    else "semapv:LexicalMatching"
            else:
                justification = "semapv:ManualMappingCuration"
            version = f"revision {cand['checked_revision']}" if cand.get("checked_revision") \
                else (cand.get("reference_release") or "")
            comment = "; ".join(x for x in (
                f"match reason: {cand['match_reason']}" if cand.get("match_reason") else "",
                ("published as hc:rorId" if match_type == "exact" else
                 f"published as {SKOS_CURIES[match_type]}") if kind == "ror" else "",
                "published as schema:identifier (ISO 3166-1 alpha-2)" if kind == "iso" else "",
                cand.get("note") or "",
                f"checked {cand['retrieved_on']}" if cand.get("retrieved_on") else "",
            ) if x)
            rows.append({
                "subject_id": f"hcid:{subject_id}",
                "subject_label": label,
                "predicate_id": predicate,
                "predicate_modifier": "Not" if cand["decision"] == "rejected" else "",
                "object_id": obj,
                "object_label": cand.get("label") or "",
                "mapping_justification": justification,
                "confidence": cand.get("score") or "",
                "mapping_tool": f"healthcoop link ({method})",
                "reviewer_label": cand.get("reviewer") or "",
                "mapping_date": cand.get("decision_date") or "",
                "object_source": source,
                "object_source_version": version,
                "see_also": cand.get("reference") or "",
                "comment": comment,
            })
    by_id = {entry_id(e): e for e in entries}
    for entity in entities.all:
        if entity.id in has_qid:
            continue
        entry = by_id.get(entity.id, {})
        status = entry.get("status") if isinstance(entry.get("status"), str) else ""
        note = entry.get("status_note") if isinstance(entry.get("status_note"), str) else ""
        rows.append({
            "subject_id": f"hcid:{entity.id}",
            "subject_label": entity.label,
            "predicate_id": "owl:sameAs",
            "predicate_modifier": "",
            "object_id": "sssom:NoTermFound",
            "object_label": "",
            "mapping_justification": "semapv:UnspecifiedMatching",
            "confidence": "",
            "mapping_tool": "healthcoop link",
            "reviewer_label": "",
            "mapping_date": "",
            "object_source": "http://www.wikidata.org/entity/",
            "object_source_version": "",
            "see_also": "",
            "comment": f"no accepted Wikidata link: {status or 'not-looked-up'}"
                       + (f"; {note}" if note else ""),
        })
    rows.sort(key=lambda r: (r["subject_id"], r["object_source"], r["object_id"],
                             r["predicate_modifier"]))
    version = meta.get("version", "")
    licence = meta.get("licence")
    header = {
        "curie_map": {
            "hcid": "https://w3id.org/healthcoop/id/",
            "wikidata": "http://www.wikidata.org/entity/",
            "ror": "https://ror.org/",
            "iso3166": ISO_PAGE,
            "owl": "http://www.w3.org/2002/07/owl#",
            "skos": "http://www.w3.org/2004/02/skos/core#",
            "semapv": "https://w3id.org/semapv/vocab/",
            "sssom": "https://w3id.org/sssom/",
        },
        "mapping_set_id": LINKSET_ID,
        "mapping_set_version": version if isinstance(version, str) else "",
        "mapping_set_title": "healthcoop link set: actors and places to Wikidata, ROR and "
                             "ISO 3166",
        "mapping_set_description": (
            "Every reviewed decision about linking a healthcoop person, organisation or "
            "place to a Wikidata item, a ROR record or an ISO 3166-1 code: accepted "
            "(published as owl:sameAs, a SKOS match, hc:rorId or schema:identifier) and "
            "rejected (predicate_modifier Not), with score, method, reviewer, date and "
            "reference; entities without an accepted Wikidata link appear with "
            "sssom:NoTermFound."),
        "license": licence if isinstance(licence, str) and licence
        else "https://creativecommons.org/licenses/by/4.0/",
        "subject_source": "https://w3id.org/healthcoop/id/",
    }
    text = io.StringIO()
    meta_yaml = yaml.dump(header, Dumper=_SssomDumper, sort_keys=False, allow_unicode=True,
                          width=4096, default_flow_style=False)
    for line in meta_yaml.splitlines():
        text.write(f"#{line}\n")
    text.write("\t".join(SSSOM_COLUMNS) + "\n")
    for row in rows:
        text.write("\t".join(_tsv_cell(row[c]) for c in SSSOM_COLUMNS) + "\n")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / SSSOM_FILE
    path.write_bytes(text.getvalue().encode("utf-8"))
    return [path]


class _SssomDumper(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def _dataset_meta(root: Path) -> dict:
    path = root / "data/dataset.yaml"
    if not path.exists():
        return {}
    try:
        doc = load_yaml(path, root, IssueList())
    except RecursionError:
        return {}
    return doc.data if doc and isinstance(doc.data, dict) else {}
