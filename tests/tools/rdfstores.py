"""Real SPARQL stores for the tests: an Oxigraph server and a Virtuoso server, each on a
loopback port chosen here, with a temporary database, stopped when the test session ends.

Used by tests/test_load.py and tests/test_queries.py (import: `from tools import rdfstores`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

TOOLS = Path(__file__).resolve().parent
RIOT = TOOLS / "riot"
JS = TOOLS.parent / "js"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def oxigraph_program() -> str | None:
    """The `oxigraph` command of the venv running the tests (PyPI package `oxigraph`)."""
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.exists() else shutil.which("oxigraph")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_http(url: str, process: subprocess.Popen, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}: "
                               f"{log.read_text(errors='replace')[-2000:]}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    _stop(process)
    raise RuntimeError(f"the server did not answer at {url} within {seconds} s: "
                       f"{log.read_text(errors='replace')[-2000:]}")


@dataclass
class Oxigraph:
    base: str  # http://127.0.0.1:PORT

    @property
    def store(self) -> str:
        return self.base + "/store"

    def select(self, query: str) -> list[dict]:
        return sparql_select(self.base + "/query", query)

    def count(self, graph: str | None = None) -> int:
        pattern = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")
        return int(rows[0]["n"])

    def clear(self) -> None:
        response = requests.post(self.base + "/update", data={"update": "DROP ALL"}, timeout=30)
        response.raise_for_status()


@contextlib.contextmanager
def oxigraph_server(workdir: Path) -> Iterator[Oxigraph]:
    """`oxigraph serve --location <tmp> --bind 127.0.0.1:<free port>`, until the block ends."""
    program = oxigraph_program()
    if program is None:
        raise RuntimeError("the oxigraph command is missing: pip install oxigraph")
    port = free_port()
    log = workdir / "oxigraph.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [program, "serve", "--location", str(workdir / "store"),
             "--bind", f"127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(base + "/query?query=ASK%7B%7D", process, log, 30)
        yield Oxigraph(base)
    finally:
        _stop(process)


def sparql_select(url: str, query: str, params: dict | None = None) -> list[dict]:
    """Run a SELECT query over HTTP; rows as {variable: lexical value} (unbound left out)."""
    response = requests.post(url, data={"query": query, **(params or {})},
                             headers={"Accept": "application/sparql-results+json"}, timeout=60)
    if response.status_code >= 400:
        raise AssertionError(f"HTTP {response.status_code} from {url}: {response.text[:1000]}")
    doc = response.json()
    return [{k: v["value"] for k, v in row.items()} for row in doc["results"]["bindings"]]


# --- Virtuoso --------------------------------------------------------------------------------

VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
Striping = 0
[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DirsAllowed = ., {dir}, {data_dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
CheckpointInterval = 0
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 4
ServerThreads = 4
[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 120
"""


@dataclass
class Virtuoso:
    sql_port: int
    http_port: int
    password: str

    @property
    def sparql(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    def isql(self, statements: str) -> str:
        result = subprocess.run(
            ["isql-vt", f"127.0.0.1:{self.sql_port}", "dba", self.password,
             f"exec={statements}"],
            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        if result.returncode != 0 or "*** Error" in result.stdout + result.stderr:
            raise AssertionError(f"isql-vt failed: {result.stdout}\n{result.stderr}")
        return result.stdout

    def load_turtle(self, path: Path, graph: str) -> None:
        """Virtuoso's own Turtle loader (DB.DBA.TTLP_MT) into `graph`, replacing it."""
        self.isql(f"SPARQL CLEAR GRAPH <{graph}>; "
                  f"DB.DBA.TTLP_MT(file_to_string_output('{path}'), '', '{graph}', 0); "
                  "checkpoint;")

    def select(self, query: str, graph: str) -> list[dict]:
        return sparql_select(self.sparql, query, {"default-graph-uri": graph})


def virtuoso_program() -> str | None:
    return shutil.which("virtuoso-t")


@contextlib.contextmanager
def virtuoso_server(workdir: Path, data_dir: Path) -> Iterator[Virtuoso]:
    """`virtuoso-t -f` with a fresh database in `workdir`, bound to loopback ports only; it
    may read files under `data_dir`. The dba password of a new database is `dba`."""
    program = virtuoso_program()
    if program is None or shutil.which("isql-vt") is None:
        raise RuntimeError("Virtuoso is missing: apt-get install virtuoso-opensource")
    sql_port, http_port = free_port(), free_port()
    while http_port == sql_port:
        http_port = free_port()
    ini = workdir / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(dir=workdir, data_dir=data_dir, sql_port=sql_port,
                                       http_port=http_port))
    log = workdir / "virtuoso.out"
    with log.open("wb") as out:
        process = subprocess.Popen([program, "-f", "-c", str(ini)], cwd=workdir,
                                   stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL,
                                   env={**os.environ, "HOME": str(workdir)})
    try:
        _wait_http(f"http://127.0.0.1:{http_port}/sparql?query=ASK%7B%7D", process, log, 120)
        yield Virtuoso(sql_port, http_port, "dba")
    finally:
        _stop(process)
