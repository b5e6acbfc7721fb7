"""Click commands of the importers: `import`, `export-annotations`, `annotation-configs`."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli_project import datapackage_option, handle_errors, raw_option

READERS = {"w3c": "w3c", "label-studio": "label_studio", "inception": "inception", "brat": "brat"}
# Short tool names for span ids and imported file names (raw/annotations/<source>--<tool>.yaml).
TOOL_SLUG = {"w3c": "w3c", "label-studio": "ls", "inception": "inc", "brat": "brat"}


def _paths(**given: Path | None) -> list[Path]:
    """Each option's value, or the project's path of that name when the option was not given."""
    from pipeline.cli_project import or_project as _or_project

    return [_or_project(value, name) for name, value in given.items()]


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        raw, sep, project = value.rpartition("=")
        if not sep or not raw or not project:
            raise click.BadParameter(f"'{value}' is not TOOL_ID=PROJECT_ID", param_hint="--annotator")
        from pipeline.importers.core import SLUG

        if not SLUG.match(project):
            raise click.BadParameter(
                f"project id '{project}' is not a slug (lower-case letters, digits, single hyphens)",
                param_hint="--annotator",
            )
        out[raw] = project
    return out


@click.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(sorted(READERS)))
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@raw_option
@datapackage_option
@click.option("--source", "source_id", help="The source every document annotates (when the export cannot tell).")
@click.option("--source-id", "new_id", help="Id of a new source (a document whose text is not in raw/texts/).")
@click.option("--title", help="New source: title.")
@click.option("--publisher", help="New source: publisher.")
@click.option("--author", help="New source: author.")
@click.option("--published", help="New source: publication date (EDTF).")
@click.option("--url", help="New source: URL.")
@click.option("--license", "license_", help="New source: licence / quoting terms.")
@click.option("--language", help="New source: language (BCP 47).")
@click.option(
    "--annotator",
    "annotators",
    multiple=True,
    metavar="TOOL_ID=PROJECT_ID",
    help="Publish this tool annotator as this project id (repeat).",
)
@click.option("--drop-annotators", is_flag=True, help="Record no annotator.")
@click.option("--skip-unanchored", is_flag=True, help="Leave out spans whose quote is not found (they are reported).")
@click.option("--dry-run", is_flag=True, help="Check and report, write nothing.")
@handle_errors
def import_command(
    fmt,
    paths,
    raw_dir,
    datapackage,
    source_id,
    new_id,
    title,
    publisher,
    author,
    published,
    url,
    license_,
    language,
    annotators,
    drop_annotators,
    skip_unanchored,
    dry_run,
):
    """Import annotation exports of FORMAT into raw/annotations/ (and raw/sources.yaml for new texts).

    Nothing is written unless every span anchors and the build still passes. Importing the same
    export twice adds nothing.

    \b
    Example:
        pipeline import label-studio export.json --annotator anna@example.org=annotator-1
        pipeline import brat doc.ann --source-id new-article --title ... --published 1990 --license ... --language en
    """
    import importlib

    from pipeline.importers.core import Options, run_import
    from pipeline.metadata import load_metadata

    reader = importlib.import_module(f"pipeline.importers.{READERS[fmt]}")
    docs = []
    for path in paths:
        docs += reader.read(path, str(path))
    new_source = {
        "source_id": new_id,
        "title": title,
        "publisher": publisher,
        "author": author,
        "published": published,
        "url": url,
        "license": license_,
        "language": language,
    }
    options = Options(
        source_id=source_id,
        new_source={k: v for k, v in new_source.items() if v},
        annotators=_pairs(annotators),
        drop_annotators=drop_annotators,
        skip_unanchored=skip_unanchored,
    )
    raw_dir, datapackage = _paths(raw_dir=raw_dir, datapackage=datapackage)
    report = run_import(raw_dir, docs, TOOL_SLUG[fmt], load_metadata(datapackage), options, dry_run=dry_run)
    for line in report.lines:
        click.echo(line)
    if report.written:
        click.echo(("would write " if dry_run else "wrote ") + ", ".join(report.written))


@click.command("export-annotations")
@click.option("--format", "fmt", required=True, type=click.Choice(["w3c", "label-studio", "inception"]))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the export files.",
)
@raw_option
@datapackage_option
@handle_errors
def export_annotations(fmt, out_dir, raw_dir, datapackage):
    """Write our spans and claims as files the annotation tool opens, for review or extension.

    \b
    Example:
        pipeline export-annotations --format label-studio --out /tmp/ls
    """
    from pipeline.importers.core import inside
    from pipeline.importers.export import export
    from pipeline.metadata import load_metadata

    raw_dir, datapackage = _paths(raw_dir=raw_dir, datapackage=datapackage)
    if inside(out_dir, raw_dir):
        raise click.ClickException(
            f"{out_dir}: is inside {raw_dir}; export to a folder outside raw/ (the build would read it)"
        )
    for path in export(raw_dir, out_dir, fmt, load_metadata(datapackage)):
        click.echo(f"wrote {path}")


@click.command("annotation-configs")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    show_default="<project>/annotation-tools/",
)
@datapackage_option
@handle_errors
def annotation_configs(out_dir, datapackage):
    """Regenerate the Label Studio, INCEpTION and brat configurations from schemas/."""
    from pipeline.importers.configs import write
    from pipeline.metadata import load_metadata

    out_dir, datapackage = _paths(annotation_tools_dir=out_dir, datapackage=datapackage)
    for path in write(out_dir, load_metadata(datapackage)):
        click.echo(f"wrote {path}")
