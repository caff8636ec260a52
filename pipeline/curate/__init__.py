"""Help for curators: `newsource` (archive a new article and register it, `healthcoop
new-source`), `draft` (a draft records file of what a new source mentions, `healthcoop
draft`) and `synthetic` (generated projects for benchmarks, `healthcoop bench generate`)."""
