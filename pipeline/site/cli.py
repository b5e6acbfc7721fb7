"""The `pipeline site` command: a click wrapper around `generate.write_site`."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli_project import handle_errors


@click.command()
@click.option(
    "--dist-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    show_default="<project>/dist/",
    help="The build folder to publish (its datapackage.json and CSV tables).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    show_default="<project>/site/",
    help="Output folder, replaced as a whole; only a folder written by this command is replaced.",
)
@click.option(
    "--base-url",
    default="",
    help="The URL the site is served from (for absolute links in the metadata "
    "and the Datasette Lite link), e.g. https://example.github.io/soviet-bloc-revolts/.",
)
@click.option(
    "--release",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A release archive to offer for download beside the build's files.",
)
@handle_errors
def site(dist_dir: Path, out: Path, base_url: str, release: Path | None):
    """Write the static website of a build into site/.

    \b
    Example:
        pipeline site
        pipeline site --dist-dir /tmp/out --out /tmp/site --base-url https://example.org/revolts/
    """
    from pipeline.cli_project import or_project as _or_project
    from pipeline.site.generate import write_site

    dist_dir, out = _or_project(dist_dir, "dist_dir"), _or_project(out, "site_dir")
    files = write_site(dist_dir, out, base_url, release)
    pages = sum(1 for path in files if path.endswith(".html") and not path.startswith("static/"))
    click.echo(f"wrote {out}: {pages} pages, {len(files)} files")
