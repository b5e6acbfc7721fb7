"""The `pipeline` command line: a thin click layer over the library; errors become `Error: ...`."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from pipeline import __version__
from pipeline.errors import PipelineError
from pipeline.paths import DATAPACKAGE_PATH, DIST_DIR, RAW_DIR


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
        except Exception as exc:  # noqa: BLE001 - anything unexpected still gets one clear line
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
@_handle_errors
def build(raw_dir: Path, dist_dir: Path, datapackage: Path):
    """Read raw/, validate everything and write the data package to dist/.

    All problems of the input are reported together (file:line: what is wrong) and the
    command exits 1 without touching dist/.

    \b
    Example:
        pipeline build
        pipeline build --raw-dir tests/fixtures/mini/raw --dist-dir /tmp/out
    """
    from pipeline.build import build as run_build

    result = run_build(raw_dir, dist_dir, datapackage)
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
    mentions give different dates.

    \b
    Example:
        pipeline stats
        pipeline stats --json | jq .total
    """
    import json

    from pipeline.build import assemble
    from pipeline.metadata import load_metadata
    from pipeline.stats import compute_stats, format_stats

    result = compute_stats(assemble(raw_dir, load_metadata(datapackage)))
    click.echo(json.dumps(result.as_dict(), indent=2, sort_keys=True) if as_json else format_stats(result))


if __name__ == "__main__":
    cli()
