"""Writes the static site of one build: landing page, event index and pages, map, timeline, actors, sources, codebook.

Input: a build folder (read by `data.read_build`), optionally a release archive and the URL the
site will be served from. Output: the folder `out`, replaced as a whole: pages, `static/` (the
only style sheet, script and geometry, with their licences) and `data/` (the build's files for
download). The same build gives the same bytes. A folder that is not a site written by this
command is never replaced or deleted.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from pipeline.errors import PipelineError
from pipeline.release.citation import citation_cff
from pipeline.site import geo
from pipeline.site.data import SUMMARY_CATEGORIES, EventView, SiteData, claim_range, read_build
from pipeline.site.schemaorg import dataset_jsonld

# Written into every site folder: only a folder holding it is ours to replace.
MARKER = ".pipeline-site"
_FILE_TITLES = {
    ".parquet": "{title} (Parquet)",
    ".sqlite": "All tables as one SQLite database",
    ".ttl": "The dataset as RDF Turtle",
    ".nt": "The dataset as N-Triples",
    ".jsonld": "The dataset as JSON-LD",
    ".xlsx": "All tables and the codebook as an Excel workbook",
}
_NAMED_FILES = {
    "datapackage.json": "Data package descriptor (Frictionless)",
    "codebook.md": "Codebook",
    "context.jsonld": "JSON-LD context",
    "croissant.json": "Croissant metadata (MLCommons)",
    "datasette.json": "Datasette metadata: descriptions, search, canned queries",
}
_SOURCE_FIELDS = (
    ("Publisher", "publisher"),
    ("Author", "author"),
    ("Published", "published"),
    ("Language", "language"),
    ("URL", "url"),
    ("Licence and terms", "license"),
    ("Quoting budget (characters)", "quote_budget"),
    ("Longest passage rebuilt from adjacent spans", "max_passage"),
    ("Length (characters)", "chars"),
    ("SHA-256 of the text", "sha256"),
)


def filesize(size: float) -> str:
    """A byte count for people.

    >>> filesize(512), filesize(2048), filesize(3 * 1024 * 1024)
    ('512 B', '2.0 KB', '3.0 MB')
    """
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def bibtex(descriptor: dict, url: str) -> str:
    """A BibTeX @misc entry of the dataset version."""
    authors = " and ".join(
        "{" + c["title"] + "}"
        for c in descriptor.get("contributors", [])
        if "creator" in c.get("roles", []) and c.get("title")
    )
    key = (
        f"{descriptor.get('name', 'dataset').replace('-', '_')}_{str(descriptor.get('version', '')).replace('.', '_')}"
    )
    fields = [
        ("author", authors),
        ("title", "{" + descriptor.get("title", "") + "}"),
        ("year", str(descriptor.get("created", ""))[:4]),
        ("version", str(descriptor.get("version", ""))),
        ("note", "Dataset, licence " + ", ".join(lic.get("name", "") for lic in descriptor.get("licenses", []))),
    ]
    if url:
        fields.append(("url", url))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@misc{{{key},\n{body}\n}}"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline.site", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["filesize"] = filesize
    return env


def _map_svg(events: list[EventView], box: geo.Box, root: str, label: str, marker_radius: float = 5.0) -> Markup:
    """An inline SVG: country outlines and one linked marker per located event in the window."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{box.view_box()}" role="group" aria-labelledby="map-title">',
        f'<title id="map-title">{escape(label)}</title>',
        '<g class="land" aria-hidden="true">',
    ]
    parts += [f'<path d="{d}"><title>{escape(name)}</title></path>' for name, d in geo.country_paths(box)]
    parts.append("</g>")
    for e in events:
        if e.lat is None or e.lon is None or not box.contains(e.lat, e.lon):
            continue
        x, y = geo.project(e.lat, e.lon)
        parts.append(
            f'<a href="{root}events/{escape(e.event_id)}.html" class="marker-link" data-event="{escape(e.event_id)}">'
            f'<circle class="marker" cx="{x:.1f}" cy="{y:.1f}" r="{marker_radius}"/>'
            f"<title>{escape(e.row['name'])}</title></a>"
        )
    parts.append("</svg>")
    return Markup("\n".join(parts))


def _year(date: str) -> int | None:
    head = (date or "")[:4]
    return int(head) if head.isdigit() else None


def _timeline_svg(events: list[EventView], first: int, last: int) -> Markup:
    """Bars from each event's earliest to latest date, one row per event, linked to its page."""
    width, row, left = 1000, 14, 10
    dated = [e for e in events if _year(e.row.get("earliest_date") or e.row.get("start_date", ""))]
    span = max(last - first + 1, 1)
    scale = (width - 2 * left) / span
    height = 30 + row * len(dated)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="group" aria-labelledby="tl-title">',
        '<title id="tl-title">Events from their earliest to their latest possible date</title>',
    ]
    for year in range(first - first % 5, last + 1, 5):
        if year < first:
            continue
        x = left + (year - first) * scale
        parts.append(
            f'<line x1="{x:.1f}" y1="16" x2="{x:.1f}" y2="{height}" stroke="#ddd"/>'
            f'<text x="{x:.1f}" y="12" font-size="11" text-anchor="middle" fill="#444">{year}</text>'
        )
    for i, e in enumerate(dated):
        start = e.row.get("earliest_date") or e.row.get("start_date", "")
        end = e.row.get("latest_date") or start
        y0 = _year(start)
        assert y0 is not None  # `dated` holds only the events with a year
        y1 = _year(end) or y0
        day0 = int(start[5:7]) / 12 if len(start) >= 7 and start[5:7].isdigit() else 0
        day1 = int(end[5:7]) / 12 if len(end) >= 7 and end[5:7].isdigit() else 1
        x0 = left + (y0 - first + day0) * scale
        x1 = max(left + (y1 - first + day1) * scale, x0 + 3)
        y = 22 + i * row
        parts.append(
            f'<a href="events/{escape(e.event_id)}.html"><rect x="{x0:.1f}" y="{y}" width="{x1 - x0:.1f}" height="10" '
            f'fill="#8a1c1c"/><title>{escape(e.row["name"])} ({escape(e.row.get("start_date", ""))})</title></a>'
        )
    parts.append("</svg>")
    return Markup("\n".join(parts))


def _with_spans(rows: list[dict], data: SiteData) -> list[dict]:
    spans, sources = data.by_id("spans", "span_id"), data.by_id("sources", "source_id")
    out = []
    for row in rows:
        span = spans.get(row.get("span_id", ""))
        low, high = claim_range(row)
        out.append(
            {
                **row,
                "span": span,
                "source": sources.get(span["source_id"], {}) if span else {},
                "low": low,
                "high": high,
            }
        )
    return out


def _file_title(name: str, data: SiteData) -> str:
    titles = {r.get("path"): r.get("title", r["name"]) for r in data.descriptor.get("resources", [])}
    if name in titles:
        return titles[name]
    if name in _NAMED_FILES:
        return _NAMED_FILES[name]
    stem, suffix = name.rsplit(".", 1)[0], name[name.rfind(".") :]
    title = next((r.get("title", stem) for r in data.descriptor.get("resources", []) if r["name"] == stem), stem)
    return _FILE_TITLES.get(suffix, name).format(title=title)


def render_site(data: SiteData, base_url: str = "", release: Path | None = None) -> dict[str, bytes]:
    """Every file of the site by its path, as bytes (pages, static assets, downloads)."""
    env = _environment()
    d = data.descriptor
    licence: dict = next(iter(d.get("licenses", [])), {})
    dataset = {
        "title": d.get("title", ""),
        "title_short": d.get("title", "").split(":")[0],
        "description": d.get("description", ""),
        "version": str(d.get("version", "")),
        "created": str(d.get("created", ""))[:10],
        "license": licence.get("name", ""),
        "license_url": licence.get("path", ""),
        "rights": d.get("rights", ""),
        "temporal": d.get("temporalCoverage", ""),
    }
    url = base_url.rstrip("/") + "/" if base_url else ""
    files: dict[str, bytes] = {}

    def page(path: str, template: str, title: str, **context) -> None:
        root = "../" * path.count("/")
        html = env.get_template(template).render(dataset=dataset, root=root, title=title, description=None, **context)
        files[path] = html.encode("utf-8")

    downloads = [f for f in data.files]
    for f in downloads:
        files[f"data/{f.name}"] = (data.folder / f.name).read_bytes()
    release_info = None
    if release is not None:
        blob = release.read_bytes()
        import hashlib

        release_info = {"name": release.name, "size": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
        files[f"downloads/{release.name}"] = blob
        files[f"downloads/{release.name}.sha256"] = f"{release_info['sha256']}  {release.name}\n".encode()
    linked = [(f.name, f"data/{f.name}") for f in downloads]
    if release is not None and release_info:
        linked.insert(0, (release.name, f"downloads/{release.name}"))
    jsonld = dataset_jsonld(data, url, linked)
    sqlite = next((f.name for f in downloads if f.name.endswith(".sqlite")), None)
    lite = f"https://lite.datasette.io/?url={url}data/{sqlite}" if url and sqlite else ""
    counts = {name: len(data.table(name)) for name in ("events", "casualties", "demands", "actors", "sources")}
    page(
        "index.html",
        "index.html",
        "Home",
        jsonld=Markup(json.dumps(jsonld, indent=1, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")),
        files=[
            {"name": f.name, "size": f.size, "sha256": f.sha256, "title": _file_title(f.name, data)} for f in downloads
        ],
        cff=citation_cff(d),
        bibtex=bibtex(d, url),
        counts=counts,
        sqlite=sqlite,
        datasette_lite=lite,
        release=release_info,
    )

    for e in data.events:
        year = _year(e.row.get("start_date", "")) or _year(e.row.get("earliest_date", ""))
        e.decade = f"{year - year % 10}" if year else ""
    page(
        "events/index.html",
        "events.html",
        "Events",
        events=data.events,
        summary_from_build=data.summary_from_build,
        scopes=sorted({e.summary.get("scope") for e in data.events if e.summary.get("scope")}),
        decades=sorted({e.decade for e in data.events if e.decade}),
    )
    actors = data.by_id("actors", "actor_id")
    for e in data.events:
        casualties = _with_spans(e.casualties, data)
        groups: dict[str, list[dict]] = {}
        for c in casualties:
            groups.setdefault(c["category"], []).append(c)
        demands = [{**r, "actor": actors.get(r.get("actor_id", ""))} for r in _with_spans(e.demands, data)]
        view = {
            "row": e.row,
            "summary": e.summary,
            "place": e.place,
            "lat": e.lat,
            "lon": e.lon,
            "parent": e.parent,
            "children": e.children,
            "casualties": casualties,
            "demands": demands,
            "actors": _with_spans(e.actors, data),
            "mentions": _with_spans(e.mentions, data),
        }
        minimap = (
            _map_svg([e], geo.around(e.lat, e.lon), "../", f"Where: {e.row['name']}", 3.0)
            if e.lat is not None and e.lon is not None
            else None
        )
        page(
            f"events/{e.event_id}.html",
            "event.html",
            e.row["name"],
            e=view,
            categories=SUMMARY_CATEGORIES,
            casualty_groups=sorted(groups.items()),
            minimap=minimap,
        )

    located = [e for e in data.events if e.lat is not None]
    page(
        "map.html",
        "map.html",
        "Map",
        located=located,
        total=len(data.events),
        unlocated=[e for e in data.events if e.lat is None],
        svg=_map_svg(data.events, geo.BLOC, "", "Map of the events"),
    )
    years: dict[int, list[EventView]] = {}
    for e in data.events:
        year = _year(e.row.get("start_date", "")) or _year(e.row.get("earliest_date", ""))
        if year:
            years.setdefault(year, []).append(e)
    first, last = (
        (min(years), max(_year(e.row.get("latest_date", "")) or y for y, es in years.items() for e in es))
        if years
        else (0, 0)
    )
    page(
        "timeline.html",
        "timeline.html",
        "Timeline",
        years=sorted(years.items()),
        first_year=first,
        last_year=last,
        undated=[
            e for e in data.events if not (_year(e.row.get("start_date", "")) or _year(e.row.get("earliest_date", "")))
        ],
        svg=_timeline_svg(data.events, first, last) if years else "",
    )

    events = data.by_id("events", "event_id")
    roles: dict[str, dict[str, set[str]]] = {}
    for r in data.table("event_actors"):
        roles.setdefault(r["actor_id"], {}).setdefault(r["event_id"], set()).add(r["role"].replace("_", " "))
    actor_views = [
        {
            "row": a,
            "events": [
                (events[ev], sorted(rs)) for ev, rs in sorted(roles.get(a["actor_id"], {}).items()) if ev in events
            ],
        }
        for a in sorted(actors.values(), key=lambda a: (a["name"].casefold(), a["actor_id"]))
    ]
    page("actors.html", "actors.html", "Actors", actors=actor_views)
    spans_per_source: dict[str, list[dict]] = {}
    for s in data.table("spans"):
        spans_per_source.setdefault(s["source_id"], []).append(s)
    sources = [
        {
            "row": s,
            "spans": len(spans_per_source.get(s["source_id"], [])),
            "withheld": sum(1 for sp in spans_per_source.get(s["source_id"], []) if not sp.get("quote")),
        }
        for s in sorted(data.table("sources"), key=lambda s: s["source_id"])
    ]
    page("sources.html", "sources.html", "Sources", sources=sources, source_fields=_SOURCE_FIELDS)
    page(
        "codebook.html",
        "codebook.html",
        "Codebook",
        tables=_codebook_tables(data),
        has_codebook=any(f.name == "codebook.md" for f in data.files),
    )

    static = resources.files("pipeline.site").joinpath("static")
    for path in _walk(static):
        files["static/" + path] = static.joinpath(path).read_bytes()
    files[MARKER] = b"Written by `pipeline site`; the whole folder is replaced by the next run.\n"
    return files


def _walk(folder, prefix: str = "") -> list[str]:
    out = []
    for child in sorted(folder.iterdir(), key=lambda c: c.name):
        if child.name.startswith((".", "__")):
            continue
        if child.is_dir():
            out += _walk(child, f"{prefix}{child.name}/")
        else:
            out.append(prefix + child.name)
    return out


def _codebook_tables(data: SiteData) -> list[dict]:
    out = []
    for resource in data.descriptor.get("resources", []):
        schema = data.schemas.get(resource["name"])
        if schema is None:
            continue
        key = schema.get("primaryKey") or []
        fields = [
            {
                "name": f["name"],
                "type": f.get("type", "string"),
                "description": f.get("description", ""),
                "required": f.get("constraints", {}).get("required", False),
                "categories": sorted((f.get("enumDefinitions") or {}).items()),
            }
            for f in schema.get("fields", [])
        ]
        out.append(
            {
                "name": resource["name"],
                "title": resource.get("title", ""),
                "description": schema.get("description", ""),
                "path": resource["path"],
                "key": ", ".join([key] if isinstance(key, str) else key) or "none",
                "fields": fields,
            }
        )
    return out


def write_site(dist_dir: Path, out: Path, base_url: str = "", release: Path | None = None) -> dict[str, bytes]:
    """Render the site of the build in dist_dir and swap it into out; return the files written."""
    if out.exists() and not (out / MARKER).is_file() and (not out.is_dir() or any(out.iterdir())):
        raise PipelineError(
            f"{out} exists and was not written by `pipeline site`: choose another --out or move it away"
        )
    if release is not None and not release.is_file():
        raise PipelineError(f"{release}: no such release archive: run `pipeline release` or leave out --release")
    files = render_site(read_build(dist_dir), base_url, release)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for path, blob in files.items():
            target = stage / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
        for folder in [stage, *[p for p in stage.rglob("*") if p.is_dir()]]:
            os.chmod(folder, 0o755)  # mkdtemp makes it private; a site is for everyone
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
        os.replace(stage, out)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return files
