"""`healthcoop bench generate`: a synthetic healthcoop project for benchmarking the build.

In:  a record count N, a seed, and the repository whose ontology/, shapes/, queries/ and
     data/dataset.yaml are copied (`template_root`).
Out: a project root at `out_dir` that `healthcoop build --root OUT --output OUT/output`
     builds without errors: N records (each one agreement or one event with its evidence)
     in data/records/records-*.yaml, 25 a source text data/sources/src-*.txt (dateline, some
     with a publisher), 250 a file; the persons and organisations (N/40 each, half Chinese),
     places (18 countries, 59 cities, N/400 venues) and roles (one a person) they cite, in
     data/records/directory-*.yaml, each quoting its own directory text dir-*.txt;
     data/sources.yaml with every SHA-256; data/links.yaml (placeholder Wikidata links,
     accepted, for all but six actors; the countries' real ISO 3166-1 codes); the URI
     register data/published-iris.txt with every entity; data/dataset.yaml (the template's,
     retitled); and the marker file `.healthcoop-synthetic`.

Entry function: `generate_project(out_dir, records, seed, template_root) -> Summary`.

Actors and places are cited with a Zipf-like skew (exponent 1.1): a few in many records, most
in few. Names are built from word lists by mixed radix (permuted by the seed); the lists are
chosen so that no two actors have the same or a nearly same name (the duplicate-actor check
would warn). Every quote is one sentence of its text less the final stop, and its
`occurrence` is counted in the text as the pipeline normalises it. Deterministic: one
`random.Random(seed)` draws the records in file order, per-actor facts are hashes of (seed,
index); nothing comes from the clock or hash order. Streaming: one source (25 records) is in
memory at a time and the register is merged from id streams that are each sorted.

The tree is written beside `out_dir` and swapped in with one rename. Only an absent or empty
directory or an earlier corpus (holding `.healthcoop-synthetic`) is replaced; anything else
is refused with EnvironmentProblem (exit 2) and left untouched.
"""

from __future__ import annotations

import datetime
import hashlib
import heapq
import os
import random
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.curate.synthetic_words import (
    AGREEMENT_TYPES,
    AGREEMENT_VERBS,
    BILATERAL,
    CITIES,
    CITIES_OF,
    COUNTRIES,
    COUNTRY_LABEL,
    CURRENCIES,
    DURATIONS,
    EVENT_TYPES,
    EVENT_VERBS,
    FAMILY,
    FIELDS,
    FIRST,
    FOREIGN,
    FOREIGN_WEIGHTS,
    LAST,
    OBJECTS,
    PREFIXES,
    QUALIFIERS,
    SUFFIXES,
    SYLLABLES,
    TITLES,
    VENUE_KINDS,
    WEEKDAYS,
    Perm,
    TextBuilder,
    Zipf,
    day_text,
    facts_of,
    join_names,
    mix,
    quoted,
    render_record,
    with_article,
)
from pipeline.errors import EnvironmentProblem
from pipeline.rdf.vocab import HCID, HCTOPIC

MARKER = ".healthcoop-synthetic"
MAX_RECORDS = 1_000_000  # keeps the register (50 MB) and links.yaml (20 MB) under their limits
PER_SOURCE, SOURCES_PER_FILE, DIRECTORY_CHUNK = 25, 10, 300
REVIEW_DATE = "2026-01-01"  # decision date of the placeholder links: fixed, never the clock
QID_BASE, UNLINKED = 9_000_000_000, 3  # QIDs far above Wikidata's; actors of each kind unlinked
INPUT_DIRS = ("data", "ontology", "shapes", "queries", ".git")
@dataclass(frozen=True)
class Summary:
    """What `generate_project` wrote: counts by kind, files, bytes, seconds taken."""

    out_dir: Path
    counts: dict
    files: int
    bytes: int
    seconds: float

    def line(self) -> str:
        c = self.counts
        return (f"generated {c['records']:,} records ({c['agreements']:,} agreements, "
                f"{c['events']:,} events) citing {c['actors']:,} actors, {c['places']:,} places"
                f" and {c['roles']:,} roles, from {c['sources']:,} sources, in "
                f"{c['record_files']:,} record files ({self.files:,} files, "
                f"{self.bytes / 1e6:.1f} MB) into {self.out_dir} in {self.seconds:.1f} s")


class _Generator:
    """Writes the corpus into `root`; actors are (id, label, display) tuples."""

    def __init__(self, root: Path, n: int, seed: int, topics: set[str]):
        self.root, self.n, self.seed, self.rng = root, n, seed, random.Random(seed)
        self.topics = sorted(topics)
        self.n_persons = self.n_orgs = max(30, n // 40)
        self.n_venues, self.n_sources = max(6, n // 400), -(-n // PER_SOURCE)
        self.w, self.ws = max(5, len(str(n))), max(4, len(str(self.n_sources)))
        self.wa = max(4, len(str(self.n_orgs)))
        self.perm_org = Perm(len(PREFIXES) * len(FIELDS) * len(SUFFIXES), seed, 1)
        self.perm_cn = Perm(len(FAMILY) * len(SYLLABLES) ** 2, seed, 2)
        self.perm_fo = Perm(len(FIRST) * len(LAST), seed, 3)
        self.perm_venue = Perm(len(PREFIXES) * len(VENUE_KINDS) * len(CITIES), seed, 4)
        # organisations: even indices Chinese, odd foreign; persons: every third foreign
        n_fo = self.n_persons // 3
        self.z_org = {True: Zipf((self.n_orgs + 1) // 2, self.rng, seed, 5),
                      False: Zipf(self.n_orgs // 2, self.rng, seed, 6)}
        self.z_per = {True: Zipf(self.n_persons - n_fo, self.rng, seed, 7),
                      False: Zipf(n_fo, self.rng, seed, 8)}
        self.z_place = Zipf(len(CITIES) + self.n_venues, self.rng, seed, 9)
        self.media = [i for i in range(min(self.n_orgs, 5000))
                      if self._org_parts(i)[2][1] == "media-organisation"][:40]
        self.org, self.person = lru_cache(8192)(self._org), lru_cache(8192)(self._person)
        self.files = self.bytes = self.agreements = self.events = self.directories = 0

    # --- persons, organisations and places: facts are hashes of (seed, index) -------------
    def _h(self, salt: int, i: int) -> int:
        return mix(self.seed * 1_000_003 + salt, i)

    def _org_parts(self, i: int) -> tuple:
        x = self.perm_org(i)
        return (PREFIXES[x % len(PREFIXES)], FIELDS[x // len(PREFIXES) % len(FIELDS)],
                SUFFIXES[x // (len(PREFIXES) * len(FIELDS))])

    def _org(self, i: int) -> tuple:
        """(actor, record, sentence) of organisation i."""
        prefix, field, (suffix, kind) = self._org_parts(i)
        label, h = f"{prefix} {field} {suffix}", self._h(10, i)
        country = "china" if i % 2 == 0 else random.Random(h).choices(FOREIGN, FOREIGN_WEIGHTS)[0]
        city = CITIES_OF[country][h % len(CITIES_OF[country])][1]
        actor = (f"org-{i + 1:0{self.wa}d}", label, label)
        rec, name = {"id": actor[0], "label": label, "type": kind, "country": country}, label
        if h >> 20 & 7 == 0:
            rec["alt_labels"] = "".join(w[0] for w in label.split() if w[0].isupper())
            name += f" ({rec['alt_labels']})"
        if i >= 4 and h >> 24 & 15 < 2:  # part of an earlier organisation of the same parity
            parent = self.org(i - 2 * (1 + (h >> 30) % min(20, i // 2)))[0]
            rec["part_of"], name = parent[0], f"{name}, part of {parent[1]},"
        return actor, rec, f"{name} is based in {city}, {COUNTRY_LABEL[country]}."

    def _person(self, i: int) -> tuple:
        """(actor, record, sentence, role record) of person i."""
        h = self._h(20, i)
        if i % 3 == 2:
            x = self.perm_fo(i // 3)
            label, org = f"{FIRST[x % len(FIRST)]} {LAST[x // len(FIRST)]}", \
                2 * (h % max(1, self.n_orgs // 2)) + 1
        else:
            x, syl = self.perm_cn(i // 3 * 2 + i % 3), len(SYLLABLES)
            g = x // len(FAMILY)
            label = f"{FAMILY[x % len(FAMILY)]} {SYLLABLES[g % syl]}{SYLLABLES[g // syl].lower()}"
            org = 2 * (h % ((self.n_orgs + 1) // 2))
        honorific = ("Dr", "Dr", "Dr", "Professor", None, None, None)[(h >> 20) % 7]
        actor = (f"person-{i + 1:0{self.wa}d}", label, f"{honorific} {label}" if honorific
                 else label)
        org_actor, org_rec, _ = self.org(org)
        title, former = TITLES[(h >> 30) % len(TITLES)], (h >> 40) % 10 == 0
        rec = {"id": actor[0], "label": label, "country": org_rec["country"]}
        rec |= {"honorific": honorific} if honorific else {}
        role = {"id": f"role-{i + 1:0{self.wa}d}", "person": actor[0], "title": title,
                "organisation": org_actor[0]} | ({"status": "former"} if former else {})
        return actor, rec, (f"{actor[2]} of {COUNTRY_LABEL[rec['country']]} is "
                            f"{'a former' if former else 'the'} {title} of {org_actor[1]}."), role

    def place(self, k: int | None = None) -> tuple:
        """(id, label, city, "in <city>" or "at the <venue>", record, sentence) of cited place
        k (the cities, then the venues); a Zipf draw when k is None."""
        k = self.z_place() if k is None else k
        if k < len(CITIES):
            cid, city, country = CITIES[k]
            return (cid, city, city, f"in {city}", {"id": cid, "label": city, "type": "city",
                    "country": country}, f"{city} is a city in {COUNTRY_LABEL[country]}.")
        x = self.perm_venue(k - len(CITIES))
        city_id, city, country = CITIES[x // (len(PREFIXES) * len(VENUE_KINDS))]
        label = f"{city} {PREFIXES[x % len(PREFIXES)]} " \
                f"{VENUE_KINDS[x // len(PREFIXES) % len(VENUE_KINDS)]}"
        vid = f"venue-{k - len(CITIES) + 1:0{self.wa}d}"
        return (vid, label, city, f"at the {label}", {"id": vid, "label": label, "type": "venue",
                "country": country, "part_of": city_id},
                f"The {label} is a venue in {city}, {COUNTRY_LABEL[country]}.")

    def actor(self, chinese: bool) -> tuple:
        r = self.rng.random()
        if r < 0.84:
            return self.org(2 * self.z_org[chinese]() + (not chinese))[0]
        if r < 0.90:
            return self.someone(chinese)
        cid = "china" if chinese else self.rng.choices(FOREIGN, FOREIGN_WEIGHTS)[0]
        return cid, COUNTRY_LABEL[cid], COUNTRY_LABEL[cid]

    def someone(self, chinese: bool) -> tuple:
        k = self.z_per[chinese]()
        return self.person(k // 2 * 3 + k % 2 if chinese else 3 * k + 2)[0]

    def actors(self, chinese: bool, k: int) -> list[tuple]:
        out: list[tuple] = []
        for _ in range(4 * k):
            if len(out) < k and (a := self.actor(chinese)) not in out:
                out.append(a)
        return out

    def write_directories(self) -> None:
        """Every place, organisation, person and role, 300 records a file and text."""
        def pool():
            yield from (("places", {"id": c[0], "label": c[1], "type": "country"}, None)
                        for c in COUNTRIES)
            for k in range(len(CITIES) + self.n_venues):
                yield "places", *self.place(k)[4:]
            for i in range(self.n_orgs):
                yield "organisations", *self.org(i)[1:]
            for i in range(self.n_persons):
                _actor, rec, sentence, role = self.person(i)
                yield "persons", rec, sentence
                yield "roles", role, sentence  # quotes the same sentence
        chunk: list = []
        for item in pool():
            chunk.append(item)
            if len(chunk) >= DIRECTORY_CHUNK and item[0] != "persons":
                self._directory(chunk)
                chunk = []
        if chunk:
            self._directory(chunk)

    def _directory(self, chunk: list) -> None:
        self.directories += 1
        sid = f"dir-{self.directories:04d}"
        text = TextBuilder(sid, f"Synthetic directory {self.directories}: delegates, organisations "
                          "and venues")
        kinds: dict[str, list] = {}
        for kind, rec, sentence in chunk:
            rec = dict(rec)  # the cached one stays as it was
            if sentence:
                named = ["label"] if kind in ("persons", "organisations") else []
                rec["evidence"] = [text.quote(sentence, named + facts_of(rec), "\n")]
            kinds.setdefault(kind, []).append(rec)
        self._source(text)
        rows = [f"# Synthetic records (healthcoop bench generate, seed {self.seed}): places, "
                f"organisations, persons and\n# roles, quoted from {sid}.", ""]
        for kind in ("places", "organisations", "persons", "roles"):
            rows += [f"{kind}:"] if kind in kinds else []
            for rec in kinds.get(kind, []):
                render_record(rows, rec, sid)
        self._write(f"data/records/directory-{self.directories:04d}.yaml", "\n".join(rows))

    # --- the N records: agreements and events --------------------------------------------
    def kind(self, j: int) -> str:
        return "agr" if mix(self.seed, j) % 100 < 60 else "evt"

    def when(self, dl: datetime.date, span: bool) -> tuple[str, dict]:
        """(phrase opening the sentence, date fields) for a record reported on dateline dl."""
        r, rng = self.rng.random(), self.rng
        d = dl - datetime.timedelta(days=rng.randrange(2, 60))
        if r < 0.45:
            return f"On {day_text(d)}, ", {"date": {"value": d.isoformat()}}
        if r < 0.55:
            month = day_text(d)[len(str(d.day)) + 1:]
            return f"In {month}, ", {"date": {"value": d.isoformat()[:7]}}
        if r < 0.70:
            return f"In {dl.year}, ", {"date": {"value": str(dl.year)}}
        if r < 0.80:  # resolved against the dateline, and the record says how
            wd = rng.randrange(7)
            said, back = (f"on {WEEKDAYS[wd]}", (dl.weekday() - wd) % 7 or 7) if r < 0.75 \
                else ("yesterday", 1)
            d = dl - datetime.timedelta(days=back)
            return f"{said[0].upper()}{said[1:]}, ", {"date": {
                "value": d.isoformat(), "resolution": f"The dateline is {dl.isoformat()} (a "
                f"{WEEKDAYS[dl.weekday()]}); '{said}' is {d.isoformat()}."}}
        if span and r < 0.92:
            end = d + datetime.timedelta(days=rng.randrange(1, 4))
            first = str(d.day) if d.month == end.month else day_text(d).rsplit(" ", 1)[0] \
                if d.year == end.year else day_text(d)
            return f"From {first} to {day_text(end)}, ", {"start_date": {"value": d.isoformat()},
                                                       "end_date": {"value": end.isoformat()}}
        return "", {}

    def about(self, verbs) -> tuple[str, list[str]]:
        text, topics = self.rng.choice(OBJECTS)
        topics = [t for t in topics if t in self.topics] or [self.rng.choice(self.topics)]
        return f"{self.rng.choice(verbs)} {text}", topics

    def agreement(self, j: int, text: TextBuilder, titled: list) -> dict:
        rng = self.rng
        atype, _w, noun = rng.choices(AGREEMENT_TYPES, [int(t[1]) for t in AGREEMENT_TYPES])[0]
        parties = [self.actor(True)]
        if atype in BILATERAL or rng.random() < 0.7:
            parties += self.actors(False, 1 + (rng.random() < 0.1))
        lead, dates = self.when(text.dateline, False)
        rec = {"id": f"agr-{j + 1:0{self.w}d}", "type": atype, "parties": [p[0] for p in parties],
               "label": f"{noun[0].upper()}{noun[1:]} {'between' if parties[1:] else 'of'} "
                        f"{join_names([p[1] for p in parties])}"} | dates
        said, later, verb = "", "", "issued" if atype == "joint-statement" else "signed"
        if rng.random() < 0.08:
            rec["title"] = " ".join(w if w == "of" else w.capitalize() for w in noun.split()) \
                + f" on {rng.choice(FIELDS)} Cooperation"
            said += f' titled "{rec["title"]}"'
        if verb == "signed" and rng.random() < 0.25:
            signers = [self.someone(True), self.someone(False)]
            rec["signatories"] = [p[0] for p in signers]
            later += f" by {join_names([p[2] for p in signers])}"
        if verb == "signed" and titled and rng.random() < 0.3:
            rec["signed_at"], event_title, _place = titled[-1]
            later += f" at the {event_title}"
        if verb == "signed" and rng.random() < 0.08:
            witness = self.someone(True)
            rec["witnesses"], later = [witness[0]], later + f" in the presence of {witness[2]}"
        if rng.random() < 0.15:
            rec["duration"], adjective = rng.choice(DURATIONS)
            noun_said = f"{adjective} {noun}"
        else:
            noun_said = noun
        if rng.random() < (0.8 if atype in ("fund-commitment", "investment-agreement") else 0.3):
            tenths, (code, form) = rng.randrange(10, 5000), rng.choice(CURRENCIES)
            unit, scale = ("billion", 10**8) if rng.random() < 0.1 else ("million", 10**5)
            stated = form.format(f"{tenths // 10}{f'.{tenths % 10}' if tenths % 10 else ''} {unit}")
            qualifier, words = rng.choice(QUALIFIERS)
            rec["amount"] = {"value": str(tenths * scale)} | ({"currency": code} if code else {}) \
                | {"qualifier": qualifier, "stated_as": stated}
            said += f" worth {words}{stated}"
        if rng.random() < 0.85:
            rec["purpose"], topics = self.about(AGREEMENT_VERBS)
            said += f" {rec['purpose']}"
        else:
            topics = self.about(AGREEMENT_VERBS)[1] if rng.random() < 0.7 else []
        rec |= {"topics": topics} if topics else {}
        second = [k for k in ("signatories", "signed_at", "witnesses") if k in rec]
        rec["evidence"] = [text.quote(
            f"{lead}{join_names([p[2] for p in parties])} {verb} {with_article(noun_said)}{said}.",
            ["type"] + [k for k in facts_of(rec) if k not in second], "\n\n")]
        if later:
            rec["evidence"].append(text.quote(f"The {noun} was {verb}{later}.", second))
        self.agreements += 1
        return rec

    def event(self, j: int, text: TextBuilder, titled: list) -> dict:
        rng = self.rng
        etype, _w, group, noun = rng.choices(EVENT_TYPES, [int(t[1]) for t in EVENT_TYPES])[0]
        lead, dates = self.when(text.dateline, group in ("gathering", "visit"))
        place = self.place() if group == "gathering" or (
            etype != "video-meeting" and rng.random() < 0.6) else None
        rec, tail = {"id": f"evt-{j + 1:0{self.w}d}", "type": etype} | dates, ""
        if group == "gathering":
            year = next(iter(dates.values()))["value"][:4] if dates else str(text.dateline.year)
            rec["label"] = rec["title"] = f"{year} {place[2]} {rng.choice(FIELDS)} {noun}"
            host, guests = self.actor(True), self.actors(False, rng.randrange(3))
            rec |= {"hosts": [host[0]]} | ({"participants": [g[0] for g in guests]} if guests
                                            else {})
            body = f"{host[2]} hosted the {rec['title']} {place[3]}" + (
                f" with {join_names([g[2] for g in guests])}" if guests else "")
        elif group == "visit":
            leader, visited = self.someone(False), self.actor(True) if rng.random() < 0.8 else None
            if visited is None:  # a city or venue visited rather than a body
                spot, place = self.place(), None
                visited = spot[0], spot[1], spot[1]
            guests = self.actors(False, rng.randrange(1, 3)) if etype == "delegation-visit" else []
            rec |= {"leaders": [leader[0]], "visited": [visited[0]]} | (
                {"participants": [g[0] for g in guests]} if guests else {})
            rec["label"] = f"{noun[0].upper()}{noun[1:]} by {leader[1]} to {visited[1]}"
            guest_names = join_names([g[2] for g in guests]) if guests else ""
            body = (f"a delegation from {guest_names} led by {leader[2]} visited"
                    if guests else f"{leader[2]} " + ("paid an official visit to"
                                                      if etype == "official-visit" else "visited")
                    ) + f" {visited[2]}"
        else:
            if titled and rng.random() < 0.25:  # part of a larger event, held where it is
                rec["part_of"], parent_title, place = titled[-1]
                tail = f" during the {parent_title}"
            if group == "talk":
                host, guests = self.actor(True), self.actors(False, rng.randrange(1, 4))
                rec |= {"hosts": [host[0]], "participants": [g[0] for g in guests]}
                rec["label"] = f"{noun[0].upper()}{noun[1:]} of {host[1]} with {guests[0][1]}"
                guest_names = join_names([g[2] for g in guests])
                body = f"{host[2]} held {with_article(noun)} with {guest_names}"
            else:
                speaker = self.someone(rng.random() < 0.5)
                rec["speakers"], rec["label"] = [speaker[0]], f"{noun.capitalize()} by {speaker[1]}"
                body = f"{speaker[2]} gave {with_article(noun)}"
        if place:
            rec["locations"] = [place[0]]
            tail += f" {place[3]}" if group != "gathering" else ""
        if rng.random() < 0.5:
            rec["purpose"], rec["topics"] = self.about(EVENT_VERBS)
            tail += f" {rec['purpose']}"
        else:
            rec["topics"] = self.about(EVENT_VERBS)[1]
        attendance = None
        if group == "gathering" and rng.random() < 0.4:
            qualifier, words = rng.choice(QUALIFIERS)
            rec["attendee_count"] = {"value": str(rng.randrange(5, 300) * 10),
                                     "qualifier": qualifier}
            attendance = (f"The {rec['title']} was attended by {words}"
                          f"{rec['attendee_count']['value']} delegates.")
        sentence = lead + (body if lead else body[0].upper() + body[1:]) + tail + "."
        rec["evidence"] = [text.quote(sentence, ["type"] + [k for k in facts_of(rec)
                                                            if k != "attendee_count"], "\n\n")]
        if attendance:
            rec["evidence"].append(text.quote(attendance, ["attendee_count"]))
        if "title" in rec:
            titled.append((rec["id"], rec["title"], place))
        self.events += 1
        return rec

    def write_records(self) -> None:
        for f in range(-(-self.n_sources // SOURCES_PER_FILE)):
            rows: dict[str, list[str]] = {"events": [], "agreements": []}
            sources = range(f * SOURCES_PER_FILE,
                            min((f + 1) * SOURCES_PER_FILE, self.n_sources))
            for s in sources:
                dateline = datetime.date(2010, 1, 1) + datetime.timedelta(
                    days=self.rng.randrange(16 * 365))
                text = TextBuilder(f"src-{s + 1:0{self.ws}d}",
                             f"Health cooperation bulletin {s + 1}, {day_text(dateline)}", dateline)
                publisher = self.org(self.rng.choice(self.media))[0] \
                    if self.media and self.rng.random() < 0.3 else None
                text.add(f"Published {f'by {publisher[1]} ' if publisher else ''}on "
                         f"{day_text(dateline)}.", "\n")
                titled: list = []
                made = [(self.kind(j), (self.agreement if self.kind(j) == "agr" else self.event)(
                    j, text, titled)) for j in range(s * PER_SOURCE, min((s + 1) * PER_SOURCE,
                                                                         self.n))]
                self._source(text, publisher)
                for kind, rec in made:
                    render_record(rows["agreements" if kind == "agr" else "events"], rec, text.sid)
            out = [f"# Synthetic records (healthcoop bench generate, seed {self.seed}): "
                   f"agreements and events reported by\n# src-{sources[0] + 1:0{self.ws}d} to "
                   f"src-{sources[-1] + 1:0{self.ws}d}; actors, places and roles are in "
                   "directory-*.yaml.", ""]
            for kind in ("events", "agreements"):
                out += [f"{kind}:", *rows[kind]] if rows[kind] else []
            self._write(f"data/records/records-{f + 1:0{self.ws}d}.yaml", "\n".join(out))

    # --- files ------------------------------------------------------------------------------
    def _write(self, rel: str, data: str | bytes) -> None:
        data = data if isinstance(data, bytes) else data.encode("utf-8")
        (self.root / rel).write_bytes(data)
        self.files, self.bytes = self.files + 1, self.bytes + len(data)

    def _source(self, text: TextBuilder, publisher: tuple | None = None) -> None:
        data = text.finish()
        self._write(f"data/sources/{text.sid}.txt", data)
        entry = [f"  - id: {text.sid}", f"    file: {text.sid}.txt",
                 f"    sha256: {hashlib.sha256(data).hexdigest()}",
                 f"    title: {quoted(text.title)}",
                 "    language: en"]
        if publisher:
            entry += [f"    publisher: {publisher[0]}",
                      f"    publisher_quote: {quoted('Published by ' + publisher[1])}"]
        if text.dateline:
            entry += ["    dateline:", f'      value: "{text.dateline.isoformat()}"',
                      f'      quote: "{day_text(text.dateline)}"']
        self.registry.write("\n".join(entry) + "\n")

    def ids(self):
        """Every entity id, sorted: each stream is in order and heapq merges them."""
        def numbered(prefix, count, width, keep=lambda i: True):
            return (f"{prefix}-{i + 1:0{width}d}" for i in range(count) if keep(i))
        return heapq.merge(
            numbered("agr", self.n, self.w, lambda j: self.kind(j) == "agr"),
            numbered("evt", self.n, self.w, lambda j: self.kind(j) == "evt"),
            numbered("src", self.n_sources, self.ws), numbered("dir", self.directories, 4),
            *(numbered(p, self.n_orgs, self.wa) for p in ("org", "person", "role")),
            numbered("venue", self.n_venues, self.wa),
            iter(sorted([c[0] for c in COUNTRIES] + [c[0] for c in CITIES])))

    def links(self):
        """Review entries, sorted by id: an accepted placeholder QID for every organisation and
        person but the last UNLINKED of each, and the ISO 3166-1 code of every country."""
        def actors(prefix, kind, offset):
            for i in range(self.n_orgs - UNLINKED):
                qid = f"Q{QID_BASE + offset + i + 1}"
                yield (f"{prefix}-{i + 1:0{self.wa}d}", "actor", kind, qid,
                       f"https://example.org/healthcoop-synthetic/wikidata/{qid}")
        countries = sorted((c[0], "place", "place", f"iso3166-1:{c[2]}",
                            f"https://www.iso.org/obp/ui/#iso:code:3166:{c[2]}") for c in COUNTRIES)
        for rid, key, kind, target, reference in heapq.merge(
                actors("org", "organisation", 0), actors("person", "person", 500_000), countries):
            yield (f"- {key}: {rid}\n  kind: {kind}\n  status: linked\n  candidates:\n"
                   f"  - target: {target}\n    method: synthetic\n    match_type: exact\n"
                   f"    reference: {reference}\n    retrieved_on: '{REVIEW_DATE}'\n"
                   "    decision: accepted\n    reviewer: healthcoop bench generate\n"
                   f"    decision_date: '{REVIEW_DATE}'\n")

    def run(self, template: Path) -> None:
        from pipeline.check.register import HEADER

        for part in ("data/records", "data/sources"):
            (self.root / part).mkdir(parents=True)
        with open(self.root / "data/sources.yaml", "w", encoding="utf-8") as self.registry:
            self.registry.write(f"# The source registry of a synthetic corpus (healthcoop bench "
                                f"generate --records {self.n} --seed {self.seed}).\nsources:\n")
            self.write_directories()
            self.write_records()
        with open(self.root / "data/links.yaml", "w", encoding="utf-8") as out:
            out.write("# Links of a synthetic corpus: the QIDs (Q9000000001 and up) are "
                      "placeholders, not Wikidata items;\n# the ISO 3166-1 codes are real.\n"
                      "links:\n")
            out.writelines(self.links())
        with open(self.root / "data/published-iris.txt", "w", encoding="utf-8") as out:
            out.write(HEADER + "\n")
            out.writelines(f"{HCID}{rid}\n" for rid in self.ids())
        for rel in ("data/sources.yaml", "data/links.yaml", "data/published-iris.txt"):
            self.files, self.bytes = self.files + 1, self.bytes + (self.root / rel).stat().st_size
        meta, found = re.subn(r"(?m)^title:.*$", f'title: "healthcoop synthetic benchmark corpus '
                              f'({self.n} records, seed {self.seed})"',
                              (template / "data/dataset.yaml").read_text(encoding="utf-8"), count=1)
        if not found:
            raise EnvironmentProblem(f"{template / 'data/dataset.yaml'} has no `title:` line.")
        self._write("data/dataset.yaml", "# A synthetic corpus written by `healthcoop bench "
                    "generate`: not real data.\n" + meta)
        for part in ("ontology", "shapes", "queries"):
            for path in sorted((template / part).rglob("*")):
                if path.is_file() and not path.is_symlink():
                    rel = (Path(part) / path.relative_to(template / part)).as_posix()
                    (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
                    self._write(rel, path.read_bytes())


# --- the output guard and the swap ---------------------------------------------------------
def check_target(out_dir: Path, template_root: Path) -> Path:
    """The absolute directory to (re)place, if it may be; else EnvironmentProblem."""
    def refuse(message: str) -> None:
        raise EnvironmentProblem(f"--out {given} {message} Nothing was changed.",
                                 fix=f"Pass --out a new or empty directory, or an earlier "
                                     f"synthetic corpus (it holds {MARKER}).")

    def inside(path: Path, parent: Path) -> bool:
        return path == parent or parent in path.parents

    given = Path(out_dir)
    absolute = Path(os.path.abspath(given))
    if absolute.is_symlink():
        refuse("is a symbolic link; it is not followed.")
    resolved, template = absolute.resolve(), Path(template_root).resolve()
    if inside(template, resolved):
        refuse(f"is the repository {template} or a directory above it.")
    for name in INPUT_DIRS:
        if inside(resolved, template / name):
            refuse(f"is inside the repository's {name}/ folder.")
    if resolved.exists() and not resolved.is_dir():
        refuse("exists and is not a directory.")
    try:
        names = sorted(p.name for p in resolved.iterdir()) if resolved.exists() else []
    except OSError as err:
        refuse(f"cannot be read ({err.strerror}).")
    marker = resolved / MARKER
    if names and not (marker.is_file() and not marker.is_symlink()):
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        refuse(f"is a non-empty directory that is not a synthetic corpus (it holds {shown}; "
               f"no {MARKER} file).")
    return resolved


def _topics(path: Path) -> set[str]:
    """The topic ids (SKOS concepts under hctopic:) of the template's scheme."""
    from rdflib import Graph
    from rdflib.namespace import RDF, SKOS

    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as err:  # noqa: BLE001 - rdflib raises many kinds of parse errors
        raise EnvironmentProblem(f"cannot read the topic scheme {path}: {err}") from err
    found = {str(c)[len(HCTOPIC):] for c in graph.subjects(RDF.type, SKOS.Concept)
             if str(c).startswith(HCTOPIC)}
    if not found:
        raise EnvironmentProblem(f"the topic scheme {path} defines no topic.")
    return found


def generate_project(out_dir: Path, records: int, seed: int, template_root: Path) -> Summary:
    """Write the synthetic project (module docstring) into `out_dir`, replacing an earlier
    corpus there as a whole; return what was written."""
    from pipeline.build import sigint_deferred, swap_directories
    from pipeline.outputs import _process_alive

    started = time.perf_counter()
    if not isinstance(records, int) or not 1 <= records <= MAX_RECORDS:
        raise EnvironmentProblem(f"--records must be between 1 and {MAX_RECORDS:,}, not "
                                 f"{records}.", fix="Pass a smaller --records.")
    template = Path(template_root).resolve()
    for need in ("ontology/topics.ttl", "shapes", "data/dataset.yaml"):
        if not (template / need).exists():
            raise EnvironmentProblem(f"{template} is not a healthcoop repository (no {need}).",
                                     fix="Pass --root the repository to copy the ontology, "
                                         "shapes and queries from.")
    topics = _topics(template / "ontology/topics.ttl")
    target = check_target(out_dir, template)
    target.parent.mkdir(parents=True, exist_ok=True)
    leftover = re.compile(rf"\.{re.escape(target.name)}\.synthetic-(\d+)-.*")
    for entry in sorted(target.parent.iterdir()):  # staging directories of killed runs
        found = leftover.fullmatch(entry.name)
        if found and entry.is_dir() and not entry.is_symlink() and (entry / MARKER).is_file() \
                and not _process_alive(int(found.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
    with sigint_deferred():
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.synthetic-{os.getpid()}-",
                                        dir=target.parent))
        (staging / MARKER).write_text(
            f"A synthetic healthcoop corpus written by `healthcoop bench generate --records "
            f"{records} --seed {seed}`;\nthe next run of that command may replace this "
            "directory as a whole.\n", encoding="utf-8")
    try:
        gen = _Generator(staging, records, seed, topics)
        gen.run(template)
        os.chmod(staging, 0o755)
        with sigint_deferred():
            swap_directories(staging, target)
            shutil.rmtree(staging, ignore_errors=True)  # the earlier corpus, if there was one
    finally:
        with sigint_deferred():
            shutil.rmtree(staging, ignore_errors=True)
    counts = {"records": records, "agreements": gen.agreements, "events": gen.events,
              "actors": 2 * gen.n_orgs, "persons": gen.n_persons, "organisations": gen.n_orgs,
              "places": len(COUNTRIES) + len(CITIES) + gen.n_venues, "roles": gen.n_persons,
              "sources": gen.n_sources + gen.directories, "directories": gen.directories,
              "record_files": -(-gen.n_sources // SOURCES_PER_FILE) + gen.directories}
    return Summary(target, counts, gen.files + 1, gen.bytes, time.perf_counter() - started)
