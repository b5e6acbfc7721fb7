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
from pipeline.types import TYPES


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
            out.append(ForeignKey(tuple(fk["fields"]), ref.get("resource") or self.name, tuple(ref["fields"])))
        return out

    def constraints(self, name: str) -> dict:
        return self.fields[name].get("constraints", {})

    def enum(self, name: str) -> list[str]:
        return list(self.constraints(name).get("enum", []))

    def required(self, name: str) -> bool:
        return bool(self.constraints(name).get("required")) or name in self.primary_key

    @cached_property
    def derived_fields(self) -> tuple[str, ...]:
        """Columns the build fills in itself (`"derived": true` in the schema); annotators may not write them."""
        return tuple(f["name"] for f in self.descriptor["fields"] if f.get("derived"))

    def references(self, table: str) -> bool:
        """Whether a foreign key of this table points at `table`."""
        return any(fk.resource == table for fk in self.foreign_keys)


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

    # The roles of tables, read from the descriptor and the schemas' foreign keys, never listed in code.
    SPANS = "spans"
    SOURCES = "sources"

    @cached_property
    def derived_tables(self) -> tuple[str, ...]:
        """Tables the build computes from others (`derivedFrom` in the descriptor)."""
        return tuple(n for n, s in self.tables.items() if s.derived_from)

    @cached_property
    def claim_tables(self) -> dict[str, str]:
        """Claim tables (any written table with a foreign key to spans) by the key of their list under a span.

        The key is the resource's `annotationKey` in the descriptor, else the table's name.
        """
        keys = {}
        for name, schema in self.tables.items():
            if name != self.SPANS and not schema.derived_from and schema.references(self.SPANS):
                keys[self._resource(name).get("annotationKey", name)] = name
        return keys

    @cached_property
    def claimed_tables(self) -> tuple[str, ...]:
        """Tables of things that claims are about (events, actors): what claim tables' foreign keys point at.

        Every row of them must be cited by some claim (the contract's reachability rule). A table that
        another of them points at too (an event's places) is reached through that one: a claim may name
        its rows (a mention's place) but need not, so it stays an entity table, not a claimed one.
        """
        claims = set(self.claim_tables.values())
        targets = {fk.resource for c in claims for fk in self.tables[c].foreign_keys}
        targets -= {*claims, self.SPANS, self.SOURCES}
        through = {fk.resource for t in targets for fk in self.tables[t].foreign_keys if fk.resource != t}
        return tuple(n for n in self.tables if n in targets and n not in through)

    @cached_property
    def entity_tables(self) -> tuple[str, ...]:
        """Tables whose rows annotation files define in top-level lists named after the table.

        The claimed tables, and what their foreign keys point at in turn (an event's places).
        """
        skip = {*self.claim_tables.values(), *self.derived_tables, self.SPANS, self.SOURCES}
        found = set(self.claimed_tables)
        todo = list(found)
        while todo:
            for fk in self.tables[todo.pop()].foreign_keys:
                if fk.resource not in found and fk.resource not in skip:
                    found.add(fk.resource)
                    todo.append(fk.resource)
        return tuple(n for n in self.tables if n in found)

    @cached_property
    def written_tables(self) -> tuple[str, ...]:
        """Tables whose rows come from raw/ (every table but the derived ones)."""
        return tuple(n for n in self.tables if n not in self.derived_tables)

    def _resource(self, name: str) -> dict:
        return next(r for r in self.descriptor.get("resources", []) if r.get("name") == name)


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
        for f in schema.get("fields", []) if isinstance(schema, dict) else []:
            if f.get("type", "string") not in TYPES:
                raise PipelineError(
                    f"{res.get('schema')}: field {f.get('name')!r} has the type {f.get('type')!r}, which the pipeline "
                    f"cannot check or export; use one of: {', '.join(sorted(TYPES))}"
                )
        meta.tables[res["name"]] = TableSchema(
            name=res["name"],
            path=res["path"],
            descriptor=schema,
            title=res.get("title", ""),
            derived_from=tuple(res.get("derivedFrom", ())),
        )
    return meta
