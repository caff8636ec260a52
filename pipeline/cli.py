"""The `healthcoop` command: a thin layer that parses arguments, calls one library function
per command, and turns a HealthcoopError into a clean message and exit code
(0 ok, 1 invalid data, 2 usage or environment error)."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import click

from pipeline import __version__
from pipeline.errors import EnvironmentProblem, HealthcoopError
from pipeline.terminal import terminal_safe

ROOT_OPTION = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Project root holding data/, ontology/ and shapes/.",
)


class HealthcoopGroup(click.Group):
    """Turns whatever a command meets into a message and an exit code, never a traceback:
    a HealthcoopError into its own message and code; an operating-system error (disk full,
    permission denied, read-only file system) into exit 2; anything else into exit 2 with
    "internal error" (a bug: set HEALTHCOOP_DEBUG=1 to see the traceback)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except HealthcoopError as err:
            _report(err)
            sys.exit(err.exit_code)
        except KeyboardInterrupt:
            _echo_err("interrupted: nothing half-written was kept (output/ is as it was).")
            sys.exit(130)
        except OSError as err:
            _report(EnvironmentProblem(describe_os_error(err), fix=os_error_fix(err)))
            sys.exit(2)
        except (RecursionError, MemoryError) as err:
            _report(EnvironmentProblem(
                f"an input is too deeply nested or too large to process ({type(err).__name__}).",
                fix="Look for a value nested hundreds of levels deep or a huge file."))
            sys.exit(2)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException,
                SystemExit):
            raise
        except Exception as err:  # noqa: BLE001 - the last line of defence, see docstring
            if os.environ.get("HEALTHCOOP_DEBUG"):
                raise
            _echo_err(f"internal error (a bug in healthcoop, please report it): "
                      f"{type(err).__name__}: {err}")
            _echo_err("fix: set HEALTHCOOP_DEBUG=1 and run again to see where it happened.")
            sys.exit(2)


def say(text: str) -> None:
    """Print a line for people: text from files or servers may hold escape sequences."""
    click.echo(terminal_safe(text))


def _echo_err(text: str) -> None:
    click.echo(terminal_safe(text), err=True)


def _report(err: HealthcoopError) -> None:
    _echo_err(f"error: {err.message}")
    for issue in err.issues[:50]:
        _echo_err(f"  {issue.location()}: {issue.field}: {issue.message}")
    if len(err.issues) > 50:
        _echo_err(f"  … and {len(err.issues) - 50} more (`healthcoop validate` lists them all)")
    if err.fix:
        _echo_err(f"fix: {err.fix}")


def describe_os_error(err: OSError) -> str:
    """What the operating system refused, in words, with the file it refused."""
    where = f" ({err.filename})" if getattr(err, "filename", None) else ""
    code = _errno_of(err)
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exhausted",
        errno.EFBIG: "a file grew larger than the file system or a limit allows",
        errno.EACCES: "permission denied",
        errno.EPERM: "the operation is not permitted (an immutable or protected file?)",
        errno.EROFS: "the file system is read-only",
        errno.ENOENT: "a file or directory does not exist",
        errno.ENOTDIR: "a path component is not a directory",
        errno.EISDIR: "a directory was found where a file was expected",
        errno.EMFILE: "too many open files",
    }
    reason = reasons.get(code, err.strerror or str(err) or type(err).__name__)
    return f"cannot go on: {reason}{where}."


def _errno_of(err: OSError) -> int | None:
    """The errno; libraries written in Rust (pyoxigraph) raise OSError without one but say
    "(os error 27)" in the message."""
    if err.errno is not None:
        return err.errno
    import re

    found = re.search(r"\(os error (\d+)\)", str(err))
    return int(found.group(1)) if found else None


def os_error_fix(err: OSError) -> str:
    code = _errno_of(err)
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "Free some space (or raise the limit) and run again; nothing half-written was kept."
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "Check the permissions and attributes of that path (ls -l, lsattr), or choose "\
               "another location."
    return "Check the path and run again."


@click.group(cls=HealthcoopGroup)
@click.version_option(__version__, prog_name="healthcoop")
def main() -> None:
    """Build, validate, link and publish the healthcoop linked-open-data set."""


# --- build -----------------------------------------------------------------------------------
@main.command()
@ROOT_OPTION
@click.option("--output", "output", type=click.Path(path_type=Path), default=None,
              help="Output directory (default: <root>/output). Only an absent or empty "
                   "directory or an earlier release (it holds .healthcoop-release) is "
                   "replaced; anything else is refused.")
@click.option("--previous", type=click.Path(exists=True, path_type=Path), default=None,
              help="The previous release (directory or dump): the new release gets a CHANGES "
                   "file listing what changed since.")
@click.option("--no-site", "no_site", is_flag=True,
              help="Skip the static web site (output/site/: entity pages and documents).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Shards processed at once (default: one per core).")
@click.option("--executor", type=click.Choice(["auto", "serial", "processes", "dask"]),
              default="auto", show_default=True,
              help="Where shards run: this process, a pool of processes on this machine, or "
                   "a Dask cluster (needs --scheduler and the `dask` extra).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Dask scheduler address (tcp://host:8786) for --executor dask.")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Do not reuse or keep shard pieces in .cache/shards/ (a clean build).")
def build(root: Path, output: Path | None, previous: Path | None, no_site: bool,
          jobs: int | None, executor: str, scheduler: str | None, no_cache: bool) -> None:
    """Validate the records and publish the dataset into output/ (atomically).

    Shards whose inputs did not change since the last build are taken from .cache/shards/;
    the release is byte-identical to a clean build (--no-cache)."""
    from pipeline.build import build_release  # here: `serve` need not load the build

    out = build_release(root, output, previous=previous, site=not no_site, jobs=jobs,
                        executor=executor, scheduler=scheduler, cache=not no_cache)
    say(f"built {out}")

# --- validate --------------------------------------------------------------------------------
@main.command()
@ROOT_OPTION
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "sarif"]),
              default="text", show_default=True,
              help="text: grouped by file (coloured on a terminal unless NO_COLOR is set); "
                   "json; github: workflow-command annotations for pull requests; "
                   "sarif: SARIF 2.1.0 for code-scanning tools.")
@click.option("--strict", is_flag=True, help="Warnings fail the run too.")
@click.option("--quiet", "-q", is_flag=True,
              help="Report only what fails the run (errors; with --strict, warnings too).")
@click.option("--verbose", "-v", is_flag=True,
              help="text: list every finding, also those that follow from a root cause and "
                   "each place of a repeated warning (by default they are summarised).")
@click.option("--output-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file instead of standard output.")
def validate(root: Path, fmt: str, strict: bool, quiet: bool, verbose: bool,
             output_file: Path | None) -> None:
    """Check records, sources, the URI register and the SHACL shapes; change nothing.

    Every finding names file, line and field, and says how to fix it. Exit status: 0 valid,
    1 invalid data (or warnings, with --strict), 2 usage or environment error.
    """
    from pipeline.check.validate import render, use_color, validate_project

    if output_file is not None:
        from pipeline.outputs import check_output_file

        output_file = check_output_file(output_file, root)
    report = validate_project(root, strict=strict)
    if quiet:
        report = report.only_failing()
    if output_file is not None:
        try:
            output_file.write_text(render(report, fmt, verbose=verbose), encoding="utf-8")
        except OSError as err:
            from pipeline.errors import EnvironmentProblem

            raise EnvironmentProblem(f"Cannot write {output_file}: {err.strerror}.") from err
        click.echo(render(report, "text", color=use_color()).splitlines()[-1])
    else:
        click.echo(render(report, fmt, color=fmt == "text" and use_color(), verbose=verbose),
                   nl=False)
    raise SystemExit(report.exit_code)


@main.command()
@ROOT_OPTION
@click.option("--update", is_flag=True,
              help="Add every IRI not yet registered to data/published-iris.txt (lines are "
                   "never removed); commit the file.")
def register(root: Path, update: bool) -> None:
    """Check the URI register (data/published-iris.txt) against the records and sources."""
    from pipeline.build import load_project
    from pipeline.check.register import check_register, update_register
    from pipeline.errors import EnvironmentProblem, IssueList

    if not (root / "data").is_dir():
        raise EnvironmentProblem(f"{root} is not a healthcoop project (no data/ directory).")
    project = load_project(root.resolve())
    if update:
        added = update_register(root.resolve(), project)
        for iri in added:
            say(f"registered {iri}")
        say(f"{len(added)} new IRI(s) registered in data/published-iris.txt"
                   + ("; commit the file." if added else "."))
    issues = IssueList()
    check_register(project, issues)
    for issue in sorted(issues.items, key=lambda i: (i.file, i.line)):
        if issue.code == "unregistered-iri" and update:
            continue
        say(f"{issue.location()}: {issue.severity.value}: {issue.field}: {issue.message}")
    raise SystemExit(1 if issues.errors else 0)


@main.command("new-source")
@ROOT_OPTION
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "source_id", default=None,
              help="The source id (default: made from the title). It becomes the IRI "
                   "https://w3id.org/healthcoop/id/<id> and never changes.")
@click.option("--title", default=None,
              help="The headline as the text states it (default: the text's first line).")
@click.option("--language", default="en", show_default=True, help="BCP 47 tag of the text.")
def new_source(root: Path, file: Path, source_id: str | None, title: str | None,
               language: str) -> None:
    """Register a new source text: archive FILE byte for byte, record its SHA-256 in
    data/sources.yaml, and start data/records/<id>.yaml with a commented skeleton."""
    from pipeline.curate.newsource import register_source

    added = register_source(root, file, source_id=source_id, title=title, language=language)
    for line in added.summary():
        say(line)


@main.command()
@ROOT_OPTION
@click.argument("source_id")
def draft(root: Path, source_id: str) -> None:
    """Pre-curate registered source SOURCE_ID: write data/records/<id>.draft.yaml with the
    known actors and places it names (quotes located), relative dates to resolve, and names
    we have no record of yet. Never overwrites a file; a draft never validates until a
    person confirms it."""
    from pipeline.curate.draft import write_draft

    path, result = write_draft(root, source_id)
    say(f"draft written: {path}")
    say(f"  {len(result.mentions)} known actor(s)/place(s) located, "
        f"{len(result.relative_dates)} relative date(s) to resolve, "
        f"{len(result.suggestions)} suggestion(s) for new records")
    say("next: review it (see its header), delete the `draft:` block, rename it to "
        f"{source_id}.yaml, then run `healthcoop validate`.")

# --- link ------------------------------------------------------------------------------------
@main.command()
@ROOT_OPTION
@click.option("--endpoint", default="https://www.wikidata.org/w/api.php", show_default=True,
              help="Wikidata action API URL (a mirror or a test server).")
@click.option("--contact", default="https://w3id.org/healthcoop/", show_default=True,
              help="Contact URL or e-mail put into the User-Agent, as Wikidata asks of bots.")
@click.option("--user-agent", default=None, help="A complete User-Agent (must name a contact).")
@click.option("--offline", is_flag=True, help="Use only cached answers; list the look-ups "
                                              "that could not be made.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Response cache (default: <root>/.cache/wikidata).")
@click.option("--enrich/--no-enrich", default=False, show_default=True,
              help="Store Chinese and English Wikidata labels of accepted links.")
@click.option("--ror-source", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A full ROR JSON-lines file: re-select data/reference/ror/ from it.")
def link(root: Path, endpoint: str, contact: str, user_agent: str | None, offline: bool,
         cache_dir: Path | None, enrich: bool, ror_source: Path | None) -> None:
    """Propose Wikidata and ROR links into data/links.yaml for review (docs/linking.md)."""
    from pipeline.errors import EnvironmentProblem
    from pipeline.link import LinkOptions, run_link
    from pipeline.outputs import check_cache_dir

    if cache_dir is not None:
        cache_dir = check_cache_dir(cache_dir, root)
    summary = run_link(root, LinkOptions(
        endpoint=endpoint, contact=contact, user_agent=user_agent, offline=offline,
        cache_dir=cache_dir, enrich=enrich, ror_source=ror_source))
    for line in summary.lines():
        say(line)
    if summary.fatal:
        raise EnvironmentProblem(f"Wikidata could not be used: {summary.fatal}",
                                 fix="Decisions were kept. Run again later, or with --offline.")

# --- publish: diff, load ---------------------------------------------------------------------
@main.command()
@click.argument("old", type=click.Path(exists=True, path_type=Path))
@click.argument("new", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text for people, json for programs.")
def diff(old: Path, new: Path, fmt: str) -> None:
    """What changed from release OLD to release NEW: triples added and removed, grouped by
    entity; new, changed and retired entities. OLD and NEW are release directories or dump
    files in any RDF format (by extension: .ttl .nt .nq .trig .jsonld .rdf, optionally .gz)."""
    from pipeline.consume.diff import run_diff

    text = run_diff(old, new, fmt)
    if fmt == "text":  # labels and IRIs come from the files: no escape sequence reaches the tty
        text = "".join(terminal_safe(line) + "\n" for line in text.splitlines())
    click.echo(text, nl=False)


@main.command()
@click.argument("release", type=click.Path(path_type=Path), default=Path("output"))
@click.option("--endpoint", required=True,
              help="The store's Graph Store HTTP Protocol endpoint, e.g. "
                   "http://127.0.0.1:7878/store (Oxigraph); see docs/loading.md.")
@click.option("--graph", default=None, help="Load into this named graph (replacing it) "
                                            "instead of the default graph.")
@click.option("--per-source", is_flag=True,
              help="Load the named graphs of the N-Quads dump: one per source and one for "
                   "the description, each replacing the graph of that name.")
@click.option("--format", "fmt", type=click.Choice(["turtle", "ntriples", "jsonld", "nquads",
                                                     "trig"]),
              default=None, help="Which dump of the release to send (default: turtle, or "
                                 "nquads with --per-source).")
@click.option("--timeout", type=float, default=300.0, show_default=True,
              help="Seconds each upload may take in all (connecting, sending the dump and "
                   "the store's whole answer): a store that answers a byte at a time is cut "
                   "off, not waited for.")
def load(release: Path, endpoint: str, graph: str | None, per_source: bool, fmt: str | None,
         timeout: float) -> None:
    """Push RELEASE (a release directory, default output/, or a dump file) into a SPARQL
    store with HTTP PUT, replacing the target graph(s): reloading is idempotent."""
    from pipeline.consume.load import load_release

    result = load_release(release, endpoint, graph=graph, per_source=per_source, fmt=fmt,
                          timeout=(10.0, timeout))  # connect within 10 s; `timeout` in all
    for line in result.lines():
        say(line)


@main.command()
@click.argument("release", type=click.Path(file_okay=False, path_type=Path),
                default=Path("output"))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes serving the one listening socket (pre-forked; more than one "
                   "lets concurrent reconciliation batches use every core).")
def serve(release: Path, host: str, port: int, workers: int) -> None:
    """Serve RELEASE's site (default output/site/) with content negotiation: /id/<id>
    redirects (303) to the page or document that fits Accept; tombstones answer 410."""
    from pipeline.serve.server import serve as serve_release

    say(f"serving {release}/site on http://{host}:{port}/ (Ctrl-C stops)")
    serve_release(release, host, port, workers=workers)


# --- bench -----------------------------------------------------------------------------------
@main.group()
def bench() -> None:
    """Benchmark helpers: synthetic corpora for timing validation and the build."""


@bench.command("generate")
@ROOT_OPTION
@click.option("--records", type=click.IntRange(min=1), required=True,
              help="How many agreements and events to generate (actors, places, roles and "
                   "sources come on top, reused across them).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed: the same records and seed give a byte-identical tree.")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="Directory to write the project into: absent, empty, or an earlier "
                   "synthetic corpus (it holds .healthcoop-synthetic); anything else is "
                   "refused.")
def bench_generate(root: Path, records: int, seed: int, out: Path) -> None:
    """Write a synthetic healthcoop project of RECORDS agreements and events into OUT
    (ontology, shapes and queries copied from --root), ready for
    `healthcoop build --root OUT --output OUT/output`."""
    from pipeline.curate.synthetic import generate_project

    say(generate_project(out, records, seed, root).line())


if __name__ == "__main__":  # pragma: no cover
    main()
