"""Stage `serve`: a built release -> HTTP (content negotiation, tombstones, reconciliation).

Entry function: `pipeline.serve.server.serve(release, host, port)` (`healthcoop serve`);
`reconcile` is the Reconciliation Service API 0.2 over the release's labels.
"""
