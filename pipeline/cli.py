"""The `healthcoop` command: a thin layer that parses arguments, calls one library function
per command, and turns a HealthcoopError into a clean message and exit code
(0 ok, 1 invalid data, 2 usage or environment error)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .build import build_release
from .errors import HealthcoopError

ROOT_OPTION = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Project root holding data/, ontology/ and shapes/.",
)


class HealthcoopGroup(click.Group):
    """Turns a HealthcoopError raised by any command into a message and its exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except HealthcoopError as err:
            click.echo(f"error: {err.message}", err=True)
            for issue in err.issues[:50]:
                click.echo(f"  {issue.location()}: {issue.field}: {issue.message}", err=True)
            if err.fix:
                click.echo(f"fix: {err.fix}", err=True)
            sys.exit(err.exit_code)


@click.group(cls=HealthcoopGroup)
@click.version_option(__version__, prog_name="healthcoop")
def main() -> None:
    """Build, validate, link and publish the healthcoop linked-open-data set."""


# --- build -----------------------------------------------------------------------------------
@main.command()
@ROOT_OPTION
@click.option("--output", "output", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Output directory (default: <root>/output).")
def build(root: Path, output: Path | None) -> None:
    """Validate the records and publish the dataset into output/ (atomically)."""
    out = build_release(root, output)
    click.echo(f"built {out}")

# --- validate --------------------------------------------------------------------------------
# (validate command: pipeline.validate)

# --- link ------------------------------------------------------------------------------------
# (link command: pipeline.link)

# --- publish: diff, load ---------------------------------------------------------------------
# (diff and load commands: pipeline.publish / pipeline.load)


if __name__ == "__main__":  # pragma: no cover
    main()
