"""The repository's copy of ROR: re-selecting it from a full ROR file, and dating it.

In:  `healthcoop link --ror-source FILE`: the full ROR file's records, the ROR index of
     pipeline.link.ror, our organisations and the review file's entries.
Out: `data/reference/ror/ror-subset.jsonl` (every record that reaches SELECT_AT for one of our
     organisations, and every record the review file names, copied byte for byte), its
     README and `selection.json` (where the copy comes from, when, and how it was selected);
     `read_selection` reads that file back to date the ROR candidates.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from .common import PROPOSE_AT, ROR_PATTERN, ROR_README, ROR_SELECTION, ROR_SUBSET, Actor
from .ror import ROR_FUZZY_CUTOFF, RorIndex, RorRecord

SELECT_AT = 0.5           # --ror-source keeps every record reaching this for some actor
ROR_DUMP_DOI = "https://doi.org/10.5281/zenodo.6347574"
ROR_DUMP_DOCS = "https://ror.readme.io/docs/data-dump"


def read_selection(root: Path) -> dict:
    """selection.json of the repository's ROR copy ({} when there is none or it is unreadable:
    it only dates the candidates)."""
    path = root / ROR_SELECTION
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def select_records(index: RorIndex, actors: list[Actor], entries: list[dict]) -> list[str]:
    """The ROR ids to keep: every record that reaches SELECT_AT for one of our organisations
    (so the copy proposes what the full file would), and every record the review file names."""
    keep = set()
    for actor in actors:
        keep.update(m.record.id for m in index.match(actor, threshold=SELECT_AT))
    for entry in entries:
        cands = entry.get("candidates") if isinstance(entry, dict) else None
        for cand in cands if isinstance(cands, list) else []:
            if isinstance(cand, dict):
                for key in ("target", "reference"):
                    value = cand.get(key)
                    if isinstance(value, str) and ROR_PATTERN.match(value):
                        keep.add(value)
    return sorted(keep)


def write_subset(root: Path, source: Path, records: dict[str, RorRecord], keep: list[str],
                 previous: dict[str, RorRecord], today: str, writer) -> str:
    """Write the subset (records of `keep`, from the source or, when the source lacks one the
    review file names, from the previous copy), its README and selection.json."""
    lines, missing = [], []
    for rid in keep:
        record = records.get(rid) or previous.get(rid)
        if record is None:
            missing.append(rid)
            continue
        lines.append(record.line)
    digest = hashlib.sha256()
    with source.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    used = [records.get(r) or previous[r] for r in keep if r not in missing]
    releases = sorted({r.release for r in used if r.release}, key=_release_key)
    with_qid = sum(1 for r in records.values() if r.wikidata)
    selection = {
        "source": source.name,
        "source_sha256": digest.hexdigest(),
        "source_records": len(records),
        "source_records_naming_wikidata": with_qid,
        "records": len(lines),
        "releases": releases,
        "retrieved_on": today,
        "dump_doi": ROR_DUMP_DOI,
        "rule": {"select_at": SELECT_AT, "propose_at": PROPOSE_AT,
                 "spelling_cutoff": ROR_FUZZY_CUTOFF},
        "not_in_source": missing,
    }
    writer(root / ROR_SUBSET, "".join(line + "\n" for line in lines))
    writer(root / ROR_SELECTION, json.dumps(selection, indent=2, ensure_ascii=False) + "\n")
    writer(root / ROR_README, _readme(selection))
    return ROR_SUBSET.as_posix()


def _readme(s: dict) -> str:
    missing = (f"\n{len(s['not_in_source'])} record(s) the review file names were not in the "
               "source and were kept from the previous copy: "
               + ", ".join(s["not_in_source"]) + ".\n") if s["not_in_source"] else ""
    return f"""# ROR records used by the linker

`ror-subset.jsonl` holds {s['records']} organisation record(s) of the Research Organization
Registry (ROR, https://ror.org), one JSON object a line, copied byte for byte and sorted by
ROR id. ROR publishes its registry data under CC0 1.0
(https://creativecommons.org/publicdomain/zero/1.0/); the complete registry, every release,
is ROR's data dump, {s['dump_doi']} ({ROR_DUMP_DOCS}).

Where it comes from: an offline ROR file, `{s['source']}` ({s['source_records']} records,
{s['source_records_naming_wikidata']} of them naming a Wikidata item; sha256
`{s['source_sha256']}`), read on {s['retrieved_on']}. That file was taken from the public
repository ror-community/ror-records (https://github.com/ror-community/ror-records), which
keeps, per ROR data release, the records created or changed in that release; for each ROR id
the newest release's record was kept. Each line keeps its `ror_release` (the release it comes
from) and `record_path` (where it sits in that repository): with the release, the reference
for an identifier taken from it. Releases used here: {', '.join(s['releases']) or 'none'}.
{missing}
How it was selected ({s['retrieved_on']}, `healthcoop link --ror-source FILE`): every record
that the linker's matcher scores {s['rule']['select_at']} or more for one of our
organisations (candidates are proposed from {s['rule']['propose_at']}), and every record
`data/links.yaml` names. Names are compared exactly (after normalising case, accents and
punctuation), by spelling (rapidfuzz `ratio` >= {s['rule']['spelling_cutoff']} once spaces,
legal forms and UK/US spelling are set aside), by words (one name's words all inside the
other's, sharing a distinctive word; place names and generic words such as "university" or
"department" count for little) and by acronym; country and type are scored
(docs/linking.md). A score depends only on the two records compared, so this copy proposes
exactly what the whole source file would. Records matched for no organisation are not copied.
`selection.json` says the same for programs. To re-select after adding organisations, run
`healthcoop link --ror-source <full ROR jsonl>`.

Use: a ROR id, or a Wikidata QID its record lists, is published with `https://ror.org/<id>`
and the record's release as the reference. The build and the tests read only this copy.
"""


def _release_key(release: str) -> tuple:
    return tuple(int(x) for x in re.findall(r"\d{1,9}", release))
