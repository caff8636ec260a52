"""Stage `read`: the project's files -> typed sources and records with positions, checked.

Entry function: `pipeline.read.project.load_project(root)`. Parts: `yamlfile` (YAML with the
line of every value), `sources` (the archived texts and their registry), `records` (the
record models), `dataset_meta` (data/dataset.yaml), `project` (all of it, and the checks
that need every record).
"""
