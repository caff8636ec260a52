"""Benchmark `healthcoop validate` and `healthcoop build`: the real dataset, 10x and 100x copies.

Run with `make bench` (or `python -m benchmarks.run [--copies N] [--whole-graph]`). Each
measurement runs in a fresh Python process, so its peak resident memory
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`) belongs to that run alone. Results go to
`benchmarks/results/validate.json` and a short `benchmarks/results/README.md`.

The synthetic copy is made in a temporary directory: every record file is written N times,
with every record id (and every reference to a record) suffixed `-c<k>` in copy k (copy 0
keeps the real ids), so copy k refers only to copy k; sources, topics, ontology and shapes
are shared. The URI register is generated for it, so the run is a clean one (no 16,000
"new IRI" warnings).

This is not a timed test: numbers depend on the machine; they are kept with the machine
and date they were measured on.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


def make_synthetic(root: Path, dest: Path, copies: int) -> Path:
    """A copy of the project at `root` with `copies` suffixed copies of every record."""
    import yaml

    from pipeline.errors import IssueList
    from pipeline.records import KINDS, load_records, record_files
    from pipeline.yamlfile import load_yaml

    for part in ("ontology", "shapes"):
        shutil.copytree(root / part, dest / part)
    (dest / "data" / "records").mkdir(parents=True)
    shutil.copytree(root / "data" / "sources", dest / "data" / "sources")
    for name in ("sources.yaml", "dataset.yaml"):
        if (root / "data" / name).exists():
            shutil.copy(root / "data" / name, dest / "data" / name)
    ids = set(load_records(root).records)
    reference_fields = {"id", "replaced_by"}
    for cls in KINDS.values():
        reference_fields |= set(cls.reference_fields)

    def suffixed(value, k: int):
        # copy 0 keeps the real ids, so that data/sources.yaml (publishers) still resolves
        if k == 0:
            return value
        if isinstance(value, str) and value in ids:
            return f"{value}-c{k}"
        if isinstance(value, list):
            return [suffixed(v, k) for v in value]
        return value

    for path in record_files(root):
        doc = load_yaml(path, root, IssueList())
        if doc is None or not isinstance(doc.data, dict):
            continue
        for k in range(copies):
            data = {}
            for kind, records in doc.data.items():
                data[kind] = [
                    {key: (suffixed(value, k) if key in reference_fields else value)
                     for key, value in record.items()}
                    for record in records or []
                ]
            out = dest / "data" / "records" / f"{path.stem}-c{k}.yaml"
            out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100),
                           encoding="utf-8")
    return dest


def measure(root: Path, whole_graph: bool = False, build: bool = False) -> dict:
    """One run in a fresh process: wall time, the validator's own figures, peak RSS."""
    code = "build" if build else "whole" if whole_graph else "batched"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--one", str(root), code],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"benchmark run failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds_including_start_up"] = round(wall, 2)
    return result


def one(root: Path, mode: str) -> None:
    """Inside the measuring process."""
    from pipeline.validate import peak_rss_mb, validate_project

    baseline = peak_rss_mb()
    started = time.perf_counter()
    if mode == "whole":
        result = _whole_graph(root)
    elif mode == "build":
        result = _build(root)
    else:
        report = validate_project(root)
        result = {"errors": len(report.errors), "warnings": len(report.warnings),
                  **report.stats}
    key = "build_seconds" if mode == "build" else "validate_seconds"
    result[key] = round(time.perf_counter() - started, 2)
    result["peak_rss_mb"] = peak_rss_mb()
    result["rss_before_mb"] = baseline
    print(json.dumps(result))


def _build(root: Path) -> dict:
    """The whole build (validate, map, write every format, gzip, describe) into a temporary
    directory; the figures of what it wrote."""
    from pipeline.build import build_release

    with tempfile.TemporaryDirectory(prefix="healthcoop-bench-build-") as tmp:
        out = build_release(root, Path(tmp) / "output", register=False)
        with (out / "healthcoop.nt").open("rb") as nt:
            triples = sum(1 for _ in nt)
        sizes = {p.name: p.stat().st_size for p in out.iterdir() if p.is_file()}
    return {"dump_triples": triples, "nt_mb": round(sizes["healthcoop.nt"] / 2**20, 1),
            "release_mb": round(sum(sizes.values()) / 2**20, 1)}


def _whole_graph(root: Path) -> dict:
    """For comparison: pyshacl once over one rdflib graph of everything."""
    import pyshacl
    from rdflib import Graph

    from pipeline.build import load_project
    from pipeline.mapping import MappingContext, map_dataset

    project = load_project(root)
    graph = Graph()
    for triple in map_dataset(MappingContext(project.records, project.sources)):
        graph.add(triple)
    graph.parse(root / "ontology" / "topics.ttl")
    shapes = Graph()
    for path in sorted((root / "shapes").glob("*.ttl")):
        shapes.parse(path)
    started = time.perf_counter()
    conforms, _report, _text = pyshacl.validate(graph, shacl_graph=shapes, inference="none",
                                                allow_warnings=True)
    return {"triples": len(graph), "shacl_seconds": round(time.perf_counter() - started, 2),
            "conforms": conforms}


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    import pyshacl
    import rdflib

    info["pyshacl"] = pyshacl.__version__
    info["rdflib"] = rdflib.__version__
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--whole-graph", action="store_true",
                        help="also time pyshacl over one big graph (1x and 10x), to compare")
    parser.add_argument("--serve-only", action="store_true",
                        help="only the serve benchmark (benchmarks/serve.py)")
    parser.add_argument("--one", nargs=2, metavar=("ROOT", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(Path(args.one[0]), args.one[1])
        return
    from benchmarks import serve

    if args.serve_only:
        serve.main([])
        return
    runs: dict[str, dict] = {}
    print("validate: the repository's dataset ...", flush=True)
    runs["dataset_1x"] = measure(ROOT)
    print("build: the repository's dataset ...", flush=True)
    runs["build_1x"] = measure(ROOT, build=True)
    with tempfile.TemporaryDirectory(prefix="healthcoop-bench-") as tmp:
        for copies in sorted({10, args.copies}):
            print(f"validate: a {copies}x synthetic copy ...", flush=True)
            project = make_synthetic(ROOT, Path(tmp) / f"x{copies}", copies)
            from pipeline.build import load_project
            from pipeline.register import update_register

            update_register(project, load_project(project))
            runs[f"synthetic_{copies}x"] = measure(project)
            print(f"build: a {copies}x synthetic copy ...", flush=True)
            runs[f"build_{copies}x"] = measure(project, build=True)
            if args.whole_graph and copies <= 10:
                print(f"pyshacl over one graph, {copies}x ...", flush=True)
                runs[f"whole_graph_{copies}x"] = measure(project, whole_graph=True)
        if args.whole_graph:
            print("pyshacl over one graph, 1x ...", flush=True)
            runs["whole_graph_1x"] = measure(ROOT, whole_graph=True)
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "how": "each run in a fresh process; peak RSS from getrusage(RUSAGE_SELF).ru_maxrss; "
               "validate_seconds = validate_project() wall time (load, checks, register, "
               "mapping, SHACL); shacl_seconds = time inside pyshacl; build_seconds = "
               "build_release() wall time",
        "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "validate.json").write_text(json.dumps(result, indent=2) + "\n",
                                           encoding="utf-8")
    (RESULTS / "README.md").write_text(readme(result), encoding="utf-8")
    print(readme(result))
    print("serve: requests per second, latency and memory of `healthcoop serve` ...")
    serve.main([])  # its figures: benchmarks/results/serve.json


def readme(result: dict) -> str:
    m = result["machine"]
    rows, builds = [], []
    for name, run in result["runs"].items():
        if name.startswith("build_"):
            builds.append(f"| {name} | {run['dump_triples']} | {run['build_seconds']} | "
                          f"{run['peak_rss_mb']} | {run['nt_mb']} | {run['release_mb']} |")
            continue
        rows.append(f"| {name} | {run.get('records', '–')} | {run.get('triples', '–')} | "
                    f"{run.get('batches', '–')} | {run.get('validate_seconds', '–')} | "
                    f"{run.get('shacl_seconds', '–')} | {run.get('peak_rss_mb', '–')} |")
    return f"""# Benchmarks

`make bench` (`python -m benchmarks.run`) times `healthcoop validate` (records checks, URI
register, mapping and SHACL in batches) on the repository's dataset and on synthetic copies
of it (every record written N times with suffixed ids; see `benchmarks/run.py`). Figures
are from one run on one machine; they are not a test.

Measured {result['date']} on {m.get('cpu', 'unknown CPU')}, {m.get('cpus')} CPUs,
{m.get('memory_gb', '?')} GB RAM, {m.get('platform')}, Python {m.get('python')},
pyshacl {m.get('pyshacl')}, rdflib {m.get('rdflib')}.

| run | records | triples | SHACL batches | validate s | in pyshacl s | peak RSS MB |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

How: {result['how']}. `whole_graph_*` rows (with `--whole-graph`) run pyshacl once over
one rdflib graph of everything, for comparison with the batched validator.

`healthcoop build` (validate, then map, write Turtle, N-Triples, JSON-LD, N-Quads, TriG,
gzip, description and checksums) into a temporary directory, each in a fresh process:

| run | triples in the dumps | build s | peak RSS MB | N-Triples MB | release MB |
|---|---|---|---|---|---|
{chr(10).join(builds)}
"""


if __name__ == "__main__":
    main()
