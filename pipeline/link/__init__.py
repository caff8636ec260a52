"""Stage `link` (being split into parts: this commit only moves the files).

`pipeline.link.run` is today's `pipeline/link.py`; everything it defined or re-exported is
still importable from `pipeline.link` until the next commit splits it.
"""

from .run import *  # noqa: F401,F403 - transitional: the next commit re-exports by name
from .run import ENRICHMENT_GRAPH, LinkOptions, check_review_file, run_link  # noqa: F401
