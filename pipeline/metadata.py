"""Reads the dataset's metadata: the root datapackage.json and the Table Schemas in schemas/.

Input: `datapackage.json` and the schema files it points at. Output: `Metadata`, the single
source of truth for table names, columns, types, keys and categories that every stage reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pipeline.errors import PipelineError


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key of one table onto another (or itself)."""

    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]


@dataclass
class TableSchema:
    """One resource's Table Schema, with the lookups the stages need."""

    name: str
    path: str
    descriptor: dict
    title: str = ""
    derived_from: tuple[str, ...] = ()

    @cached_property
    def fields(self) -> dict[str, dict]:
        return {f["name"]: f for f in self.descriptor["fields"]}

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.descriptor["fields"]]

    @cached_property
    def primary_key(self) -> list[str]:
        pk = self.descriptor.get("primaryKey", [])
        return [pk] if isinstance(pk, str) else list(pk)

    @cached_property
    def foreign_keys(self) -> list[ForeignKey]:
        out = []
        for fk in self.descriptor.get("foreignKeys", []):
            ref = fk["reference"]
            out.append(
                ForeignKey(
                    tuple(fk["fields"]), ref.get("resource") or self.name, tuple(ref["fields"])
                )
            )
        return out

    def constraints(self, name: str) -> dict:
        return self.fields[name].get("constraints", {})

    def enum(self, name: str) -> list[str]:
        return list(self.constraints(name).get("enum", []))

    def required(self, name: str) -> bool:
        return bool(self.constraints(name).get("required")) or name in self.primary_key


@dataclass
class Metadata:
    """The root descriptor and every table's schema, in the descriptor's order."""

    descriptor: dict
    tables: dict[str, TableSchema] = field(default_factory=dict)
    root: Path = Path(".")

    @property
    def base_iri(self) -> str:
        return self.descriptor["baseIri"]

    @property
    def name(self) -> str:
        return self.descriptor["name"]

    @property
    def version(self) -> str:
        return self.descriptor["version"]

    def __getitem__(self, table: str) -> TableSchema:
        return self.tables[table]


def load_metadata(path: Path) -> Metadata:
    """Load the root descriptor and the schema of every resource it lists."""
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PipelineError(f"{path}: cannot read the dataset descriptor: {exc}") from exc
    meta = Metadata(descriptor=descriptor, root=path.parent)
    for res in descriptor.get("resources", []):
        schema = res.get("schema")
        if isinstance(schema, str):
            schema_path = path.parent / schema
            try:
                schema = json.loads(schema_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise PipelineError(f"{schema_path}: cannot read the table schema: {exc}") from exc
        meta.tables[res["name"]] = TableSchema(
            name=res["name"], path=res["path"], descriptor=schema, title=res.get("title", ""),
            derived_from=tuple(res.get("derivedFrom", ())),
        )
    return meta
