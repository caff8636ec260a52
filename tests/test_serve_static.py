"""The generated deployment rules (site/nginx.conf, site/.htaccess) in real nginx and real
Apache httpd give the answers `healthcoop serve` gives: the table of tests/tools/conneg.py
for /id/<id> and the documents, and tests/test_serve.py's VOCABULARY_TABLE for /ontology
and /topic/<id> (q-values weighed against each other are the server's alone, see
pipeline/site/rules.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_serve import VOCABULARY_TABLE  # noqa: E402
from tools.conneg import TABLE, check_row, hostile_problems  # noqa: E402
from tools.external import need  # noqa: E402
from tools.site_release import build_site_release  # noqa: E402
from tools.webservers import apache_present, nginx_present, run_apache, run_nginx  # noqa: E402

SECRET = b"this file is outside the site and must never be served\n"
pytestmark = pytest.mark.external


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = build_site_release(tmp_path_factory.mktemp("static"))
    (out / "outside.txt").write_bytes(SECRET)
    return out / "site"


@pytest.fixture(scope="module")
def nginx(site, tmp_path_factory):
    need(nginx_present(), "nginx (Debian nginx)")
    with run_nginx(site, tmp_path_factory.mktemp("nginx")) as port:
        yield port


@pytest.fixture(scope="module")
def apache(site, tmp_path_factory):
    need(apache_present(), "Apache httpd (Debian apache2)")
    with run_apache(site, tmp_path_factory.mktemp("apache")) as port:
        yield port


@pytest.mark.parametrize("row", TABLE, ids=lambda r: f"{r[1]} {r[0]} {r[2]}")
def test_nginx_answers_as_serve(nginx, row):
    """nginx with site/nginx.conf: same status, Location, types, Vary, CORS, validators."""
    assert check_row(nginx, row) == []


@pytest.mark.parametrize("row", TABLE, ids=lambda r: f"{r[1]} {r[0]} {r[2]}")
def test_apache_answers_as_serve(apache, row):
    """Apache httpd with site/.htaccess: same answers."""
    assert check_row(apache, row) == []


@pytest.mark.parametrize("row", VOCABULARY_TABLE, ids=lambda r: f"{r[1]} {r[0]} {r[2]}")
def test_nginx_vocabularies_answer_as_serve(nginx, row):
    """nginx: /ontology and /topic/<id> negotiate as `healthcoop serve` does."""
    assert check_row(nginx, row) == []


@pytest.mark.parametrize("row", VOCABULARY_TABLE, ids=lambda r: f"{r[1]} {r[0]} {r[2]}")
def test_apache_vocabularies_answer_as_serve(apache, row):
    """Apache httpd: /ontology and /topic/<id> negotiate as `healthcoop serve` does."""
    assert check_row(apache, row) == []


def test_nginx_hostile_paths(nginx):
    """`..`, NUL, 10 KB paths and the rules files: 4xx and nothing from outside the site."""
    assert hostile_problems(nginx, SECRET) == []


def test_apache_hostile_paths(apache):
    """The same for Apache."""
    assert hostile_problems(apache, SECRET) == []
