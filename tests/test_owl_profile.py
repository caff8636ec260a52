"""The ontology is OWL 2 DL, and a DL reasoner accepts it with the data.

Consumers open ontology/healthcoop.ttl in Protégé or run a reasoner on it with the data.
Two independent tools judge that here:

* the OWL API's OWL 2 DL profile checker (Debian libowlapi-java, run through
  tests/tools/owl-profile), on the ontology alone and on the ontology together with the
  topic scheme (ontology/topics.ttl) as one document;
* HermiT (inside PyPI owlready2, which runs it with Java): the ontology loads without any
  option, and ontology plus the built data (healthcoop.nt) is consistent with no
  unsatisfiable class.

The data's dates use xsd:date, xsd:gYear, xsd:gYearMonth and its durations xsd:duration,
which are right for RDF consumers but not in the OWL 2 datatype map: HermiT is therefore
run on the data with `ignore_unsupported_datatypes`, which makes it treat such literals as
opaque values; a test checks that those four are the only datatypes it does not know.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from tools.external import OWL_PROFILE, need, owlapi_present

pytestmark = pytest.mark.external

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology" / "healthcoop.ttl"
TOPICS = ROOT / "ontology" / "topics.ttl"
XSD = "http://www.w3.org/2001/XMLSchema#"
# OWL 2 Structural Specification, section 4 (Datatype Maps), plus rdf:langString and
# rdf:PlainLiteral, the datatypes of language-tagged strings
OWL2_DATATYPES = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#PlainLiteral",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#XMLLiteral",
    "http://www.w3.org/2000/01/rdf-schema#Literal",
    "http://www.w3.org/2002/07/owl#real", "http://www.w3.org/2002/07/owl#rational",
    *(XSD + t for t in (
        "decimal integer nonNegativeInteger nonPositiveInteger positiveInteger "
        "negativeInteger long int short byte unsignedLong unsignedInt unsignedShort "
        "unsignedByte double float string normalizedString token language Name NCName "
        "NMTOKEN boolean hexBinary base64Binary anyURI dateTime dateTimeStamp").split()),
}
# what the data uses beyond the map, and why it is right for the data (docs/model.md)
OPAQUE_TO_HERMIT = {XSD + "date", XSD + "gYear", XSD + "gYearMonth", XSD + "duration"}


def need_java() -> None:
    need(shutil.which("java"), "java (default-jre-headless)")


def profile(*paths: Path) -> tuple[int, list[list[str]]]:
    """The OWL API profile checker's exit status and violations ([file, kind, text])."""
    need(owlapi_present(), "the OWL API (libowlapi-java) with javac")
    result = subprocess.run([str(OWL_PROFILE), *map(str, paths)], capture_output=True,
                            text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.returncode, [line.split("\t", 2) for line in result.stdout.splitlines()]


def as_ntriples(paths: list[Path], out: Path) -> Path:
    """One N-Triples document holding the triples of all `paths` (Turtle)."""
    triples = [t for p in paths for t in ox.parse(path=str(p), format=ox.RdfFormat.TURTLE)]
    ox.serialize(triples, str(out), ox.RdfFormat.N_TRIPLES)
    return out


def hermit(files: list[Path], *, ignore_unsupported_datatypes: bool) -> dict:
    """Load N-Triples files into one owlready2 world and run HermiT on it: whether it is
    consistent, the unsatisfiable classes, and how long the reasoner took."""
    import owlready2

    need_java()
    world = owlready2.World()
    for path in files:
        world.get_ontology(path.resolve().as_uri()).load(format="ntriples")
    started = time.perf_counter()
    try:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0,
                                       ignore_unsupported_datatypes=ignore_unsupported_datatypes)
        consistent = True
    except owlready2.OwlReadyInconsistentOntologyError:
        consistent = False
    seconds = time.perf_counter() - started
    unsatisfiable = sorted(c.iri for c in world.inconsistent_classes()) if consistent else []
    return {"consistent": consistent, "unsatisfiable": unsatisfiable, "seconds": seconds,
            "triples": len(world.graph)}


@pytest.fixture(scope="module")
def ontology_nt(tmp_path_factory) -> Path:
    """The ontology and the topic scheme, as one N-Triples document."""
    return as_ntriples([ONTOLOGY, TOPICS], tmp_path_factory.mktemp("owl") / "ontology.nt")


def test_ontology_is_in_the_owl2_dl_profile(ontology_nt):
    """The OWL API finds no OWL 2 DL violation in ontology/healthcoop.ttl, alone or together
    with the topic scheme. Before: `rdfs:range rdf:Property` on hc:supportsProperty and
    hc:matchType, skos:altLabel used undeclared, `rdfs:range xsd:date` (not in the OWL 2
    datatype map); with topics.ttl also every SKOS term undeclared."""
    status, violations = profile(ONTOLOGY, ontology_nt)
    assert (status, violations) == (0, [])


def test_profile_checker_reports_violations(tmp_path):
    """The checker is a real judge: a small ontology with exactly the kinds of mistake the
    issue found gets exactly those violations (not zero, not a parse error)."""
    bad = tmp_path / "bad.ttl"
    bad.write_text("""
        @prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        <http://example.org/o> a owl:Ontology .
        <http://example.org/C> a owl:Class ; skos:altLabel "C"@en .
        <http://example.org/p> a owl:ObjectProperty ; rdfs:range rdf:Property .
        <http://example.org/d> a owl:DatatypeProperty ; rdfs:range xsd:date .
        """, encoding="utf-8")
    status, violations = profile(bad)
    assert status == 1
    assert {v[1] for v in violations} == {"UseOfUndeclaredAnnotationProperty",
                                          "UseOfReservedVocabularyForClassIRI",
                                          "UseOfUndeclaredDatatype"}


def test_hermit_loads_the_ontology_as_it_is(ontology_nt):
    """HermiT reasons over the ontology and topic scheme with no option at all (as Protégé
    runs it): consistent, no unsatisfiable class. Before, it refused the ontology with
    UnsupportedDatatypeException (the xsd:date range of hc:decisionDate)."""
    result = hermit([ontology_nt], ignore_unsupported_datatypes=False)
    assert result["consistent"]
    assert result["unsatisfiable"] == []


def test_hermit_ontology_and_data_are_consistent(ontology_nt, release_dir):
    """The ontology plus the whole built data (healthcoop.nt: data, description, links,
    topics) is consistent in HermiT, no class is unsatisfiable, and it takes well under a
    minute. Literals of the four datatypes outside the OWL 2 map are opaque to HermiT."""
    result = hermit([ontology_nt, release_dir / "healthcoop.nt"],
                    ignore_unsupported_datatypes=True)
    data_triples = sum(1 for _ in ox.parse(path=str(release_dir / "healthcoop.nt"),
                                           format=ox.RdfFormat.N_TRIPLES))
    assert result["triples"] >= data_triples  # the data really was loaded
    assert result["consistent"]
    assert result["unsatisfiable"] == []
    assert result["seconds"] < 60, result


def test_only_dates_and_durations_are_opaque_to_hermit(release_dir):
    """The literals HermiT cannot interpret (so ignores as opaque values above) are only
    xsd:date, xsd:gYear, xsd:gYearMonth and xsd:duration: a new datatype in the data would
    fail here and has to be checked to be what the data means."""
    used = {t.object.datatype.value
            for t in ox.parse(path=str(release_dir / "healthcoop.nt"),
                              format=ox.RdfFormat.N_TRIPLES)
            if isinstance(t.object, ox.Literal)}
    assert used - OWL2_DATATYPES <= OPAQUE_TO_HERMIT, used - OWL2_DATATYPES


def test_hermit_finds_an_inconsistency_in_the_data(ontology_nt, release_dir, tmp_path):
    """HermiT really reasons over the data: one added triple that contradicts the ontology
    (a text as hc:attendeeCount, whose range is xsd:integer) makes the whole inconsistent."""
    bad = tmp_path / "bad.nt"
    shutil.copyfile(release_dir / "healthcoop.nt", bad)
    with bad.open("a", encoding="utf-8") as out:
        out.write('<https://w3id.org/healthcoop/id/uk-china-health-dialogue> '
                  '<https://w3id.org/healthcoop/ontology#attendeeCount> "many" .\n')
    result = hermit([ontology_nt, bad], ignore_unsupported_datatypes=True)
    assert not result["consistent"]
