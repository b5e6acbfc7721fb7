"""The project folder of a command-line invocation, shared by `pipeline`'s commands and the sub-commands of its packages."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.project import Project, find_project, open_project


def current_project() -> Project:
    """The project of this invocation: --project DIR, else the folder holding datapackage.json upward from here."""
    ctx = click.get_current_context()
    root = ctx.find_root().params.get("project")
    return open_project(root) if root is not None else find_project()


def or_project(value: Path | None, attribute: str) -> Path:
    """An option's value, or the project's path of that name when the option was not given."""
    return value if value is not None else getattr(current_project(), attribute)
