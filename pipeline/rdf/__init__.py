"""Stage `rdf`: records -> triples with their origins. Entry function:
`pipeline.rdf.mapping.map_record(record, ctx)`; `vocab` holds the namespaces and the
record-type -> class table."""
