"""Output folders checked before anything is written: no output may replace or land in the project's inputs.

`pipeline build` replaces its --dist-dir as a whole, so a folder given by mistake (`.`, "", the
project, a folder holding raw/, the home folder) would be lost. Every output path is compared
with the places it must never touch, and a non-empty folder is replaced only when an earlier
build wrote it (it holds a build's datapackage.json: one whose resources carry bytes and hash).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pipeline.errors import PipelineError

# A build's descriptor is small (inline schemas); anything larger is not one.
MAX_BUILD_DESCRIPTOR_BYTES = 4 * 1024 * 1024


def _real(path: Path) -> Path:
    # "" and "." both mean the current folder; links are followed so that a link to raw/ is raw/.
    return Path(os.path.realpath(os.path.abspath(path if str(path) else ".")))


def protected_places(
    datapackage: Path, raw_dir: Path | None = None, cache_dir: Path | None = None
) -> list[tuple[str, Path]]:
    """The places no output may be, contain or lie in, named as messages name them; the project first."""
    root = _real(datapackage).parent
    places = [
        ("the project folder", root),
        ("the descriptor datapackage.json", _real(datapackage)),
        ("raw/", _real(raw_dir) if raw_dir is not None else root / "raw"),
        ("schemas/", root / "schemas"),
        ("the cache", _real(cache_dir) if cache_dir is not None else root / ".cache"),
    ]
    return places


def _inside(path: Path, folder: Path) -> bool:
    return path != folder and folder in path.parents


def is_build_output(folder: Path) -> bool:
    """True if folder holds the datapackage.json a build writes (every resource with its bytes and hash)."""
    descriptor = folder / "datapackage.json"
    try:
        if not descriptor.is_file() or descriptor.stat().st_size > MAX_BUILD_DESCRIPTOR_BYTES:
            return False
        data = json.loads(descriptor.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    resources = data.get("resources") if isinstance(data, dict) else None
    return (
        isinstance(resources, list)
        and bool(resources)
        and all(
            isinstance(r, dict) and isinstance(r.get("hash"), str) and isinstance(r.get("bytes"), int)
            for r in resources
        )
    )


def check_output_dir(
    option: str,
    out: Path,
    places: list[tuple[str, Path]],
    replaced: bool,
    example: str,
) -> None:
    """Raise PipelineError naming option and why, if writing out could damage a protected place.

    `replaced`: the command replaces the folder as a whole (build), so a non-empty folder must
    be one a build wrote. `example` is what to give instead.
    """
    real = _real(out)
    shown = str(out) if str(out) else '""'
    for name, place in places:
        if real == place:
            why = f"is {name}"
        elif _inside(place, real):
            why = f"contains {name} ({place})"
        elif name != "the project folder" and _inside(real, place):
            why = f"lies inside {name} ({place})"
        else:
            continue
        raise PipelineError(
            f"{option} {shown}: {why}, which the command would overwrite; give a folder of its own, such as {example}"
        )
    if real.exists() and not real.is_dir():
        raise PipelineError(f"{option} {shown}: is not a folder; give a folder, such as {example}")
    if replaced and real.is_dir() and any(os.scandir(real)) and not is_build_output(real):
        raise PipelineError(
            f"{option} {shown}: is a non-empty folder that no build wrote (it has no build's datapackage.json), "
            f"and the build replaces its folder as a whole; give a new or empty folder, such as {example}"
        )
