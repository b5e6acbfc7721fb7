"""Lost data is never a successful build: sources whose spans all disappeared are errors.

A source listed in raw/sources.yaml with no span left anywhere is what a deleted or emptied
annotation file looks like; a deliberate removal takes the source's entry out too.
"""

from __future__ import annotations

from pipeline.errors import Problem


def sources_without_spans(sources: dict, span_rows: list[dict]) -> list[Problem]:
    """A problem for every source no span quotes, at its entry in raw/sources.yaml."""
    quoted = {row.get("source_id") for row in span_rows}
    problems = []
    for sid in sorted(set(sources) - quoted):
        origin = sources[sid].origin
        problems.append(
            Problem(
                origin.file,
                origin.line,
                "source-without-spans",
                f"source '{sid}' has no spans left in raw/annotations/ (was its annotation file deleted or emptied?); "
                "restore its annotations, or to drop the source on purpose remove its entry here too",
            )
        )
    return problems
