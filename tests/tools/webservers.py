"""Start real nginx and Apache httpd (Debian's packages, installed by .ci/install-tools) on a
loopback port with the site's generated rules and a private prefix: nothing of the system
configuration is read, nothing is written outside the temporary directory."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .site_release import free_port, wait_for_port

APACHE_MODULES = Path("/usr/lib/apache2/modules")


def nginx_present() -> bool:
    return bool(shutil.which("nginx"))


def apache_present() -> bool:
    return bool(shutil.which("apache2")) and (APACHE_MODULES / "mod_rewrite.so").is_file()


def readable_copy(site: Path) -> Path:
    """The servers' workers drop root for an unprivileged user, who must be able to read
    the site (pytest's temporary directories are private): a world-readable copy."""
    readable = Path(tempfile.mkdtemp(prefix="healthcoop-site-"))
    os.chmod(readable, 0o755)
    shutil.copytree(site, readable / "site", symlinks=False)
    for p in [readable / "site", *(readable / "site").rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    return readable


@contextlib.contextmanager
def run_nginx(site: Path, tmp: Path) -> Iterator[int]:
    port = free_port()
    readable = readable_copy(site)
    site = readable / "site"
    server = (site / "nginx.conf").read_text(encoding="utf-8")
    # the two lines a deployment changes (pipeline/site/rules.py, nginx_rules)
    server = server.replace("listen 80;", f"listen 127.0.0.1:{port};").replace(
        "root /srv/healthcoop/site;", f"root {site.resolve()};")
    (tmp / "server.conf").write_text(server, encoding="utf-8")
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / d).mkdir(exist_ok=True)
    conf = tmp / "nginx.conf"
    conf.write_text(f"""daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/server.conf;
}}
""", encoding="utf-8")
    proc = subprocess.Popen(["nginx", "-p", str(tmp), "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, proc)
        yield port
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
        shutil.rmtree(readable, ignore_errors=True)


@contextlib.contextmanager
def run_apache(site: Path, tmp: Path) -> Iterator[int]:
    port = free_port()
    readable = readable_copy(site)
    site = readable / "site"
    modules = ["mpm_event", "authz_core", "mime", "rewrite", "headers", "dir", "unixd"]
    loads = "\n".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so" for m in modules
                      if (APACHE_MODULES / f"mod_{m}.so").is_file())
    conf = tmp / "httpd.conf"
    conf.write_text(f"""{loads}
ServerRoot {tmp}
ServerName 127.0.0.1
{"User www-data" + chr(10) + "Group www-data" if os.getuid() == 0 else ""}
Listen 127.0.0.1:{port}
PidFile {tmp}/httpd.pid
ErrorLog {tmp}/error.log
LogLevel warn
DefaultRuntimeDir {tmp}
TypesConfig /dev/null
DocumentRoot {site.resolve()}
DirectoryIndex index.html
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory {site.resolve()}>
    AllowOverride All
    Options FollowSymLinks
    Require all granted
</Directory>
<Files ~ "^(\\.ht|nginx\\.conf$)">
    Require all denied
</Files>
""", encoding="utf-8")
    proc = subprocess.Popen(["apache2", "-X", "-f", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={"PATH": "/usr/sbin:/usr/bin:/bin",
                                                         "APACHE_RUN_DIR": str(tmp)})
    try:
        wait_for_port(port, proc)
        yield port
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
        shutil.rmtree(readable, ignore_errors=True)
