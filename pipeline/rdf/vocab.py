"""Namespaces and the record-type -> class table (docs/model.md is the readable version)."""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SKOS, VOID, XSD


def iri(text: str) -> URIRef:
    """A URIRef without rdflib's per-character check, which only logs a warning for an
    invalid IRI and is a fifth of the mapping's time; every mapped IRI is checked strictly
    by pyoxigraph instead (shacl.ShaclRun._map), and an invalid one is a located error."""
    return str.__new__(URIRef, text)


class TermCache(Namespace):
    """A Namespace that makes each of its terms once (rdflib's builds and checks a new
    URIRef on every attribute access). A term read as an attribute is kept as one, so the
    next read (the mapping reads a dozen a record) never reaches `__getattr__`."""

    def term(self, name: str) -> URIRef:
        key = (str(self), name)
        found = _TERMS.get(key)
        if found is None:
            found = _TERMS[key] = super().term(name)
        return found

    def __getitem__(self, key: str) -> URIRef:
        return self.term(key)

    def __getattr__(self, name: str) -> URIRef:
        if name.startswith("__"):  # (copy, pickle and friends look up dunder names)
            raise AttributeError(name)
        found = self.__dict__[name] = self.term(name)
        return found


class Terms:
    """One of rdflib's closed namespaces (RDF, DCTERMS, ...) whose terms are kept as plain
    attributes once read: rdflib looks each up through its metaclass's `__getattr__`, a
    Python call every time. Unknown names fail as they do in rdflib."""

    def __init__(self, namespace) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> URIRef:
        if name.startswith("__"):
            raise AttributeError(name)
        found = self.__dict__[name] = getattr(self._namespace, name)
        return found


_TERMS: dict[tuple[str, str], URIRef] = {}

BASE = "https://w3id.org/healthcoop/"
HCID = Namespace(BASE + "id/")  # (one term per entity: not cached)
HC = TermCache(BASE + "ontology#")
HCSH = TermCache(BASE + "shapes#")
HCTOPIC = TermCache(BASE + "topic/")
DATASET = BASE + "dataset"
SCHEMA = TermCache("https://schema.org/")
OA = TermCache("http://www.w3.org/ns/oa#")
TIME = TermCache("http://www.w3.org/2006/time#")
DCAT = TermCache("http://www.w3.org/ns/dcat#")
SPDX = TermCache("http://spdx.org/rdf/terms#")
WD = Namespace("http://www.wikidata.org/entity/")

PREFIXES: dict[str, str] = {
    "hcid": str(HCID),
    "hc": str(HC),
    "hctopic": str(HCTOPIC),
    "hcsh": str(HCSH),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
    "owl": str(OWL),
    "skos": str(SKOS),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "org": str(ORG),
    "prov": str(PROV),
    "schema": str(SCHEMA),
    "oa": str(OA),
    "time": str(TIME),
    "dcat": str(DCAT),
    "void": str(VOID),
    "spdx": str(SPDX),
    "wd": str(WD),
}

_AGENT = [HC.Actor, FOAF.Agent, PROV.Agent]
_ORG = [HC.Organisation, ORG.Organization, FOAF.Organization, SCHEMA.Organization, *_AGENT]
_GOV = [HC.GovernmentBody, SCHEMA.GovernmentOrganization, *_ORG]

ORGANISATION_CLASSES = {
    "government": [HC.Government, *_GOV],
    "ministry": [HC.Ministry, *_GOV],
    "government-agency": [HC.GovernmentAgency, *_GOV],
    "regulator": [HC.Regulator, *_GOV],
    "company": [HC.Company, ORG.FormalOrganization, SCHEMA.Corporation, *_ORG],
    "university": [HC.University, ORG.FormalOrganization, SCHEMA.CollegeOrUniversity, *_ORG],
    "college": [HC.College, ORG.FormalOrganization, SCHEMA.CollegeOrUniversity, *_ORG],
    "hospital": [HC.Hospital, SCHEMA.Hospital, *_ORG],
    "research-institute": [HC.ResearchInstitute, SCHEMA.ResearchOrganization, *_ORG],
    "association": [HC.Association, SCHEMA.NGO, *_ORG],
    "business-council": [HC.BusinessCouncil, HC.Association, SCHEMA.NGO, *_ORG],
    "international-organisation": [HC.InternationalOrganisation, *_ORG],
    "media-organisation": [HC.MediaOrganisation, SCHEMA.NewsMediaOrganization, *_ORG],
    "health-service": [HC.HealthService, SCHEMA.MedicalOrganization, *_ORG],
}
PERSON_CLASSES = [HC.Person, FOAF.Person, SCHEMA.Person, *_AGENT]
_PLACE = [HC.Place, SCHEMA.Place]
PLACE_CLASSES = {
    "country": [HC.Country, SCHEMA.Country, *_PLACE, *_AGENT],
    "region": [HC.Region, SCHEMA.AdministrativeArea, *_PLACE],
    "city": [HC.City, SCHEMA.City, *_PLACE],
    "venue": [HC.Venue, *_PLACE],
}
ROLE_CLASSES = [HC.Role, ORG.Membership]
_AGREEMENT = [HC.Agreement, PROV.Entity, SCHEMA.CreativeWork]
AGREEMENT_CLASSES = {
    "memorandum-of-understanding": [HC.MemorandumOfUnderstanding, *_AGREEMENT],
    "contract": [HC.Contract, *_AGREEMENT],
    "cooperation-arrangement": [HC.CooperationArrangement, *_AGREEMENT],
    "collaboration-agreement": [HC.CollaborationAgreement, *_AGREEMENT],
    "investment-agreement": [HC.InvestmentAgreement, *_AGREEMENT],
    "fund-commitment": [HC.FundCommitment, *_AGREEMENT],
    "data-exchange-agreement": [HC.DataExchangeAgreement, *_AGREEMENT],
    "commercial-agreement": [HC.CommercialAgreement, *_AGREEMENT],
    "joint-statement": [HC.JointStatement, *_AGREEMENT],
}
_EVENT = [HC.Event, SCHEMA.Event, PROV.Activity]
_VISIT = [HC.Visit, *_EVENT]
_MEETING = [HC.Meeting, *_EVENT]
EVENT_CLASSES = {
    "visit": _VISIT,
    "official-visit": [HC.OfficialVisit, *_VISIT],
    "delegation-visit": [HC.DelegationVisit, *_VISIT],
    "dialogue": [HC.Dialogue, *_EVENT],
    "meeting": _MEETING,
    "working-meeting": [HC.WorkingMeeting, *_MEETING],
    "video-meeting": [HC.VideoMeeting, *_MEETING],
    "conference": [HC.Conference, *_EVENT],
    "forum": [HC.Forum, *_EVENT],
    "trade-fair": [HC.TradeFair, *_EVENT],
    "signing-ceremony": [HC.SigningCeremony, *_EVENT],
    "panel-session": [HC.PanelSession, *_EVENT],
    "presentation": [HC.Presentation, *_EVENT],
    "speech": [HC.Speech, *_EVENT],
}
_INITIATIVE = [HC.Initiative, PROV.Entity]
INITIATIVE_CLASSES = {
    "campaign": [HC.Campaign, *_INITIATIVE],
    "programme": [HC.Programme, *_INITIATIVE],
    "project": [HC.Project, *_INITIATIVE],
    "platform": [HC.Platform, *_INITIATIVE],
    "plan": [HC.Plan, *_INITIATIVE],
    "fund": [HC.Fund, *_INITIATIVE],
}
SOURCE_CLASSES = [HC.Source, SCHEMA.CreativeWork, FOAF.Document, PROV.Entity]
QUALIFIERS = {
    "exact": HC.Exact,
    "more-than": HC.MoreThan,
    "approximately": HC.Approximately,
    "up-to": HC.UpTo,
}

# field -> predicate, for list/reference fields shared by several kinds
REFERENCE_PREDICATES = {
    "parties": HC.party,
    "signatories": HC.signatory,
    "witnesses": HC.witness,
    "signed_at": HC.signedAt,
    "locations": SCHEMA.location,
    "hosts": HC.host,
    "chairs": HC.chair,
    "organisers": SCHEMA.organizer,
    "participants": HC.participant,
    "leaders": HC.leader,
    "speakers": HC.speaker,
    "invited_by": HC.invitedBy,
    "visited": HC.visited,
    "owners": HC.owner,
    "partners": HC.partner,
    "country": HC.country,
    "person": ORG.member,
    "organisation": ORG.organization,
}
