"""The build at scale: clean and incremental builds of generated corpora, against the floor.

`python -m benchmarks.scale [--sizes 1000,10000,100000,1000000] [--work DIR]` (also part of
`make bench`). For each size a corpus is generated once (`healthcoop bench generate`, seed
1, kept in DIR so a rerun does not regenerate it), then, each in a fresh process:

- the clean build (`build_release`, no site, cache emptied first): wall time and peak
  resident memory of the whole build and of each stage;
- the incremental build after one record file changed (one label edited);
- the floor: pyoxigraph parsing the release's N-Triples and writing all five formats
  (N-Triples, Turtle, JSON-LD, N-Quads, TriG; the quads parsed from the N-Quads dump), a
  million statements at a time;
- the site on its own row (`write_site` over the clean release: every entity's page and
  documents, indexes, pictures), for sizes up to `--site-max` (default 10,000).

Memory: a sampler thread adds up the proportional set size (PSS, psutil; a page shared by
forked processes counts once) of the build process and all its worker processes every
50 ms, or less often when reading it costs more than 1/20 of that time (it walks the page
tables); a stage's peak is the highest sum while it ran. The
results go to benchmarks/results/scale.json; `benchmarks/results/README.md` shows them.
Timings are measurements on one machine, not tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)


class MemorySampler:
    """Resident memory of this process and its children, sampled in a thread."""

    def __init__(self, interval: float = 0.05) -> None:
        import psutil

        self.process = psutil.Process()
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _total(self) -> int:
        import psutil

        total = 0
        try:
            procs = [self.process, *self.process.children(recursive=True)]
        except psutil.Error:
            return 0
        for proc in procs:
            try:
                # PSS: a page shared by the forked workers counts once, split between them
                # (their RSS would count the inherited project in every worker)
                total += proc.memory_full_info().pss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            self.samples.append((started, self._total()))
            # reading PSS walks the page tables: for a process of gigabytes that costs tens
            # of milliseconds of kernel time, so sample less often than that costs, keeping
            # the sampler under a few per cent of one core
            cost = time.perf_counter() - started
            self._stop.wait(max(self.interval, 20 * cost))

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak_mb(self, start: float = 0.0, end: float = float("inf")) -> float:
        values = [rss for t, rss in self.samples if start <= t <= end]
        return round(max(values, default=0) / 2**20, 1)


def corpus(size: int, work: Path) -> tuple[Path, float]:
    """The generated project for `size` records (generated once), and the generation time."""
    path = work / f"corpus-{size}"
    marker = path / ".generated-ok"
    if marker.is_file():
        return path, float(marker.read_text())
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline.cli", "bench", "generate", "--records",
                    str(size), "--seed", "1", "--out", str(path)], check=True, cwd=ROOT)
    seconds = round(time.perf_counter() - started, 2)
    marker.write_text(str(seconds))
    return path, seconds


def one_build(project: Path, out: Path, mode: str) -> dict:
    """One build in this process: mode "clean" (cache emptied), "incremental" (one record
    file changed first) or "floor"."""
    from pipeline.build import build_release

    if mode == "floor":
        return floor(out)
    if mode == "site":
        return site(project, out)
    if mode == "clean":
        shutil.rmtree(project / ".cache", ignore_errors=True)
    if mode == "incremental":
        touch_one_file(project)
    timings: dict = {}
    with MemorySampler() as sampler:
        started = time.perf_counter()
        build_release(project, out, register=False, site=False, timings=timings)
        ended = time.perf_counter()
    stages, t = {}, started
    for name in ("read and check", "map, validate and write pieces", "tables", "dumps",
                 "description and checksums"):
        seconds = timings.get(name, 0.0)
        stages[name] = {"seconds": round(seconds, 2),
                        "peak_rss_mb": sampler.peak_mb(t, t + seconds)}
        t += seconds
    nt = out / "healthcoop.nt"
    return {
        "mode": mode,
        "seconds": round(ended - started, 2),
        "peak_rss_mb": sampler.peak_mb(),
        "stages": stages,
        "triples_in_dump": sum(1 for _ in nt.open("rb")),
        "nt_mb": round(nt.stat().st_size / 2**20, 1),
        "release_mb": round(sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
                            / 2**20, 1),
        "cpus": os.cpu_count(),
    }


def touch_one_file(project: Path) -> None:
    """Change one label in the middle record file: " (edited)" added, or removed again."""
    files = sorted((project / "data/records").glob("*.yaml"))
    target = files[len(files) // 2]
    lines = target.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        if line.strip().startswith("label:"):
            quote = line[-1] if line[-1] in "\"'" else ""
            body = line[:-1] if quote else line
            mark = " (edited)"
            body = body[:-len(mark)] if body.endswith(mark) else body + mark
            lines[i] = body + quote
            break
    target.write_text("\n".join(lines), encoding="utf-8")


FLOOR_CHUNK = 1_000_000  # statements the floor holds at once


def floor(out: Path) -> dict:
    """pyoxigraph alone: parse the N-Triples dump and write the three triple formats, parse
    the N-Quads dump and write N-Quads and TriG, into a scratch folder. Each dump is parsed
    once and written FLOOR_CHUNK statements at a time, every chunk serialised into each of
    its formats' files (as the build writes pieces), so that the floor's memory stays that
    of a chunk: at 1M records the parsed lists of the whole dumps would need about 45 GB."""
    import gc
    import itertools
    import tempfile

    import pyoxigraph as ox

    targets = ((out / "healthcoop.nt", ox.RdfFormat.N_TRIPLES,
                (("a.nt", ox.RdfFormat.N_TRIPLES), ("a.ttl", ox.RdfFormat.TURTLE),
                 ("a.jsonld", ox.RdfFormat.JSON_LD))),
               (out / "healthcoop.nq", ox.RdfFormat.N_QUADS,
                (("a.nq", ox.RdfFormat.N_QUADS), ("a.trig", ox.RdfFormat.TRIG))))
    # the collector off, as the build runs (pipeline/heap.py): its passes over ten million
    # parsed terms (15 s of 75 at 100k) are Python's cost, not the library's
    gc.disable()
    counts, parse_seconds, write_seconds = [], 0.0, 0.0
    try:
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp, MemorySampler() as sampler:
            started = time.perf_counter()
            for dump, dump_format, formats in targets:
                files = [(open(Path(tmp) / name, "wb"), fmt) for name, fmt in formats]
                statements = ox.parse(path=str(dump), format=dump_format)
                count = 0
                try:
                    while True:
                        step = time.perf_counter()
                        chunk = list(itertools.islice(statements, FLOOR_CHUNK))
                        parse_seconds += time.perf_counter() - step
                        if not chunk:
                            break
                        count += len(chunk)
                        step = time.perf_counter()
                        for file, fmt in files:
                            ox.serialize(chunk, file, fmt)
                        write_seconds += time.perf_counter() - step
                        del chunk
                finally:
                    for file, _fmt in files:
                        file.close()
                counts.append(count)
            ended = time.perf_counter()
    finally:
        gc.enable()
    return {"mode": "floor", "seconds": round(ended - started, 2),
            "parse_seconds": round(parse_seconds, 2),
            "write_seconds": round(write_seconds, 2), "peak_rss_mb": sampler.peak_mb(),
            "triples": counts[0], "quads": counts[1]}


def site(project: Path, out: Path) -> dict:
    """The static site written from the release in `out` (replacing its site/)."""
    from pipeline.site import write_site

    shutil.rmtree(out / "site", ignore_errors=True)
    with MemorySampler() as sampler:
        started = time.perf_counter()
        write_site(out, project)
        ended = time.perf_counter()
    files = [p for p in (out / "site").rglob("*") if p.is_file()]
    return {"mode": "site", "seconds": round(ended - started, 2),
            "peak_rss_mb": sampler.peak_mb(), "files": len(files),
            "pages": sum(1 for p in files if p.suffix == ".html"),
            "site_mb": round(sum(p.stat().st_size for p in files) / 2**20, 1)}


def run_size(size: int, work: Path, site_max: int = 10_000) -> dict:
    project, generate_seconds = corpus(size, work)
    out = work / f"output-{size}"
    row: dict = {"records": size, "generate_seconds": generate_seconds}
    for mode in ("clean", "incremental", "floor") + (("site",) if size <= site_max else ()):
        print(f"  {size:>9,} records: {mode} ...", flush=True)
        # disk: at 1M records the shard cache (32 GB) and the release (29 GB) leave no
        # room for a second release; the incremental build does not read the previous one
        # (it reuses the cache), and the floor and the site need only the release
        if mode == "incremental":
            shutil.rmtree(out, ignore_errors=True)
        if mode == "floor":
            shutil.rmtree(project / ".cache", ignore_errors=True)
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.scale", "--one", str(project), str(out), mode],
            cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            row[mode] = {"error": (done.stderr or done.stdout)[-2000:]}
            print(row[mode]["error"], file=sys.stderr)
            break
        row[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    clean, fl = row.get("clean", {}), row.get("floor", {})
    if "seconds" in clean and fl.get("seconds"):
        row["floor_ratio"] = round(clean["seconds"] / fl["seconds"], 1)
        row["ms_per_record"] = round(1000 * clean["seconds"] / size, 3)
    shutil.rmtree(out, ignore_errors=True)  # (room for the next size)
    return row


def machine() -> dict:
    import platform

    import psutil

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def readme_section(result: dict) -> str:
    """The scale table for benchmarks/results/README.md."""
    m = result["machine"]
    rows = []
    for run in result["runs"]:
        clean, inc, fl = run.get("clean", {}), run.get("incremental", {}), run.get("floor", {})
        stages = clean.get("stages", {})

        def stage(name: str, stages=stages) -> str:
            st = stages.get(name)
            if not st:
                return "–"
            memory = f"{st['peak_rss_mb']:,.0f} MB" if st["peak_rss_mb"] else "(not sampled)"
            return f"{st['seconds']} s / {memory}"

        rows.append(
            f"| {run['records']:,} | {clean.get('triples_in_dump', '–'):,} | "
            f"{clean.get('seconds', '–')} | {clean.get('peak_rss_mb', 0):,.0f} | "
            f"{run.get('ms_per_record', '–')} | {stage('read and check')} | "
            f"{stage('map, validate and write pieces')} | {stage('tables')} | "
            f"{stage('dumps')} | {stage('description and checksums')} | "
            f"{inc.get('seconds', '–')} | {fl.get('seconds', '–')} | "
            f"{run.get('floor_ratio', '–')} |")
    sites = [f"| {run['records']:,} | {run['site']['pages']:,} | {run['site']['files']:,} | "
             f"{run['site']['site_mb']:,} | {run['site']['seconds']} | "
             f"{run['site']['peak_rss_mb']:,.0f} | "
             f"{round(1000 * run['site']['seconds'] / run['records'], 2)} |"
             for run in result["runs"] if "seconds" in run.get("site", {})]
    site_table = ("\n\nThe site, on its own row: `write_site` over the clean release "
                  "(one process).\n\n| records | pages | files | MB | seconds | peak MB | "
                  "ms per record |\n|---|---|---|---|---|---|---|\n" + "\n".join(sites)
                  if sites else "")
    return f"""## The build at scale (`python -m benchmarks.scale`)

Corpora from `healthcoop bench generate --records N --seed 1`; each build in a fresh process,
without the site; peak memory is the sum of the proportional set sizes of the build process
and its workers (sampled every 50 ms or, for large processes, less often). Measured
{result['date']} on {m['cpu']}, {m['cpus']} CPUs, {m['memory_gb']} GB RAM, Python
{m['python']}. The floor: pyoxigraph parsing the N-Triples (and the N-Quads)
and writing all five formats, a million statements at a time, measured in the same run.

| records | triples in the dump | clean build s | peak MB | ms per record | read and check \
| map, validate, pieces | tables | dumps | description, checksums | one file changed s \
| floor s | build / floor |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}{site_table}
"""


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--work", type=Path, default=ROOT / ".cache" / "bench")
    parser.add_argument("--site-max", type=int, default=10_000,
                        help="measure the site for sizes up to this (default 10000)")
    parser.add_argument("--one", nargs=3, metavar=("PROJECT", "OUT", "MODE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_build(Path(args.one[0]), Path(args.one[1]), args.one[2])))
        return {}
    args.work.mkdir(parents=True, exist_ok=True)
    import datetime

    result = {"date": datetime.date.today().isoformat(), "machine": machine(), "runs": []}
    for size in (int(s) for s in args.sizes.split(",") if s):
        result["runs"].append(run_size(size, args.work, args.site_max))
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "scale.json").write_text(json.dumps(result, indent=2) + "\n",
                                            encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
