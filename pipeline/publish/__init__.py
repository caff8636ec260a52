"""Stage `publish`: the shards' pieces and statistics -> the files of a release.

Entry function: `pipeline.publish.release.publish_release(project, outputs, out_dir)`.
Parts: `pieces` (each shard's share of the five dumps, and the dumps assembled from them),
`describe` (the DCAT/VoID description), `jsonld` (the JSON-LD form and context), `tables`
(CSV on the Web and a Data Package), `release` (the rest: static files, checksums).
"""
