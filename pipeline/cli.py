"""The `pipeline` command line: a thin click layer over the library; errors become `Error: ...`."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from pipeline import __version__
from pipeline.errors import PipelineError
from pipeline.paths import CACHE_DIR, CHANGELOG_PATH, CITATION_PATH, DATAPACKAGE_PATH, DIST_DIR, RAW_DIR, RELEASES_DIR


def _handle_errors(func):
    """Turn library errors into one `Error:` message and exit 1; --debug shows the traceback."""

    @functools.wraps(func)
    def wrapper(*args, debug: bool = False, **kwargs):
        try:
            return func(*args, **kwargs)
        except PipelineError as exc:
            if debug:
                raise
            raise click.ClickException(str(exc)) from exc
        except Exception as exc:
            if debug:
                raise
            raise click.ClickException(f"internal error: {type(exc).__name__}: {exc} (run again with --debug for the traceback)") from exc

    return click.option("--debug", is_flag=True, help="Show the full traceback on errors.")(wrapper)


raw_option = click.option(
    "--raw-dir", type=click.Path(path_type=Path, file_okay=False), default=RAW_DIR, show_default="raw/",
    help="Folder with sources.yaml, texts/ and annotations/.",
)
dist_option = click.option(
    "--dist-dir", type=click.Path(path_type=Path, file_okay=False), default=DIST_DIR, show_default="dist/",
    help="Output folder, replaced as a whole on success.",
)
datapackage_option = click.option(
    "--datapackage", type=click.Path(path_type=Path, dir_okay=False), default=DATAPACKAGE_PATH,
    show_default="datapackage.json", help="The dataset's root descriptor.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pipeline")
def cli():
    """Build, check and publish the Soviet-bloc revolts dataset from annotated sources."""


@cli.command()
@raw_option
@dist_option
@datapackage_option
@click.option(
    "--cache-dir", type=click.Path(path_type=Path, file_okay=False), default=CACHE_DIR, show_default=".cache/",
    help="Where rows of unchanged annotation files are kept between builds.",
)
@click.option("--no-cache", is_flag=True, help="Build every annotation file afresh and store nothing.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: one per CPU).")
@_handle_errors
def build(raw_dir: Path, dist_dir: Path, datapackage: Path, cache_dir: Path | None, no_cache: bool, jobs: int | None):
    """Read raw/, validate everything and write the data package to dist/.

    All problems of the input are reported together (file:line: what is wrong) and the
    command exits 1 without touching dist/.

    \b
    Example:
        pipeline build
        pipeline build --raw-dir tests/fixtures/mini/raw --dist-dir /tmp/out
    """
    from pipeline.build import build as run_build
    from pipeline.progress import Progress

    result = run_build(raw_dir, dist_dir, datapackage, cache_dir=None if no_cache else cache_dir, jobs=jobs, progress=Progress())
    summary = ", ".join(f"{n} {name}" for name, n in result.counts.items())
    click.echo(f"built {dist_dir}: {summary}")


@cli.command()
@raw_option
@datapackage_option
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@_handle_errors
def stats(raw_dir: Path, datapackage: Path, as_json: bool):
    """Count spans, events, casualty claims, demands and actors per source, and list conflicts.

    Reads and validates raw/ like `build` does, but writes nothing. An event is listed as
    conflicting when its claims give different figures for one casualty category, or its
    mentions give different dates. Per source it prints what the published spans reproduce
    (characters, share, longest passage) beside its quoting terms; a source over its terms is
    marked OVER here (the build refuses it).

    \b
    Example:
        pipeline stats
        pipeline stats --json | jq .total
    """
    import json

    from pipeline.build import assemble
    from pipeline.metadata import load_metadata
    from pipeline.stats import compute_stats, format_stats

    # Figures of sources over their quoting terms are what the annotator needs to see: not refused here.
    result = compute_stats(assemble(raw_dir, load_metadata(datapackage), enforce_terms=False))
    click.echo(json.dumps(result.as_dict(), indent=2, sort_keys=True) if as_json else format_stats(result))


@cli.command()
@click.option("--dist-dir", type=click.Path(path_type=Path, file_okay=False), default=DIST_DIR, show_default="dist/",
              help="The build to release.")
@click.option("--out-dir", type=click.Path(path_type=Path, file_okay=False), default=RELEASES_DIR,
              show_default="releases/", help="Where release archives are kept (gitignored).")
@datapackage_option
@click.option("--changelog", type=click.Path(path_type=Path, dir_okay=False), default=CHANGELOG_PATH,
              show_default="CHANGELOG.md", help="The changelog that gets the new entry.")
@click.option("--citation", type=click.Path(path_type=Path, dir_okay=False), default=CITATION_PATH,
              show_default="CITATION.cff", help="The committed citation file, which must match datapackage.json.")
@click.option("--previous", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Archive of the previous release (default: found in --out-dir by the changelog's last version).")
@_handle_errors
def release(dist_dir: Path, out_dir: Path, datapackage: Path, changelog: Path, citation: Path, previous: Path | None):
    """Pack the current build into releases/<name>-<version>.zip and add its changelog entry.

    The archive holds every file of dist/, CITATION.cff, CHANGELOG.md and SHA256SUMS, with fixed
    timestamps and order, so the same build always gives the same bytes. The version comes from
    datapackage.json; a released version is never overwritten. The changelog entry is the
    `pipeline diff` against the previous release.

    \b
    Example:
        pipeline build && pipeline release
        pipeline release --previous ~/Downloads/soviet-bloc-revolts-0.1.0.zip
    """
    from pipeline.release import release as run_release

    result = run_release(dist_dir, out_dir, datapackage, changelog, citation, previous)
    click.echo(f"released {result.archive}: version {result.version}, {len(result.files)} files, sha256 {result.sha256}")
    click.echo(result.entry.rstrip("\n"))


@cli.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
@_handle_errors
def diff(old: Path, new: Path, as_json: bool):
    """Compare two builds or release archives table by table, by primary key.

    OLD and NEW are build folders (dist/), their datapackage.json or release archives. The text
    form prints one line per row: `+ key` added, `- key` removed, `~ key: field "old" -> "new"`.

    \b
    Example:
        pipeline diff releases/soviet-bloc-revolts-0.1.0.zip dist/
        pipeline diff --json old.zip new.zip
    """
    import json

    from pipeline.diff import diff_paths

    result = diff_paths(old, new)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        click.echo(result.text(), nl=False)


@cli.command()
@click.argument("archives", type=click.Path(path_type=Path), nargs=-1, required=True)
@_handle_errors
def verify(archives: tuple[Path, ...]):
    """Check release archives: safe to unpack, not corrupted, every file matching SHA256SUMS.

    Prints one `ok:` line per good archive; stops at the first bad one with every problem
    found in it, and exits 1.

    \b
    Example:
        pipeline verify releases/soviet-bloc-revolts-0.1.0.zip
        pipeline verify releases/*.zip
    """
    from pipeline.archive import read_archive

    for archive in archives:
        result = read_archive(archive)
        click.echo(f"ok: {archive}: {len(result.files) - 1} files match SHA256SUMS")


@cli.command()
@datapackage_option
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=CITATION_PATH,
              show_default="CITATION.cff", help="Where to write the citation file.")
@click.option("--check", is_flag=True, help="Only check that the file is up to date; exit 1 if not.")
@_handle_errors
def citation(datapackage: Path, output: Path, check: bool):
    """Write CITATION.cff from datapackage.json (title, version, date, licence, authors).

    \b
    Example:
        pipeline citation
        pipeline citation --check
    """
    import json

    from pipeline.citation import citation_cff, citation_problem
    from pipeline.errors import PipelineError

    try:
        descriptor = json.loads(datapackage.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PipelineError(f"{datapackage}: cannot read the dataset descriptor: {exc}") from exc
    if check:
        problem = citation_problem(descriptor, output)
        if problem:
            raise PipelineError(problem)
        click.echo(f"ok: {output} matches {datapackage.name}")
        return
    output.write_text(citation_cff(descriptor), encoding="utf-8")
    click.echo(f"wrote {output}")


@cli.command()
@dist_option
@datapackage_option
@_handle_errors
def validate(dist_dir: Path, datapackage: Path):
    """Check the linked-data export of dist/ against the SHACL shapes in schemas/shapes.ttl.

    Every violation is reported on its own line, naming the focus node, the shape and the
    property path; the command then exits 1. It is not part of `pipeline build` because SHACL
    validation takes longer than the whole build on large corpora; CI and releases run it.

    \b
    Example:
        pipeline build && pipeline validate
    """
    from pipeline.errors import ShapesViolated
    from pipeline.export.shacl import validate_export
    from pipeline.metadata import load_metadata

    triples, problems = validate_export(dist_dir, load_metadata(datapackage))
    if problems:
        raise ShapesViolated(problems)
    click.echo(f"valid {dist_dir}: {triples} triples conform to the SHACL shapes")


if __name__ == "__main__":
    cli()
