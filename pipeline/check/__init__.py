"""Stage `check`: records and their triples -> located findings (file, line, field, fix).

Entry function: `pipeline.check.validate.check_project(root, ...)` (`healthcoop validate`).
Parts: `checks` and `relations` (cross-record checks), `register` (the URI register),
`shacl` (SHACL shard by shard, results traced back to YAML; the compiled engine is
`pipeline.shacl_fast`, pyshacl the reference), `triage` (root causes first), `validate`
(the report and its text, json, github and sarif forms).
"""
