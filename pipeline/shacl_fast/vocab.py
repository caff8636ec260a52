"""The SHACL, RDF and XSD terms the engine uses, as module constants (one object each, so
that dictionary lookups on them mostly hit by identity)."""

from __future__ import annotations

from rdflib import RDF, RDFS, XSD, Namespace
from rdflib.namespace import OWL

SH = Namespace("http://www.w3.org/ns/shacl#")
SH_NS = str(SH)

RDF_TYPE = RDF.type
RDF_FIRST = RDF.first
RDF_REST = RDF.rest
RDF_NIL = RDF.nil
RDF_LANGSTRING = RDF.langString
RDFS_SUBCLASSOF = RDFS.subClassOf
RDFS_CLASS = RDFS.Class
RDFS_LITERAL = RDFS.Literal
RDFS_DATATYPE = RDFS.Datatype
RDFS_RESOURCE = RDFS.Resource
OWL_CLASS = OWL.Class
OWL_SAMEAS = OWL.sameAs

XSD_STRING = XSD.string
XSD_INTEGER = XSD.integer
XSD_FLOAT = XSD.float
XSD_DECIMAL = XSD.decimal
XSD_BOOLEAN = XSD.boolean
XSD_DATE = XSD.date
XSD_TIME = XSD.time
XSD_DATETIME = XSD.dateTime
XSD_WHOLE_INTEGERS = {XSD.integer, XSD.positiveInteger, XSD.negativeInteger, XSD.int,
                      XSD.nonNegativeInteger, XSD.nonPositiveInteger, XSD.long, XSD.short,
                      XSD.unsignedInt, XSD.unsignedLong, XSD.unsignedShort,
                      XSD.unsignedByte}

VIOLATION = SH.Violation
WARNING = SH.Warning
INFO = SH.Info

# every sh: term a shapes graph may use that this engine understands (as a predicate);
# anything else in the sh: namespace makes compile_shapes raise NotImplementedError
PARAMETERS = {SH[n] for n in (
    "class", "datatype", "nodeKind", "minCount", "maxCount", "minExclusive", "minInclusive",
    "maxExclusive", "maxInclusive", "not", "and", "or", "xone", "minLength", "maxLength",
    "pattern", "languageIn", "uniqueLang", "equals", "disjoint", "lessThan",
    "lessThanOrEquals", "node", "property", "qualifiedValueShape", "qualifiedMinCount",
    "qualifiedValueShapesDisjoint", "qualifiedMaxCount", "closed", "ignoredProperties",
    "hasValue", "in")}
# sh:sparql is a constraint parameter too (SPARQL-based constraints), not implemented here
UNSUPPORTED_PARAMETERS = {SH.sparql}
OTHER_PREDICATES = {SH[n] for n in (
    # targets and paths
    "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "path",
    "inversePath", "alternativePath", "zeroOrMorePath", "oneOrMorePath", "zeroOrOnePath",
    # shape settings that change results
    "severity", "deactivated", "message", "flags",
    # non-validating annotations (SHACL 1.0 section 2.3.2) and prefix declarations
    "name", "description", "order", "group", "defaultValue", "declare", "prefix",
    "namespace")}
KNOWN_CLASSES = {SH.NodeShape, SH.PropertyShape, SH.PropertyGroup, SH.PrefixDeclaration}

# the ConstraintComponent IRIs results can carry
COMPONENTS = {name: SH[name + "ConstraintComponent"] for name in (
    "Class", "Datatype", "NodeKind", "MinCount", "MaxCount", "MinExclusive", "MinInclusive",
    "MaxExclusive", "MaxInclusive", "Not", "And", "Or", "Xone", "MinLength", "MaxLength",
    "Pattern", "LanguageIn", "UniqueLang", "Equals", "Disjoint", "LessThan",
    "LessThanOrEquals", "Node", "QualifiedMinCount", "QualifiedMaxCount", "Closed",
    "HasValue", "In")}
