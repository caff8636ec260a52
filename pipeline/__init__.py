"""healthcoop: curated records about international health cooperation -> linked open data.

Stages (one module each, each with one entry function):
  sources   archived texts and their registry        -> SourceText objects
  records   curated YAML                              -> typed records with file/line locations
  mapping   records                                   -> a stream of triples (rdflib terms)
  validate  records + graph + SHACL shapes            -> a report of located issues
  link      actor records + Wikidata API              -> a review file of proposed links
  publish   triples                                   -> dumps, dataset description, checksums
"""

__version__ = "0.1.0"
