"""The `pipeline` command line: a thin click layer over the library; errors become `Error: ...`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from pipeline import __version__
from pipeline.cli_project import current_project, datapackage_option, dist_option, raw_option
from pipeline.cli_project import handle_errors as _handle_errors
from pipeline.cli_project import or_project as _or_project
from pipeline.errors import PipelineError


def _check_cache_dir(cache_dir: Path | None, raw_dir: Path, dist_dir: Path, datapackage: Path) -> None:
    """Refuse a --cache-dir that is, holds or lies in an input or the output: its pruning deletes files."""
    from pipeline.engine.outputs import check_output_dir, protected_places

    if cache_dir is None:
        return
    places = [p for p in protected_places(datapackage, raw_dir) if p[0] != "the cache"]
    places.append(("the build folder dist/", Path(os.path.realpath(dist_dir))))
    check_output_dir(
        "--cache-dir",
        cache_dir,
        places,
        replaced=False,
        example=str(Path(os.path.realpath(datapackage)).parent / ".cache"),
    )


def _check_citation_output(output: Path, datapackage: Path) -> None:
    """Refuse a citation --output that is the descriptor, a folder, or lies in raw/, schemas/ or the cache."""
    from pipeline.engine.outputs import protected_places

    real = Path(os.path.realpath(output))
    example = Path(os.path.realpath(datapackage)).parent / "CITATION.cff"
    for name, place in protected_places(datapackage):
        if real == place or (
            name not in ("the project folder", "the descriptor datapackage.json") and place in real.parents
        ):
            relation = "is" if real == place else "lies inside"
            raise PipelineError(
                f"--output {output}: {relation} {name}, which the command would overwrite; give a file of its own, such as {example}"
            )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pipeline")
@click.option(
    "--project",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The project folder (default: the folder holding datapackage.json, searched upward from here).",
)
def cli(project: Path | None):
    """Build, check and publish an annotated event dataset from a project folder.

    Every command works on the project found upward from the current directory (like git), or
    on the one named with --project: raw/, schemas/, dist/, .cache/, releases/, CHANGELOG.md and
    CITATION.cff are resolved from there.
    """


@cli.command()
@raw_option
@dist_option
@datapackage_option
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    show_default="<project>/.cache/",
    help="Where rows of unchanged annotation files are kept between builds.",
)
@click.option("--no-cache", is_flag=True, help="Build every annotation file afresh and store nothing.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: one per CPU); with --engine dask, those of the local cluster.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Where the per-file stage runs: a local process pool, or Dask tasks (pip install -e '.[dask]').",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="With --engine dask: the scheduler to use, e.g. tcp://10.0.0.5:8786 (default: a local cluster on 127.0.0.1).",
)
@_handle_errors
def build(
    raw_dir: Path,
    dist_dir: Path,
    datapackage: Path,
    cache_dir: Path | None,
    no_cache: bool,
    jobs: int | None,
    engine: str,
    scheduler: str | None,
):
    """Read raw/, validate everything and write the data package to dist/.

    All problems of the input are reported together (file:line: what is wrong) and the
    command exits 1 without touching dist/.

    \b
    Example:
        pipeline build
        pipeline build --raw-dir tests/fixtures/mini/raw --dist-dir /tmp/out
        pipeline build --engine dask --scheduler tcp://10.0.0.5:8786
    """
    import contextlib

    from pipeline.engine.build import build as run_build
    from pipeline.engine.engines import engine_for
    from pipeline.engine.progress import Progress

    raw_dir, dist_dir = _or_project(raw_dir, "raw_dir"), _or_project(dist_dir, "dist_dir")
    datapackage = _or_project(datapackage, "datapackage")
    cache_dir = None if no_cache else _or_project(cache_dir, "cache_dir")
    from pipeline.engine.outputs import check_output_dir, protected_places

    # build() checks --dist-dir too (for library callers); here it comes first, before the cache it protects.
    check_output_dir(
        "--dist-dir",
        dist_dir,
        protected_places(datapackage, raw_dir, cache_dir),
        replaced=True,
        example=str(Path(os.path.realpath(datapackage)).parent / "dist"),
    )
    _check_cache_dir(cache_dir, raw_dir, dist_dir, datapackage)
    with contextlib.closing(engine_for(engine, jobs, scheduler)) as runner:
        result = run_build(
            raw_dir, dist_dir, datapackage, cache_dir=cache_dir, jobs=jobs, progress=Progress(), engine=runner
        )
    summary = ", ".join(f"{n} {name}" for name, n in result.counts.items())
    click.echo(f"built {dist_dir}: {summary}")
    parts = result.partitions
    if parts.get("incremental") == 1:
        click.echo(
            f"spliced into the last build: {parts.get('changed', 0)} of {parts.get('cached', 0) + parts.get('built', 0)} annotation files changed"
        )
    elif parts.get("incremental") == 0 and result.full_build_reason:
        click.echo(f"built in full ({result.full_build_reason})")


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

    from pipeline.engine.build import assemble
    from pipeline.metadata import load_metadata
    from pipeline.stats import compute_stats, format_stats

    meta = load_metadata(_or_project(datapackage, "datapackage"))
    # Figures of sources over their quoting terms are what the annotator needs to see: not refused here.
    result = compute_stats(assemble(_or_project(raw_dir, "raw_dir"), meta, enforce_terms=False))
    click.echo(json.dumps(result.as_dict(), indent=2, sort_keys=True) if as_json else format_stats(result))


@cli.command()
@click.option(
    "--dist-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    show_default="<project>/dist/",
    help="The build to release.",
)
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    show_default="<project>/releases/",
    help="Where release archives are kept (gitignored).",
)
@datapackage_option
@click.option(
    "--changelog",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    show_default="<project>/CHANGELOG.md",
    help="The changelog that gets the new entry.",
)
@click.option(
    "--citation",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    show_default="<project>/CITATION.cff",
    help="The committed citation file, which must match datapackage.json.",
)
@click.option(
    "--previous",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Archive of the previous release (default: found in --out-dir by the changelog's last version).",
)
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
    from pipeline.engine.outputs import check_output_dir, protected_places
    from pipeline.release.publish import release as run_release

    dist_dir, datapackage = _or_project(dist_dir, "dist_dir"), _or_project(datapackage, "datapackage")
    if out_dir is not None:
        places = [*protected_places(datapackage), ("the build folder dist/", Path(os.path.realpath(dist_dir)))]
        check_output_dir("--out-dir", out_dir, places, replaced=False, example=str(current_project().releases_dir))
    result = run_release(
        dist_dir,
        _or_project(out_dir, "releases_dir"),
        datapackage,
        _or_project(changelog, "changelog"),
        _or_project(citation, "citation"),
        previous,
    )
    click.echo(
        f"released {result.archive}: version {result.version}, {len(result.files)} files, sha256 {result.sha256}"
    )
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

    from pipeline.release.diff import diff_paths

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
    from pipeline.release.archive import read_archive
    from pipeline.release.diff import load_snapshot

    for archive in archives:
        result = read_archive(archive)
        # The descriptor too: its resources must be the archive's own files, never paths out or URLs.
        snapshot = load_snapshot(archive)
        for res in snapshot.descriptor["resources"]:
            snapshot.read(res["path"])
        click.echo(f"ok: {archive}: {len(result.files) - 1} files match SHA256SUMS")


@cli.command()
@datapackage_option
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    show_default="<project>/CITATION.cff",
    help="Where to write the citation file.",
)
@click.option(
    "--zenodo",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    show_default="<project>/.zenodo.json",
    help="Where to write Zenodo's metadata file.",
)
@click.option("--check", is_flag=True, help="Only check that both files are up to date; exit 1 if not.")
@_handle_errors
def citation(datapackage: Path, output: Path, zenodo: Path, check: bool):
    """Write CITATION.cff and .zenodo.json from datapackage.json (title, version, date, licence, authors).

    Zenodo reads .zenodo.json instead of CITATION.cff when a repository has both, so the two are
    made from the same descriptor and must agree with it.

    \b
    Example:
        pipeline citation
        pipeline citation --check
    """
    import json

    from pipeline.release.catalogue import zenodo_text
    from pipeline.release.citation import citation_cff, citation_problem

    datapackage, output = _or_project(datapackage, "datapackage"), _or_project(output, "citation")
    zenodo = _or_project(zenodo, "zenodo")
    _check_citation_output(output, datapackage)
    try:
        descriptor = json.loads(datapackage.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PipelineError(f"{datapackage}: cannot read the dataset descriptor: {exc}") from exc
    if check:
        problem = citation_problem(descriptor, output)
        if problem:
            raise PipelineError(problem)
        if not zenodo.is_file() or zenodo.read_text(encoding="utf-8") != zenodo_text(descriptor):
            raise PipelineError(f"{zenodo}: disagrees with {datapackage.name}; run 'pipeline citation' and commit it")
        click.echo(f"ok: {output} and {zenodo.name} match {datapackage.name}")
        return
    output.write_text(citation_cff(descriptor), encoding="utf-8")
    zenodo.write_text(zenodo_text(descriptor), encoding="utf-8")
    click.echo(f"wrote {output} and {zenodo}")


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
    from pipeline.metadata import load_metadata
    from pipeline.validate.shacl import validate_export

    dist_dir = _or_project(dist_dir, "dist_dir")
    triples, problems = validate_export(dist_dir, load_metadata(_or_project(datapackage, "datapackage")))
    if problems:
        raise ShapesViolated(problems)
    click.echo(f"valid {dist_dir}: {triples} triples conform to the SHACL shapes")


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--name", default=None, help="The dataset's name, a slug (default: from the folder's name).")
@click.option("--title", default=None, help="The dataset's title (default: from the name).")
@_handle_errors
def init(folder: Path, name: str | None, title: str | None):
    """Create a new corpus project in FOLDER (absent or empty) that builds at once.

    It holds datapackage.json, the schemas, an example source with two annotated spans, a README
    stub and a .ci/run. Replace the example with your own sources and annotations.

    \b
    Example:
        pipeline init mill-strikes && cd mill-strikes && pipeline build
    """
    from pipeline.scaffold import init_project

    files = init_project(folder, name, title)
    click.echo(f"created {folder}: {len(files)} files; next: cd {folder} && pipeline build")


from pipeline.importers.cli import annotation_configs, export_annotations, import_command  # noqa: E402

cli.add_command(import_command)
cli.add_command(export_annotations)
cli.add_command(annotation_configs)

if __name__ == "__main__":
    cli()
cli.add_command(__import__("pipeline.site.cli", fromlist=["site"]).site)  # `pipeline site` (pipeline/site/)
