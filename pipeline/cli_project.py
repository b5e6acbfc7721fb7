"""What every command of the command line shares: its project folder, and errors turned into one `Error:` line."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from pipeline.errors import PipelineError
from pipeline.project import Project, find_project, open_project


def current_project() -> Project:
    """The project of this invocation: --project DIR, else the folder holding datapackage.json upward from here."""
    ctx = click.get_current_context()
    root = ctx.find_root().params.get("project")
    return open_project(root) if root is not None else find_project()


def or_project(value: Path | None, attribute: str) -> Path:
    """An option's value, or the project's path of that name when the option was not given."""
    return value if value is not None else getattr(current_project(), attribute)


def handle_errors(func):
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
            raise click.ClickException(
                f"internal error: {type(exc).__name__}: {exc} (run again with --debug for the traceback)"
            ) from exc

    return click.option("--debug", is_flag=True, help="Show the full traceback on errors.")(wrapper)


# The options naming a project's folders: unset, each falls back to the project's own (`or_project`).
raw_option = click.option(
    "--raw-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    show_default="<project>/raw/",
    help="Folder with sources.yaml, texts/ and annotations/.",
)
dist_option = click.option(
    "--dist-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    show_default="<project>/dist/",
    help="Output folder, replaced as a whole on success.",
)
datapackage_option = click.option(
    "--datapackage",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    show_default="<project>/datapackage.json",
    help="The dataset's root descriptor.",
)
