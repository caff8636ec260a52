"""Benchmark `healthcoop serve`: requests per second, p50/p99 latency and resident memory.

Run with `python -m benchmarks.serve [--seconds S] [--connections C]` (`make bench` runs it
after the validate/build benchmarks). It builds the repository's release into a temporary
directory, starts `healthcoop serve` on 127.0.0.1 in its own process, and drives it with a
bounded local load generator: Debian's `wrk` (C, one thread, C keep-alive connections,
fixed duration) when installed, else a small Python thread pool (same shape; it competes
with the server for the CPU, so its figures are lower bounds). Scenarios:

  - `page`:      GET /doc/<id>.html, rotating over every entity;
  - `turtle`:    GET /doc/<id>.ttl, likewise;
  - `redirect`:  GET /id/<id> with `Accept: text/turtle` (303), likewise;
  - `reconcile`: POST /reconcile with a batch of 10 queries (labels of the release), one
    connection (OpenRefine sends one batch at a time); `reconcile_concurrent`: the same
    over all C connections;
  - `reconcile_concurrent_workers`: the same again against a second server started with
    `--workers W` (default: the number of CPUs), pre-forked processes sharing the socket.

The server's resident memory is read from /proc/<pid>/status (VmRSS after the run, VmHWM
peak) of the one-process server; `workers_rss_mb` is the largest VmRSS among the workers.
Results go to `benchmarks/results/serve.json`; numbers belong to the machine and date they
were measured on (this is not a test).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"page": (2000, 20), "turtle": (2000, 20), "redirect": (2000, 20),
           "reconcile": (None, 50), "reconcile_concurrent": (None, 50),
           "reconcile_concurrent_workers": (None, 50)}
# (req/s at least, p99 ms at most). `reconcile` sends one batch at a time, as OpenRefine does
# (it waits for each batch's answer); `reconcile_concurrent` uses every connection.


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss(pid: int) -> dict:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            name, value = line.split(":", 1)
            out[name.lower() + "_mb"] = round(int(value.split()[0]) / 1024, 1)
    return out


def _batch(labels: list[str], k: int) -> str:
    chosen = [labels[(k * 10 + i) % len(labels)] for i in range(10)]
    return json.dumps({f"q{i}": {"query": q} for i, q in enumerate(chosen)})


def _wrk_script(scenario: str, ids: list[str], labels: list[str]) -> str:
    """A wrk Lua script that rotates over the paths (or batches) of one scenario."""
    if scenario == "reconcile":
        bodies = [urlencode({"queries": _batch(labels, k)}) for k in range(20)]
        items = ",".join(json.dumps(b) for b in bodies)
        return (f"local bodies = {{{items}}}\nlocal n = 0\n"
                "request = function()\n  n = n % #bodies + 1\n"
                "  return wrk.format('POST', '/reconcile', "
                "{['Content-Type'] = 'application/x-www-form-urlencoded'}, bodies[n])\nend\n")
    paths = {"page": "/doc/{}.html", "turtle": "/doc/{}.ttl", "redirect": "/id/{}"}[scenario]
    items = ",".join(json.dumps(paths.format(i)) for i in ids)
    headers = "{['Accept'] = 'text/turtle'}" if scenario == "redirect" else "{}"
    return (f"local paths = {{{items}}}\nlocal n = 0\n"
            "request = function()\n  n = n % #paths + 1\n"
            f"  return wrk.format('GET', paths[n], {headers}, nil)\nend\n")


def _wrk(port: int, scenario: str, ids, labels, seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_wrk_script(scenario, ids, labels))
    try:
        done = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
                               "--latency", "-s", f.name, f"http://127.0.0.1:{port}"],
                              capture_output=True, text=True, check=True)
    finally:
        os.unlink(f.name)
    text = done.stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return round(value / 1000 if unit == "us" else value * 1000 if unit == "s"
                     else value, 2)

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sockerr = re.search(r"Socket errors: (.*)", text)
    return {"requests_per_second": round(rps), "p50_ms": ms("50"), "p99_ms": ms("99"),
            "non_2xx_3xx": int(errors.group(1)) if errors else 0,
            "socket_errors": sockerr.group(1) if sockerr else "none"}


def _python(port: int, scenario: str, ids, labels, seconds: int, connections: int) -> dict:
    """The fallback generator: `connections` threads, one keep-alive connection each."""
    latencies: list[float] = []
    bad = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(w: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, n = [], w
        while time.perf_counter() < deadline:
            n += connections
            started = time.perf_counter()
            if scenario == "reconcile":
                conn.request("POST", "/reconcile", urlencode({"queries": _batch(labels, n)}),
                             {"Content-Type": "application/x-www-form-urlencoded"})
            else:
                ident = ids[n % len(ids)]
                path = {"page": f"/doc/{ident}.html", "turtle": f"/doc/{ident}.ttl",
                        "redirect": f"/id/{ident}"}[scenario]
                conn.request("GET", path, headers={"Accept": "text/turtle"})
            resp = conn.getresponse()
            resp.read()
            mine.append(time.perf_counter() - started)
            if resp.status >= 400:
                with lock:
                    bad[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {"requests_per_second": round(len(latencies) / elapsed),
            "p50_ms": round(cuts[49] * 1000, 2), "p99_ms": round(cuts[98] * 1000, 2),
            "non_2xx_3xx": bad[0], "socket_errors": "none"}


def _start(release: Path, port: int, workers: int = 1) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "serve", str(release),
                             "--port", str(port), "--workers", str(workers)], cwd=ROOT,
                            env={**os.environ, "HEALTHCOOP_SERVE_QUIET": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    _, err = proc.communicate(timeout=20)
    if b"Traceback" in err:
        raise SystemExit(f"the server printed a traceback:\n{err.decode(errors='replace')}")


def run(seconds: int = 10, connections: int = 8, workers: int | None = None) -> dict:
    """Build, serve, load each scenario in turn; the figures as a dict."""
    from pipeline.build import build_release
    from pipeline.serve.reconcile import load_service

    tool = "wrk" if shutil.which("wrk") else "python-threads"
    load = _wrk if tool == "wrk" else _python
    with tempfile.TemporaryDirectory(prefix="healthcoop-bench-serve-") as tmp:
        release = build_release(ROOT, Path(tmp) / "output", register=False)
        status = json.loads((release / "site" / "status.json").read_text())
        ids = status["entities"]
        service = load_service(release)
        labels = sorted(e.name for e in service.entities.values())
        port = _free_port()
        proc = _start(release, port)
        try:
            rss_idle = _rss(proc.pid)
            scenarios = {}
            for scenario in list(TARGETS)[:-1]:
                print(f"serve: {scenario} ({tool}, {seconds} s) ...", flush=True)
                conns = 1 if scenario == "reconcile" else connections
                kind = scenario.removesuffix("_concurrent")
                scenarios[scenario] = load(port, kind, ids, labels, seconds, conns)
                scenarios[scenario]["connections"] = conns
                scenarios[scenario]["rss_after_mb"] = _rss(proc.pid).get("vmrss_mb")
            rss = _rss(proc.pid)
        finally:
            _stop(proc)
        workers = workers or os.cpu_count() or 2
        port = _free_port()
        proc = _start(release, port, workers)
        try:
            print(f"serve: reconcile_concurrent_workers ({tool}, {seconds} s, "
                  f"{workers} workers) ...", flush=True)
            figures = load(port, "reconcile", ids, labels, seconds, connections)
            kids = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            figures.update(connections=connections, workers=workers, workers_rss_mb=max(
                (_rss(int(k)).get("vmrss_mb", 0) for k in kids), default=None))
            scenarios["reconcile_concurrent_workers"] = figures
        finally:
            _stop(proc)
    for name, figures in scenarios.items():
        min_rps, max_p99 = TARGETS[name]
        figures["meets_target"] = ((min_rps is None or figures["requests_per_second"] >= min_rps)
                                   and figures["p99_ms"] <= max_p99)
    return {"date": datetime.date.today().isoformat(), "tool": tool, "seconds": seconds,
            "connections": connections, "entities": len(ids),
            "server_rss_idle_mb": rss_idle.get("vmrss_mb"),
            "server_rss_end_mb": rss.get("vmrss_mb"), "server_rss_peak_mb": rss.get("vmhwm_mb"),
            "targets": {k: {"min_rps": a, "max_p99_ms": b} for k, (a, b) in TARGETS.items()},
            "scenarios": scenarios}


def table(result: dict) -> str:
    rows = [f"| {name} | {f['requests_per_second']} | {f['p50_ms']} | {f['p99_ms']} | "
            f"{f['non_2xx_3xx']} | {'yes' if f['meets_target'] else 'no'} |"
            for name, f in result["scenarios"].items()]
    return ("| scenario | req/s | p50 ms | p99 ms | errors | meets target |\n"
            "|---|---|---|---|---|---|\n" + "\n".join(rows) +
            f"\n\nServer RSS: {result['server_rss_idle_mb']} MB idle, "
            f"{result['server_rss_end_mb']} MB after the runs, peak "
            f"{result['server_rss_peak_mb']} MB.")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=None,
                        help="workers of the second server (default: the number of CPUs)")
    args = parser.parse_args(argv)
    from benchmarks.scale import machine

    result = run(args.seconds, args.connections, args.workers)
    result["machine"] = machine()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "serve.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))
    return result


if __name__ == "__main__":
    main()
