"""The project folder: found upward from the current directory like git's, with every path resolved from it.

A project is a folder holding `datapackage.json`; `raw/`, `schemas/`, `dist/`, `.cache/`,
`releases/`, `CHANGELOG.md` and `CITATION.cff` lie beside it. The installed package holds only
code, so two clones sharing one environment each build their own project.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import PipelineError

DESCRIPTOR_FILENAME = "datapackage.json"
SOURCES_FILENAME = "sources.yaml"
ANNOTATIONS_DIRNAME = "annotations"
TEXTS_DIRNAME = "texts"


@dataclass(frozen=True)
class Project:
    """One corpus project: its root folder and the places of its inputs and outputs."""

    root: Path

    @property
    def datapackage(self) -> Path:
        return self.root / DESCRIPTOR_FILENAME

    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    @property
    def schemas_dir(self) -> Path:
        return self.root / "schemas"

    @property
    def dist_dir(self) -> Path:
        return self.root / "dist"

    @property
    def site_dir(self) -> Path:
        # The static website of the build (`pipeline site`); not committed.
        return self.root / "site"

    @property
    def zenodo(self) -> Path:
        return self.root / ".zenodo.json"

    @property
    def cache_dir(self) -> Path:
        # Rows of annotation files already built, by content hash (engine/partition.py); never published.
        return self.root / ".cache"

    @property
    def releases_dir(self) -> Path:
        return self.root / "releases"

    @property
    def changelog(self) -> Path:
        return self.root / "CHANGELOG.md"

    @property
    def annotation_tools_dir(self) -> Path:
        # The labelling configurations of the annotation tools, generated from schemas/.
        return self.root / "annotation-tools"

    @property
    def citation(self) -> Path:
        return self.root / "CITATION.cff"


def find_project(start: Path | None = None) -> Project:
    """The project holding `start` (default: the current directory), searching upward for datapackage.json."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DESCRIPTOR_FILENAME).is_file():
            return Project(folder)
    raise PipelineError(
        f"{here}: no {DESCRIPTOR_FILENAME} here or in any parent folder; run the command inside a project, "
        f"name one with --project DIR, or create one with 'pipeline init DIR'"
    )


def open_project(root: Path) -> Project:
    """The project whose root is `root` (given with --project): it must hold datapackage.json."""
    root = root.resolve()
    if not (root / DESCRIPTOR_FILENAME).is_file():
        raise PipelineError(
            f"{root}: not a project folder (no {DESCRIPTOR_FILENAME}); create one with 'pipeline init {root}'"
        )
    return Project(root)


def descriptor_for(raw_dir: Path) -> Path:
    """The descriptor of the project that holds `raw_dir`, for library calls that name only a raw/ folder."""
    return find_project(raw_dir).datapackage
