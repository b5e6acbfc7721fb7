"""Checks a linked-data export against the SHACL shapes of the dataset.

Input: the Turtle file of dist/ (or any rdflib graph) and `schemas/shapes.ttl`, whose relative IRIs
resolve against the base IRI of the metadata. Output: one `Problem` per SHACL violation, naming
the focus node, the shape and the property path. SHACL Core only, no inference.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import PipelineError, Problem
from pipeline.metadata import Metadata

SHAPES_FILE = Path("schemas") / "shapes.ttl"


def load_shapes(meta: Metadata):
    from rdflib import Graph

    path = meta.root / SHAPES_FILE
    try:
        return Graph().parse(path, format="turtle", publicID=meta.base_iri)
    except (OSError, SyntaxError, ValueError) as exc:
        raise PipelineError(f"{path}: cannot read the SHACL shapes: {exc}") from exc


def _short(term, shapes) -> str:
    """prefix:local where the shapes file binds the namespace, else <iri>."""
    from rdflib import URIRef

    return shapes.namespace_manager.normalizeUri(term) if isinstance(term, URIRef) else str(term)


def _path(node, shapes) -> str:
    """A SHACL property path as text: `a/b` for sequences, `^a` for inverse paths."""
    from rdflib import BNode
    from rdflib.collection import Collection
    from rdflib.namespace import SH

    if not isinstance(node, BNode):
        return _short(node, shapes)
    inverse = shapes.value(node, SH.inversePath)
    if inverse is not None:
        return "^" + _path(inverse, shapes)
    return "/".join(_path(step, shapes) for step in Collection(shapes, node))


def shacl_problems(data, shapes, file: str = "") -> list[Problem]:
    """Every violation of the shapes by the data graph, sorted by focus node."""
    from pyshacl import validate
    from rdflib.namespace import RDF, SH

    conforms, results, _ = validate(data, shacl_graph=shapes, inference="none", abort_on_first=False)
    if conforms:
        return []
    problems = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        source = results.value(result, SH.sourceShape)
        node_shape = next(shapes.subjects(SH.property, source), source)
        path = shapes.value(source, SH.path)
        where = f" at {_path(path, shapes)}" if path is not None else ""
        message = results.value(result, SH.resultMessage) or "does not conform"
        problems.append(
            Problem(
                file,
                0,
                "shacl-violation",
                f"<{focus}> violates {_short(node_shape, shapes)}{where}: {message}",
                row=str(focus),
            )
        )
    return sorted(problems, key=lambda p: (p.row, p.message))


def validate_export(dist_dir: Path, meta: Metadata) -> tuple[int, list[Problem]]:
    """Parse the Turtle export of dist_dir and check it; return (triples, problems)."""
    from rdflib import Graph

    from pipeline.write.linked import export_names

    path = dist_dir / export_names(meta)["turtle"]
    if not path.is_file():
        raise PipelineError(f"{path}: no Turtle export; run `pipeline build` first")
    try:
        data = Graph().parse(path, format="turtle")
    except (SyntaxError, ValueError) as exc:
        raise PipelineError(f"{path}: cannot parse the Turtle export: {exc}") from exc
    return len(data), shacl_problems(data, load_shapes(meta), str(path))
