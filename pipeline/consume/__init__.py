"""What consumers do with releases: `diff` (what changed between two, `healthcoop diff`) and
`load` (into a SPARQL store over the Graph Store Protocol, `healthcoop load`)."""
