"""`pipeline init`: a new corpus project that builds at once (descriptor, schemas, an example source, README, CI)."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

from pipeline.errors import PipelineError

TEMPLATE = Path(__file__).resolve().parent / "template"
# Files whose names git or packaging would treat specially are stored under another name.
RENAMED = {"dot-gitignore": ".gitignore"}
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


def template_files() -> list[tuple[str, Path]]:
    """(path in the new project, template file) for every file of the template, sorted."""
    out = []
    for path in sorted(TEMPLATE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(TEMPLATE).as_posix()
            out.append((RENAMED.get(rel, rel), path))
    return out


def project_name(folder: Path) -> str:
    """A dataset name (a slug) from the folder's name."""
    name = re.sub(r"[^a-z0-9]+", "-", folder.resolve().name.lower()).strip("-")
    if not _SLUG.match(name):
        raise PipelineError(f"{folder}: cannot make a dataset name from the folder's name; pass --name SLUG")
    return name


def init_project(
    dest: Path, name: str | None = None, title: str | None = None, today: datetime.date | None = None
) -> list[str]:
    """Write a new project into `dest` (absent or empty); the files written, relative to it."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise PipelineError(f"{dest}: exists and is not an empty folder; pick a new folder for the project")
    name = name or project_name(dest)
    if not _SLUG.match(name):
        raise PipelineError(f"--name {name!r}: use lowercase letters, digits and single hyphens, e.g. 'mill-strikes'")
    title = title or name.replace("-", " ").capitalize()
    created = (today or datetime.date.today()).isoformat() + "T00:00:00Z"
    values = {"{name}": name, "{title}": title, "{created}": created}
    files = template_files()
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for rel, src in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        data = src.read_bytes()
        if rel in ("datapackage.json", "README.md"):
            text = data.decode("utf-8")
            for key, value in values.items():
                text = text.replace(key, json.dumps(value)[1:-1] if rel.endswith(".json") else value)
            data = text.encode("utf-8")
        target.write_bytes(data)
        target.chmod(src.stat().st_mode & 0o777)
        written.append(rel)
    return written
