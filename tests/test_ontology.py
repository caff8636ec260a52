"""Tests for the ontology, the topic scheme and the SHACL shapes.

These three Turtle files are hand-written and published as they are, so the tests check
that they parse with strict and lenient parsers, that they agree with each other and with
docs/model.md, that every term is documented, and that the shapes accept good data and
reject bad data with results that point at the right field.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph
import pyshacl
import pytest
from rdflib import OWL, RDF, RDFS, SKOS, BNode, Graph, Literal, Namespace, URIRef

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology" / "healthcoop.ttl"
TOPICS = ROOT / "ontology" / "topics.ttl"
SHAPES = ROOT / "shapes" / "healthcoop-shapes.ttl"  # the constraints
ADVICE = ROOT / "shapes" / "healthcoop-advice.ttl"  # advice (sh:Warning), apart from them
MODEL_DOC = ROOT / "docs" / "model.md"

HC = Namespace("https://w3id.org/healthcoop/ontology#")
HCID = Namespace("https://w3id.org/healthcoop/id/")
HCTOPIC = Namespace("https://w3id.org/healthcoop/topic/")
SH = Namespace("http://www.w3.org/ns/shacl#")
SCHEMA = Namespace("https://schema.org/")
DCT = Namespace("http://purl.org/dc/terms/")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

TOPIC_IDS = {
    "antimicrobial-resistance", "digital-health", "health-data", "artificial-intelligence",
    "genomics", "rare-diseases", "personalised-medicine", "traditional-chinese-medicine",
    "pandemic-response", "covid-19", "primary-care", "health-workforce", "medical-education",
    "access-to-medicines", "medicines-regulation", "medical-devices", "drug-safety",
    "counterfeit-medicines", "life-sciences", "medical-technology", "chronic-disease",
    "electronic-health-records", "biomarkers", "public-health", "maternal-and-child-health",
    "healthy-ageing", "cancer", "health-innovation", "health-investment",
    "global-health-security", "healthcare-leadership", "telemedicine",
}

TERM_TYPES = {
    OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
    OWL.NamedIndividual,
}


def _load(path: Path) -> Graph:
    return Graph().parse(path, format="turtle")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return _load(ONTOLOGY)


@pytest.fixture(scope="module")
def topics() -> Graph:
    return _load(TOPICS)


@pytest.fixture(scope="module")
def shapes() -> Graph:
    """Every shapes file together, as `healthcoop validate` runs them."""
    graph = _load(SHAPES)
    graph.parse(ADVICE, format="turtle")
    return graph


@pytest.fixture(scope="module")
def constraints() -> Graph:
    """The constraint shapes alone: what the release's data conforms to."""
    return _load(SHAPES)


def _hc_terms(graph: Graph) -> set[URIRef]:
    """Every IRI in the hc: namespace used anywhere in a graph."""
    terms = set()
    for triple in graph:
        for node in triple:
            if isinstance(node, URIRef) and str(node).startswith(str(HC)):
                terms.add(node)
    return terms


def _declared_terms(ontology: Graph) -> set[URIRef]:
    return {
        s for s, o in ontology.subject_objects(RDF.type)
        if o in TERM_TYPES and isinstance(s, URIRef) and str(s).startswith(str(HC))
    }


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", [ONTOLOGY, TOPICS, SHAPES, ADVICE], ids=lambda p: p.name)
def test_parses_with_pyoxigraph(path: Path) -> None:
    """Oxigraph's parser is strict about Turtle syntax and IRIs; other tools (and the
    triple store we load into) must be able to read these files, not only rdflib."""
    quads = list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE))
    assert quads


@pytest.mark.parametrize("path", [ONTOLOGY, TOPICS, SHAPES, ADVICE], ids=lambda p: p.name)
def test_parses_with_rdflib(path: Path) -> None:
    """The pipeline and pyshacl read the files with rdflib; both parsers must agree on the
    number of triples, or one of them is silently reading something else."""
    graph = _load(path)
    oxi = list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(graph) == len(oxi)


# ---------------------------------------------------------------------------
# Ontology
# ---------------------------------------------------------------------------

def test_ontology_header(ontology: Graph) -> None:
    """The ontology's metadata (version, licence, preferred prefix) is what vocabulary
    catalogues and the published documentation read."""
    onto = URIRef("https://w3id.org/healthcoop/ontology")
    assert (onto, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(onto, OWL.versionInfo) == Literal("0.1.0")
    assert ontology.value(onto, DCT.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert ontology.value(onto, DCT.title) is not None
    assert ontology.value(onto, DCT.description) is not None
    vann = Namespace("http://purl.org/vocab/vann/")
    assert str(ontology.value(onto, vann.preferredNamespacePrefix)) == "hc"
    assert str(ontology.value(onto, vann.preferredNamespaceUri)) == str(HC)


def test_every_term_is_documented(ontology: Graph) -> None:
    """Every hc: term must say what it is (skos:definition) and why it exists instead of a
    reused term (rdfs:comment), in English, so that the vocabulary stays explainable."""
    missing = []
    for term in sorted(_declared_terms(ontology)):
        for prop in (RDFS.label, SKOS.definition, RDFS.comment):
            values = [v for v in ontology.objects(term, prop)
                      if isinstance(v, Literal) and v.language == "en" and str(v).strip()]
            if len(values) != 1:
                missing.append(f"{term} {prop}")
    assert not missing, "\n".join(missing)


def test_every_hc_term_in_model_doc_is_declared(ontology: Graph) -> None:
    """docs/model.md is the contract the mapping code follows; every hc: term it names
    must exist in the ontology, or the data would use undeclared terms."""
    text = MODEL_DOC.read_text(encoding="utf-8")
    used = {HC[name] for name in re.findall(r"(?<![\w-])hc:([A-Za-z][A-Za-z0-9]*)", text)}
    assert used, "docs/model.md names no hc: terms: the pattern is out of date"
    undeclared = sorted(used - _declared_terms(ontology))
    assert not undeclared, undeclared


def test_every_hc_term_in_shapes_and_topics_is_declared(ontology: Graph, topics: Graph,
                                                        shapes: Graph) -> None:
    """A typo in a shape (hc:partys) would make it silently check nothing; every hc: term
    the shapes and topics use must be declared in the ontology."""
    declared = _declared_terms(ontology)
    undeclared = sorted((_hc_terms(shapes) | _hc_terms(topics)) - declared)
    assert not undeclared, undeclared


def test_country_is_place_and_actor(ontology: Graph) -> None:
    """A country is both a place (a location) and an actor (a party, as a state); the
    shapes rely on that to accept country ids in `parties:` and `locations:`."""
    parents = set(ontology.objects(HC.Country, RDFS.subClassOf))
    assert {HC.Place, HC.Actor} <= parents


def test_no_term_has_two_owl_kinds(ontology: Graph) -> None:
    """OWL 2 DL forbids one IRI being, say, both an annotation and a datatype property;
    OWL tools would reject the ontology or silently drop axioms."""
    kinds = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty}
    for term in set(ontology.subjects(RDF.type, None)):
        found = set(ontology.objects(term, RDF.type)) & kinds
        assert len(found) <= 1, (term, found)


def test_every_data_class_is_covered_by_shapes(ontology: Graph, shapes: Graph) -> None:
    """Every class the data uses must be checked by some shape, directly or through one of
    its hc: superclasses (which the data also writes as rdf:type)."""
    targeted = set(shapes.objects(None, SH.targetClass))
    enumerations = {HC.RoleStatus, HC.QuantityQualifier}
    uncovered = []
    for cls in _declared_terms(ontology):
        if (cls, RDF.type, OWL.Class) not in ontology or cls in enumerations:
            continue
        ancestors, todo = {cls}, [cls]
        while todo:
            for parent in ontology.objects(todo.pop(), RDFS.subClassOf):
                if parent not in ancestors:
                    ancestors.add(parent)
                    todo.append(parent)
        if not ancestors & targeted:
            uncovered.append(cls)
    assert not uncovered, uncovered


def test_class_hierarchy_has_no_cycles(ontology: Graph) -> None:
    """A subclass cycle would make every class in it equivalent under reasoning."""
    for cls in _declared_terms(ontology):
        seen, todo = set(), list(ontology.objects(cls, RDFS.subClassOf))
        while todo:
            parent = todo.pop()
            assert parent != cls, f"cycle through {cls}"
            if parent not in seen:
                seen.add(parent)
                todo.extend(ontology.objects(parent, RDFS.subClassOf))


# ---------------------------------------------------------------------------
# Topics
# ---------------------------------------------------------------------------

def test_topic_ids_are_exactly_the_agreed_list(topics: Graph) -> None:
    """Records refer to topics by id; the scheme must hold exactly the agreed ids, so an
    unplanned addition or a renamed (broken) IRI is caught in review."""
    concepts = set(topics.subjects(RDF.type, SKOS.Concept))
    ids = {str(c)[len(str(HCTOPIC)):] for c in concepts}
    assert all(str(c).startswith(str(HCTOPIC)) for c in concepts)
    assert ids == TOPIC_IDS


def test_topics_are_complete(topics: Graph) -> None:
    """Every topic needs an English label and definition, must be in the scheme, and its
    notation must equal its id, because the YAML uses the notation."""
    scheme = HCTOPIC.scheme
    assert (scheme, RDF.type, SKOS.ConceptScheme) in topics
    assert topics.value(scheme, DCT.title) is not None
    for concept in topics.subjects(RDF.type, SKOS.Concept):
        cid = str(concept)[len(str(HCTOPIC)):]
        labels = list(topics.objects(concept, SKOS.prefLabel))
        assert len(labels) == 1 and labels[0].language == "en", cid
        definitions = list(topics.objects(concept, SKOS.definition))
        assert len(definitions) == 1 and definitions[0].language == "en", cid
        assert (concept, SKOS.inScheme, scheme) in topics, cid
        assert [str(n) for n in topics.objects(concept, SKOS.notation)] == [cid]
        for alt in topics.objects(concept, SKOS.altLabel):
            assert alt.language == "en", cid


def test_topic_hierarchy(topics: Graph) -> None:
    """Each topic is either a top concept or has a broader topic in the scheme (never
    both), top concepts are listed on the scheme, and there are no cycles."""
    scheme = HCTOPIC.scheme
    concepts = set(topics.subjects(RDF.type, SKOS.Concept))
    tops = set(topics.subjects(SKOS.topConceptOf, scheme))
    assert tops == set(topics.objects(scheme, SKOS.hasTopConcept))
    for concept in concepts:
        broader = set(topics.objects(concept, SKOS.broader))
        assert broader <= concepts, concept
        assert bool(broader) != (concept in tops), concept
        seen, todo = set(), list(broader)
        while todo:
            parent = todo.pop()
            assert parent != concept, f"cycle through {concept}"
            if parent not in seen:
                seen.add(parent)
                todo.extend(topics.objects(parent, SKOS.broader))
    assert (HCTOPIC["covid-19"], SKOS.broader, HCTOPIC["pandemic-response"]) in topics
    alt = {str(a) for a in topics.objects(None, SKOS.altLabel)}
    assert {"AMR", "TCM"} <= alt


def test_topics_have_no_external_links(topics: Graph) -> None:
    """Links to external vocabularies need checking against a source; none are published
    until someone has done that."""
    for prop in (SKOS.exactMatch, SKOS.closeMatch, OWL.sameAs):
        assert not list(topics.subject_objects(prop))
    for obj in topics.objects():
        if isinstance(obj, URIRef):
            assert "wikidata" not in str(obj)


# ---------------------------------------------------------------------------
# Shapes: form
# ---------------------------------------------------------------------------

def _reported_shapes(shapes: Graph) -> set:
    """Shapes that produce validation results of their own: declared node and property
    shapes, shapes with targets, and everything reached by sh:property or sh:node.
    (Operands of sh:or / sh:not and qualified value shapes only feed the result of their
    enclosing shape, so they carry no message.)"""
    found = set(shapes.subjects(RDF.type, SH.NodeShape))
    found |= set(shapes.subjects(RDF.type, SH.PropertyShape))
    found |= set(shapes.objects(None, SH.property))
    found |= set(shapes.objects(None, SH.node))
    for target in (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf):
        found |= set(shapes.subjects(target, None))
    return found


def test_every_shape_has_a_message(shapes: Graph) -> None:
    """The validator shows sh:message to the maintainer editing YAML; a shape without one
    would report a bare constraint name that does not say what to fix."""
    missing = [s for s in _reported_shapes(shapes)
               if not any(isinstance(m, Literal) and m.language == "en" and str(m).strip()
                          for m in shapes.objects(s, SH.message))]
    assert not missing, missing


def test_every_property_shape_names_its_field(shapes: Graph) -> None:
    """The validator uses sh:name to point at the YAML field of the record."""
    property_shapes = set(shapes.objects(None, SH.property))
    property_shapes |= set(shapes.subjects(RDF.type, SH.PropertyShape))
    missing = [s for s in property_shapes if shapes.value(s, SH.name) is None]
    assert not missing, missing


def test_shapes_graph_is_valid_shacl(shapes: Graph) -> None:
    """A malformed shape (a misspelt sh: term, a bad list) is ignored silently by
    validators; checking against the SHACL-for-SHACL shapes catches it."""
    shsh_path = Path(pyshacl.__file__).parent / "assets" / "shacl-shacl.ttl"
    assert shsh_path.exists(), "pyshacl no longer ships assets/shacl-shacl.ttl"
    shsh = Graph().parse(shsh_path, format="turtle")
    conforms, _, text = pyshacl.validate(shapes, shacl_graph=shsh, ont_graph=None,
                                         inference="none")
    assert conforms, text


def test_shapes_use_only_shacl_core(shapes: Graph) -> None:
    """The build runs pyshacl with advanced=False, where SPARQL constraints and SHACL-AF
    features are ignored; any such shape would check nothing."""
    for prop in (SH.sparql, SH.target, SH.rule, SH.condition):
        assert not list(shapes.subject_objects(prop)), prop


# ---------------------------------------------------------------------------
# Shapes: behaviour on data
# ---------------------------------------------------------------------------

# A small, complete and valid data graph in the shape the mapping produces (docs/model.md):
# two countries, a ministry, a person and their role, an MoU with an amount, the signing
# ceremony, a source, the evidence for each record, and Wikidata links (fictitious QIDs)
# for the person and the ministry. ontology/topics.ttl is added to it at validation time.
VALID_DATA = """
@prefix dct:    <http://purl.org/dc/terms/> .
@prefix foaf:   <http://xmlns.com/foaf/0.1/> .
@prefix hc:     <https://w3id.org/healthcoop/ontology#> .
@prefix hcid:   <https://w3id.org/healthcoop/id/> .
@prefix hctopic: <https://w3id.org/healthcoop/topic/> .
@prefix oa:     <http://www.w3.org/ns/oa#> .
@prefix org:    <http://www.w3.org/ns/org#> .
@prefix owl:    <http://www.w3.org/2002/07/owl#> .
@prefix prov:   <http://www.w3.org/ns/prov#> .
@prefix rdf:    <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs:   <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <https://schema.org/> .
@prefix skos:   <http://www.w3.org/2004/02/skos/core#> .
@prefix void:   <http://rdfs.org/ns/void#> .
@prefix wd:     <http://www.wikidata.org/entity/> .
@prefix xsd:    <http://www.w3.org/2001/XMLSchema#> .
@base           <https://w3id.org/healthcoop/id/> .

# --- source -----------------------------------------------------------------
hcid:test-source a hc:Source , schema:CreativeWork , foaf:Document , prov:Entity ;
    dct:title "A test article"@en ;
    hc:archivedFile "data/sources/000_test.txt" ;
    dct:language "en" ;
    dct:date "2018-02-14"^^xsd:date ;
    hc:sha256 "1786a81046ac27d79c137af82f5c352a397b3a67c3dae0a7a995ecb0bfed12c9" ;
    void:inDataset <https://w3id.org/healthcoop/dataset> .

# --- places -----------------------------------------------------------------
hcid:united-kingdom a hc:Country , hc:Place , hc:Actor , schema:Country , schema:Place ,
        prov:Agent , foaf:Agent ;
    rdfs:label "United Kingdom"@en ;
    skos:prefLabel "United Kingdom"@en ;
    skos:altLabel "UK"@en ;
    void:inDataset <https://w3id.org/healthcoop/dataset> .

hcid:china a hc:Country , hc:Place , hc:Actor , schema:Country , schema:Place ,
        prov:Agent , foaf:Agent ;
    rdfs:label "China"@en ;
    skos:prefLabel "China"@en ;
    void:inDataset <https://w3id.org/healthcoop/dataset> .

hcid:beijing a hc:City , hc:Place , schema:City , schema:Place ;
    rdfs:label "Beijing"@en ;
    skos:prefLabel "Beijing"@en ;
    hc:country hcid:china ;
    void:inDataset <https://w3id.org/healthcoop/dataset> .

# --- actors -----------------------------------------------------------------
hcid:test-ministry a hc:Ministry , hc:GovernmentBody , hc:Organisation , hc:Actor ,
        org:Organization , foaf:Organization , schema:GovernmentOrganization , prov:Agent ;
    rdfs:label "Test Ministry of Health"@en ;
    skos:prefLabel "Test Ministry of Health"@en ;
    hc:country hcid:united-kingdom ;
    hc:evidence <test-ministry#evidence-00000001> ;
    dct:source hcid:test-source ;
    owl:sameAs wd:Q987654321 ;
    hc:wikidataLink <test-ministry#wikidata-link> ;
    hc:rorId <https://ror.org/0abcde123> ;
    hc:link <test-ministry#ror-link> ;
    void:inDataset <https://w3id.org/healthcoop/dataset> .

<test-ministry#wikidata-link> a hc:Link ;
    hc:target wd:Q987654321 ;
    hc:matchType owl:sameAs ;
    hc:reference <https://example.org/reference> ;
    hc:retrievedOn "2026-11-23"^^xsd:date ;
    hc:method "wikidata-search" ;
    hc:reviewer "A. Reviewer" ;
    hc:decisionDate "2026-11-23"^^xsd:date .

<test-ministry#ror-link> a hc:Link ;
    hc:target <https://ror.org/0abcde123> ;
    hc:matchType hc:rorId ;
    hc:reference <https://ror.org/0abcde123> ;
    hc:referenceRelease "v1.0" ;
    hc:retrievedOn "2026-11-23"^^xsd:date ;
    hc:method "ror-name-match" ;
    hc:reviewer "ror-exact-match" ;
    hc:decisionDate "2026-11-23"^^xsd:date .

hcid:jane-doe a hc:Person , hc:Actor , foaf:Person , schema:Person , prov:Agent ;
    rdfs:label "Jane Doe"@en ;
    skos:prefLabel "Jane Doe"@en ;
    foaf:title "Dr" ;
    hc:evidence <jane-doe#evidence-00000002> ;
    dct:source hcid:test-source ;
    skos:closeMatch wd:Q987654322 ;
    hc:link <jane-doe#wikidata-link> ;
    void:inDataset <https://w3id.org/healthcoop/dataset> .

<jane-doe#wikidata-link> a hc:Link ;
    hc:target wd:Q987654322 ;
    hc:matchType skos:closeMatch ;
    hc:matchReason "The item describes her office, not her as a person."@en ;
    hc:reference <https://example.org/reference> ;
    hc:checkedRevision 123456 ;
    hc:reviewer "A. Reviewer" ;
    hc:decisionDate "2026-11-23"^^xsd:date .

# --- role -------------------------------------------------------------------
hcid:jane-doe-minister a hc:Role , org:Membership ;
    org:member hcid:jane-doe ;
    org:organization hcid:test-ministry ;
    hc:roleTitle "Minister of Health"@en ;
    hc:roleStatus hc:CurrentRole ;
    hc:evidence <jane-doe-minister#evidence-00000003> ;
    dct:source hcid:test-source ;
    void:inDataset <https://w3id.org/healthcoop/dataset> .

# --- event and agreement ----------------------------------------------------
hcid:test-signing a hc:SigningCeremony , hc:Event , schema:Event , prov:Activity ;
    rdfs:label "Test signing ceremony"@en ;
    skos:prefLabel "Test signing ceremony"@en ;
    schema:startDate "2018-02-01"^^xsd:date ;
    schema:endDate "2018-02-01"^^xsd:date ;
    schema:location hcid:beijing ;
    hc:participant hcid:jane-doe , hcid:china ;
    hc:attendeeCount 100 ;
    hc:attendeeCountQualifier hc:MoreThan ;
    hc:topic hctopic:digital-health ;
    hc:evidence <test-signing#evidence-00000004> ;
    dct:source hcid:test-source ;
    void:inDataset <https://w3id.org/healthcoop/dataset> .

hcid:test-mou a hc:MemorandumOfUnderstanding , hc:Agreement , prov:Entity ,
        schema:CreativeWork ;
    rdfs:label "Test MoU on digital health"@en ;
    skos:prefLabel "Test MoU on digital health"@en ;
    hc:party hcid:test-ministry , hcid:china ;
    hc:signatory hcid:jane-doe ;
    hc:signedAt hcid:test-signing ;
    hc:date "2018-02"^^xsd:gYearMonth ;
    hc:dateResolution "The text says 'this month'; the dateline is February 2018."@en ;
    hc:duration "P5Y"^^xsd:duration ;
    hc:amount <test-mou#amount> ;
    hc:purpose "to cooperate on digital health"@en ;
    hc:topic hctopic:digital-health , hctopic:health-data ;
    hc:evidence <test-mou#evidence-00000005> ;
    dct:source hcid:test-source ;
    void:inDataset <https://w3id.org/healthcoop/dataset> .

<test-mou#amount> a schema:MonetaryAmount ;
    schema:value "5000000000"^^xsd:decimal ;
    schema:currency "CNY" ;
    hc:amountQualifier hc:Exact ;
    hc:statedAs "5 billion RMB" .

# --- evidence ---------------------------------------------------------------
<test-ministry#evidence-00000001> a oa:Annotation , hc:Evidence ;
    oa:motivatedBy oa:describing ;
    prov:wasDerivedFrom hcid:test-source ;
    oa:hasBody hcid:test-ministry ;
    hc:supportsProperty hc:country ;
    oa:hasTarget <test-ministry#evidence-00000001-target> .
<test-ministry#evidence-00000001-target> a oa:SpecificResource ;
    oa:hasSource hcid:test-source ;
    oa:hasSelector <test-ministry#evidence-00000001-quote> ,
                   <test-ministry#evidence-00000001-position> .
<test-ministry#evidence-00000001-quote> a oa:TextQuoteSelector ;
    oa:exact "the Test Ministry of Health" .
<test-ministry#evidence-00000001-position> a oa:TextPositionSelector ;
    oa:start "0"^^xsd:nonNegativeInteger ;
    oa:end "27"^^xsd:nonNegativeInteger .

<jane-doe#evidence-00000002> a oa:Annotation , hc:Evidence ;
    oa:motivatedBy oa:describing ;
    prov:wasDerivedFrom hcid:test-source ;
    oa:hasBody hcid:jane-doe ;
    hc:supportsProperty foaf:title ;
    oa:hasTarget <jane-doe#evidence-00000002-target> .
<jane-doe#evidence-00000002-target> a oa:SpecificResource ;
    oa:hasSource hcid:test-source ;
    oa:hasSelector <jane-doe#evidence-00000002-quote> ,
                   <jane-doe#evidence-00000002-position> .
<jane-doe#evidence-00000002-quote> a oa:TextQuoteSelector ;
    oa:exact "Dr Jane Doe" ;
    oa:prefix "said " .
<jane-doe#evidence-00000002-position> a oa:TextPositionSelector ;
    oa:start "30"^^xsd:nonNegativeInteger ;
    oa:end "41"^^xsd:nonNegativeInteger .

<jane-doe-minister#evidence-00000003> a oa:Annotation , hc:Evidence ;
    oa:motivatedBy oa:describing ;
    prov:wasDerivedFrom hcid:test-source ;
    oa:hasBody hcid:jane-doe-minister ;
    hc:supportsProperty org:member , hc:roleTitle , org:organization ;
    oa:hasTarget <jane-doe-minister#evidence-00000003-target> .
<jane-doe-minister#evidence-00000003-target> a oa:SpecificResource ;
    oa:hasSource hcid:test-source ;
    oa:hasSelector <jane-doe-minister#evidence-00000003-quote> ,
                   <jane-doe-minister#evidence-00000003-position> .
<jane-doe-minister#evidence-00000003-quote> a oa:TextQuoteSelector ;
    oa:exact "Minister of Health Dr Jane Doe" .
<jane-doe-minister#evidence-00000003-position> a oa:TextPositionSelector ;
    oa:start "11"^^xsd:nonNegativeInteger ;
    oa:end "41"^^xsd:nonNegativeInteger .

<test-signing#evidence-00000004> a oa:Annotation , hc:Evidence ;
    oa:motivatedBy oa:describing ;
    prov:wasDerivedFrom hcid:test-source ;
    oa:hasBody hcid:test-signing ;
    hc:supportsProperty rdf:type , schema:location , hc:participant ;
    oa:hasTarget <test-signing#evidence-00000004-target> .
<test-signing#evidence-00000004-target> a oa:SpecificResource ;
    oa:hasSource hcid:test-source ;
    oa:hasSelector <test-signing#evidence-00000004-quote> ,
                   <test-signing#evidence-00000004-position> .
<test-signing#evidence-00000004-quote> a oa:TextQuoteSelector ;
    oa:exact "at a signing ceremony in Beijing" .
<test-signing#evidence-00000004-position> a oa:TextPositionSelector ;
    oa:start "50"^^xsd:nonNegativeInteger ;
    oa:end "82"^^xsd:nonNegativeInteger .

<test-mou#evidence-00000005> a oa:Annotation , hc:Evidence ;
    oa:motivatedBy oa:describing ;
    prov:wasDerivedFrom hcid:test-source ;
    oa:hasBody hcid:test-mou ;
    hc:supportsProperty rdf:type , hc:party , hc:amount ;
    oa:hasTarget <test-mou#evidence-00000005-target> .
<test-mou#evidence-00000005-target> a oa:SpecificResource ;
    oa:hasSource hcid:test-source ;
    oa:hasSelector <test-mou#evidence-00000005-quote> ,
                   <test-mou#evidence-00000005-position> .
<test-mou#evidence-00000005-quote> a oa:TextQuoteSelector ;
    oa:exact "signed a 5 billion RMB MoU with China" .
<test-mou#evidence-00000005-position> a oa:TextPositionSelector ;
    oa:start "90"^^xsd:nonNegativeInteger ;
    oa:end "127"^^xsd:nonNegativeInteger .
"""


def _valid_graph() -> Graph:
    graph = Graph().parse(data=VALID_DATA, format="turtle")
    graph.parse(TOPICS, format="turtle")
    return graph


def _results(data: Graph, shapes: Graph) -> list[dict]:
    """Run pyshacl as the build does and return the results as plain dicts."""
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, ont_graph=None,
                                    inference="none", advanced=False)
    results = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        source_shape = report.value(result, SH.sourceShape)
        results.append({
            "focus": report.value(result, SH.focusNode),
            "path": report.value(result, SH.resultPath),
            "severity": report.value(result, SH.resultSeverity),
            "message": report.value(result, SH.resultMessage),
            "name": shapes.value(source_shape, SH.name) if source_shape is not None else None,
        })
    return results


def _describe(results: list[dict]) -> str:
    return "\n".join(f"{r['severity']} {r['focus']} {r['path']}: {r['message']}" for r in results)


def test_valid_data_conforms(shapes: Graph) -> None:
    """A complete, correct snippet in the mapping's output form must give no result of any
    severity; otherwise the shapes would reject good records."""
    results = _results(_valid_graph(), shapes)
    assert not results, _describe(results)


def _without(graph: Graph, s, p, o=None) -> Graph:
    graph.remove((s, p, o))
    return graph


def _replace(graph: Graph, s, p, new) -> Graph:
    graph.remove((s, p, None))
    graph.add((s, p, new))
    return graph


BROKEN_VARIANTS = {
    # name: (how to break the valid graph, focus node, expected sh:resultPath, sh:name)
    "mou-with-one-party": (
        lambda g: _without(g, HCID["test-mou"], HC.party, HCID.china),
        HCID["test-mou"], HC.party, "parties"),
    "free-text-date": (
        lambda g: _replace(g, HCID["test-mou"], HC.date, Literal("last Friday")),
        HCID["test-mou"], HC.date, "date"),
    "label-without-language": (
        lambda g: _replace(g, HCID["test-mou"], RDFS.label,
                           Literal("Test MoU on digital health")),
        HCID["test-mou"], RDFS.label, "label"),
    "event-without-evidence": (
        lambda g: _without(g, HCID["test-signing"], HC.evidence),
        HCID["test-signing"], HC.evidence, "evidence"),
    "currency-in-words": (
        lambda g: _replace(g, HCID["test-mou#amount"], SCHEMA.currency, Literal("pounds")),
        HCID["test-mou#amount"], SCHEMA.currency, "amount.currency"),
    "role-without-person": (
        lambda g: _without(g, HCID["jane-doe-minister"], URIRef("http://www.w3.org/ns/org#member")),
        HCID["jane-doe-minister"], URIRef("http://www.w3.org/ns/org#member"), "person"),
    "party-is-a-city": (
        lambda g: g.add((HCID["test-mou"], HC.party, HCID.beijing)) or g,
        HCID["test-mou"], HC.party, "parties"),
    "unknown-topic": (
        lambda g: g.add((HCID["test-mou"], HC.topic, HCTOPIC["not-a-topic"])) or g,
        HCID["test-mou"], HC.topic, "topics"),
    "amount-without-qualifier": (
        lambda g: _without(g, HCID["test-mou#amount"], HC.amountQualifier),
        HCID["test-mou#amount"], HC.amountQualifier, "amount.qualifier"),
    "empty-quote": (
        lambda g: _replace(g, HCID["test-mou#evidence-00000005-quote"],
                           URIRef("http://www.w3.org/ns/oa#exact"), Literal("")),
        HCID["test-mou#evidence-00000005-quote"], URIRef("http://www.w3.org/ns/oa#exact"),
        "evidence.quote"),
    "deprecated-without-reason": (
        lambda g: g.add((HCID["jane-doe"], OWL.deprecated, Literal(True))) or g,
        HCID["jane-doe"], HC.deprecationReason, "deprecated"),
    "bad-checksum": (
        lambda g: _replace(g, HCID["test-source"], HC.sha256, Literal("ABC")),
        HCID["test-source"], HC.sha256, "sha256"),
    "link-without-reference": (
        lambda g: _without(g, HCID["jane-doe#wikidata-link"], HC.reference),
        HCID["jane-doe#wikidata-link"], HC.reference, "candidates.reference"),
    "source-file-with-directory": (
        lambda g: _replace(g, HCID["test-source"], HC.archivedFile, Literal("/tmp/x.txt")),
        HCID["test-source"], HC.archivedFile, "file"),
    "evidence-target-without-source": (
        lambda g: _without(g, HCID["test-mou#evidence-00000005-target"],
                           URIRef("http://www.w3.org/ns/oa#hasSource")),
        HCID["test-mou#evidence-00000005-target"], URIRef("http://www.w3.org/ns/oa#hasSource"),
        "evidence.source"),
}


@pytest.mark.parametrize("variant", sorted(BROKEN_VARIANTS))
def test_broken_data_fails_at_the_right_field(variant: str, shapes: Graph) -> None:
    """Each typical curation mistake must produce a violation on the right node, with the
    right sh:resultPath and sh:name, so the validator can point at the YAML field."""
    breaker, focus, path, name = BROKEN_VARIANTS[variant]
    results = _results(breaker(_valid_graph()), shapes)
    matching = [r for r in results
                if r["focus"] == focus and r["path"] == path and r["severity"] == SH.Violation]
    assert matching, _describe(results)
    assert all(str(r["name"]) == name and r["message"] for r in matching), _describe(matching)


def test_invalid_id_fails(shapes: Graph) -> None:
    """An id that breaks the id rules (capitals, underscores) must be caught on the entity
    itself, not only where it is referenced."""
    graph = _valid_graph()
    bad = HCID["Bad_Id"]
    for p, o in list(graph.predicate_objects(HCID.china)):
        graph.add((bad, p, o))
    results = _results(graph, shapes)
    assert any(r["focus"] == bad and r["path"] is None and r["severity"] == SH.Violation
               for r in results), _describe(results)


def test_wikidata_match_needs_a_link(shapes: Graph) -> None:
    """A sameAs/exactMatch to Wikidata without a referenced hc:Link must be rejected, so
    no match is published without the evidence for it."""
    graph = _valid_graph()
    wd = URIRef("http://www.wikidata.org/entity/Q987654399")
    graph.add((HCID.china, OWL.sameAs, wd))
    results = _results(graph, shapes)
    assert any(r["focus"] == wd and r["severity"] == SH.Violation for r in results), \
        _describe(results)


def test_links_say_when_and_why(shapes: Graph) -> None:
    """A link must say what was checked (revision or retrieval date), and a non-exact match
    must say why it is not exact; otherwise the match cannot be re-checked or understood."""
    graph = _valid_graph()
    link = HCID["jane-doe#wikidata-link"]
    graph.remove((link, HC.checkedRevision, None))
    graph.remove((link, HC.matchReason, None))
    results = [r for r in _results(graph, shapes) if r["focus"] == link]
    assert len(results) == 2, _describe(results)
    assert all(r["severity"] == SH.Violation for r in results), _describe(results)


def test_actor_without_wikidata_link_is_only_a_warning(shapes: Graph) -> None:
    """Missing Wikidata links are advice: they must be reported as warnings, never as
    violations, or the build would fail before the linker has run."""
    graph = _valid_graph()
    link = HCID["jane-doe#wikidata-link"]
    graph.remove((HCID["jane-doe"], HC.link, None))
    graph.remove((HCID["jane-doe"], SKOS.closeMatch, None))
    graph.remove((link, None, None))
    results = _results(graph, shapes)
    assert results, "expected a warning"
    assert all(r["severity"] == SH.Warning for r in results), _describe(results)
    assert any(r["focus"] == HCID["jane-doe"] and r["name"] == Literal("links")
               for r in results)
    conforms, _, _ = pyshacl.validate(graph, shacl_graph=shapes, ont_graph=None,
                                      inference="none", allow_warnings=True)
    assert conforms


def test_advice_leaves_the_data_conforming(constraints: Graph, shapes: Graph) -> None:
    """Advice is not among the constraints: an actor without a Wikidata link, or an event
    that seems to end before it starts, conforms to shapes/healthcoop-shapes.ttl by SHACL's own
    rule (no result at all, whatever the severity; no allow_warnings)."""
    graph = _valid_graph()
    graph.remove((HCID["jane-doe"], HC.link, None))
    graph.remove((HCID["jane-doe"], SKOS.closeMatch, None))
    graph.remove((HCID["jane-doe#wikidata-link"], None, None))
    graph = _replace(graph, HCID["test-signing"], SCHEMA.endDate,
                     Literal("2018-01-01", datatype=XSD.date))
    conforms, report, text = pyshacl.validate(graph, shacl_graph=constraints, ont_graph=None,
                                              inference="none")
    assert conforms and not list(report.objects(None, SH.result)), text
    advice = _results(graph, shapes)  # the same graph does get the advice
    assert {(r["name"], r["severity"]) for r in advice} == {
        (Literal("links"), SH.Warning), (Literal("start_date"), SH.Warning)}, _describe(advice)


def test_topic_shape_checks_only_our_topics(shapes: Graph) -> None:
    """The topic rules apply to the concepts of our scheme, not to a concept of another
    scheme that the description names (the EU data theme of dcat:theme): that one gets no
    result; a topic of ours that breaks a rule still does."""
    graph = _valid_graph()
    theme = URIRef("http://publications.europa.eu/resource/authority/data-theme/HEAL")
    graph.add((theme, RDF.type, SKOS.Concept))
    graph.add((theme, SKOS.prefLabel, Literal("Health", lang="en")))
    graph.add((theme, SKOS.inScheme,
               URIRef("http://publications.europa.eu/resource/authority/data-theme")))
    graph.remove((HCTOPIC["digital-health"], SKOS.definition, None))
    results = _results(graph, shapes)
    assert not [r for r in results if r["focus"] == theme], _describe(results)
    assert any(r["focus"] == HCTOPIC["digital-health"] and r["path"] == SKOS.definition
               for r in results), _describe(results)


def test_event_date_range(shapes: Graph) -> None:
    """An event that ends before it starts is most likely a typo in `start_date:` or
    `end_date:`; it is a warning because dates of different precision also trigger it."""
    graph = _replace(_valid_graph(), HCID["test-signing"], SCHEMA.endDate,
                     Literal("2018-01-01", datatype=XSD.date))
    results = _results(graph, shapes)
    assert any(r["focus"] == HCID["test-signing"] and r["path"] == SCHEMA.startDate
               for r in results), _describe(results)
    assert all(r["severity"] == SH.Warning for r in results), _describe(results)


def test_one_result_per_problem(shapes: Graph) -> None:
    """A node reached by several targets of one shape (a country is a place and an actor)
    must be checked once, so each mistake is reported once."""
    graph = _valid_graph()
    graph.remove((HCID.china, RDFS.label, None))
    results = [r for r in _results(graph, shapes)
               if r["focus"] == HCID.china and r["path"] == RDFS.label]
    assert len(results) == 1, _describe(results)


def test_blank_node_entities_are_rejected(shapes: Graph) -> None:
    """The model makes every node an IRI so that dumps are stable; a blank node where an
    entity or evidence node should be is a pipeline bug."""
    graph = _valid_graph()
    node = BNode()
    graph.add((node, RDF.type, HC.Evidence))
    results = _results(graph, shapes)
    assert any(r["focus"] == node for r in results), _describe(results)
