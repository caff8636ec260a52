"""The parsed-records cache: a record file whose bytes did not change is not parsed again.

In:  a records file's bytes (read once, by `records._load_file`), its path relative to the
     project, and the cache folder (`.cache/records/` of a build that keeps its cache).
Out: `lookup(...)`: what loading that file gave last time (its records, where each came
     from, and the issues found), or None (`lookup_file`: the same, its positions pointing
     at the file where it is now); `store(...)` keeps it for next time; `prune(...)`
     removes the entries a build did not use; `has_entries(...)`: whether there is any.

Why: parsing YAML with the position of every value is most of the read stage (3.8 s of
CPU per 10,000 generated records against 0.33 s to unpickle what it gives), and a
maintainer who changes one file of thousands should not wait for all of them.

An entry is keyed by the sha256 of the code that reads records (every module of the
package: a change to any of them may change what loading gives), the file's path and its
bytes. It holds the sha256 of its pickled payload before the payload; an entry that does
not match, cannot be read or cannot be unpickled is ignored and rewritten, never trusted.
Entries are written to a temporary name and renamed, so a build interrupted while writing
leaves no half entry behind.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path

FORMAT = b"healthcoop-record-cache 2"


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The sha256 of every Python module of the package (names and bytes)."""
    h = hashlib.sha256(FORMAT)
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        h.update(len(data := path.read_bytes()).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def entry_key(rel: str, raw: bytes) -> str:
    h = hashlib.sha256(code_digest().encode())
    h.update(rel.encode("utf-8") + b"\0")
    h.update(hashlib.sha256(raw).digest())
    return h.hexdigest()


def lookup(cache: Path, key: str):
    """The payload stored under `key`, or None when there is none or it is not intact."""
    try:
        blob = (cache / f"{key}.pickle").read_bytes()
    except OSError:
        return None
    digest, payload = blob[:32], blob[32:]
    if len(digest) != 32 or hashlib.sha256(payload).digest() != digest:
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001 - intact bytes, other classes: a stale entry
        return None


def lookup_file(cache: Path, key: str, path: Path, root: Path):
    """(relative path, RecordSet, issues) stored for a records file, its positions pointing
    at `path` in `root` (the project may have moved since it was stored), or None."""
    found = lookup(cache, key)
    if found is None:
        return None
    rel, part, items = found
    file, top = Path(path).absolute(), Path(root).absolute()
    docs = {id(d): d for d in [*part.where.documents(), *(w.doc for w in part.failed.values())]}
    for doc in docs.values():  # (the records of a file share one)
        doc.file, doc.root = file, top
    return rel, part, items


def has_entries(cache: Path | None) -> bool:
    """Whether the cache folder holds any entry (a first build has none to look up)."""
    if cache is None:
        return False
    try:
        with os.scandir(cache) as entries:
            return any(e.name.endswith(".pickle") for e in entries)
    except OSError:
        return False


def store(cache: Path, key: str, value) -> None:
    """Keep `value` under `key`; a cache that cannot be written is simply not used."""
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", dir=cache)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(hashlib.sha256(payload).digest())
                out.write(payload)
            os.replace(tmp, cache / f"{key}.pickle")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass


def prune(cache: Path, keep: set[str]) -> None:
    """Remove the entries (and leftover temporary files) whose keys are not in `keep`."""
    try:
        names = os.listdir(cache)
    except OSError:
        return
    for name in names:
        if name.endswith(".pickle") and name[:-len(".pickle")] in keep:
            continue
        if name.endswith(".pickle") or name.startswith("."):
            try:
                (cache / name).unlink()
            except OSError:
                pass
