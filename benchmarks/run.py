"""`make bench`: the build at scale, then `healthcoop serve` under load.

`python -m benchmarks.run [--sizes 1000,10000,100000,1000000] [--serve-only] [--scale-only]`:
`benchmarks/scale.py` (clean and incremental builds of generated corpora against
pyoxigraph's floor; results in results/scale.json) and `benchmarks/serve.py` (requests per
second, latency and memory; results in results/serve.json). `results/README.md` gets the
scale table; its serving section is kept as written (it explains the serve figures).

Not a test: the figures depend on the machine; they are kept with the machine and date
they were measured on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SERVE_HEADING = "## Serving"


def write_readme(scale_result: dict) -> Path:
    """results/README.md: the scale section (generated) and the serving section (kept)."""
    from benchmarks.scale import readme_section

    path = RESULTS / "README.md"
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    serving = old[old.index(SERVE_HEADING):] if SERVE_HEADING in old else ""
    head = ("# Benchmarks\n\n`make bench` (`python -m benchmarks.run`). Figures are from one "
            "run on one machine; they are not a test. How each is measured: the module "
            "docstrings of `benchmarks/scale.py` and `benchmarks/serve.py`.\n\n")
    path.write_text(head + readme_section(scale_result) + "\n" + serving, encoding="utf-8")
    return path


def main() -> None:
    from benchmarks import scale, serve

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, scale.DEFAULT_SIZES)))
    parser.add_argument("--serve-only", action="store_true")
    parser.add_argument("--scale-only", action="store_true")
    args = parser.parse_args()
    if not args.serve_only:
        print("the build at scale ...", flush=True)
        result = scale.main(["--sizes", args.sizes])
        print(write_readme(result).read_text(encoding="utf-8"))
    if not args.scale_only:
        print("serve: requests per second, latency and memory of `healthcoop serve` ...")
        serve.main([])


if __name__ == "__main__":
    main()
