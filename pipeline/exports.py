"""Stage 4b, binary exports: validated tables become one Parquet file per table and one SQLite database.

Input: validated `Tables` and `Metadata`. Output: `<table>.parquet` files and `<dataset-name>.sqlite`
in the staging folder of the build, with the column types, primary and foreign keys of the Table
Schemas. Both are byte-identical across builds made with the same pyarrow and SQLite versions:
rows are sorted as in the CSV files, nothing carries a timestamp, and the writer settings are fixed.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.metadata import Metadata, TableSchema
from pipeline.package import sorted_rows
from pipeline.tables import Tables

# Fixed writer settings: defaults of pyarrow may change between versions, and any change of
# row-group or page layout would change the bytes of an unchanged table.
PARQUET_OPTIONS = {
    "compression": "zstd",
    "compression_level": 9,
    "row_group_size": 1_000_000,
    "data_page_size": 1 << 20,
    "use_dictionary": False,
    "write_statistics": True,
    "write_page_index": False,
    "store_schema": True,
    "version": "2.6",
}
SQLITE_PAGE_SIZE = 4096

SQLITE_TYPES = {"string": "TEXT", "integer": "INTEGER", "number": "REAL", "boolean": "INTEGER", "date": "TEXT",
                "datetime": "TEXT", "year": "INTEGER"}


def sqlite_filename(meta: Metadata) -> str:
    return f"{meta.name}.sqlite"


def parquet_filename(schema: TableSchema) -> str:
    return f"{schema.name}.parquet"


# ---- Parquet -----------------------------------------------------------------------------------

def _arrow_type(ftype: str):
    import pyarrow as pa

    types = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(),
             "date": pa.date32(), "datetime": pa.string(), "year": pa.int64()}
    if ftype not in types:
        raise PipelineError(f"no Parquet type for the Table Schema type '{ftype}'; add it to pipeline/exports.py")
    return types[ftype]


def _arrow_value(value, ftype: str):
    if value is None or ftype != "date" or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def arrow_table(rows: list[dict], schema: TableSchema):
    """One table as a pyarrow Table typed by its Table Schema; descriptions go into field metadata."""
    import pyarrow as pa

    fields, columns = [], []
    for name, field in schema.fields.items():
        ftype = field.get("type", "string")
        fields.append(pa.field(name, _arrow_type(ftype), nullable=not schema.required(name),
                               metadata={"description": field.get("description", "")}))
        columns.append([_arrow_value(row.get(name), ftype) for row in rows])
    arrow_schema = pa.schema(fields, metadata={"primary_key": ",".join(schema.primary_key)})
    return pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, fields)], schema=arrow_schema)


def write_parquet(tables: Tables, meta: Metadata, out_dir: Path) -> list[str]:
    """Write one Parquet file per table; return the file names."""
    import pyarrow.parquet as pq

    names = []
    for name, schema in meta.tables.items():
        rows = sorted_rows(tables.rows.get(name, []), schema.primary_key)
        path = out_dir / parquet_filename(schema)
        pq.write_table(arrow_table(rows, schema), path, **PARQUET_OPTIONS)
        names.append(path.name)
    return names


# ---- SQLite ------------------------------------------------------------------------------------

def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def create_table_sql(schema: TableSchema) -> str:
    """CREATE TABLE with the schema's types, required/unique/enum/minimum checks and keys."""
    lines = []
    for name, field in schema.fields.items():
        ftype = field.get("type", "string")
        col = f"{_quote(name)} {SQLITE_TYPES.get(ftype, 'TEXT')}"
        cons = schema.constraints(name)
        if schema.required(name):
            col += " NOT NULL"
        if cons.get("unique") and [name] != schema.primary_key:
            col += " UNIQUE"
        checks = []
        if ftype == "boolean":
            checks.append(f"{_quote(name)} IN (0, 1)")
        if cons.get("enum"):
            checks.append(f"{_quote(name)} IN ({', '.join(_literal(v) for v in cons['enum'])})")
        if "minimum" in cons:
            checks.append(f"{_quote(name)} >= {_literal(cons['minimum'])}")
        if "maximum" in cons:
            checks.append(f"{_quote(name)} <= {_literal(cons['maximum'])}")
        if checks:
            col += f" CHECK ({' AND '.join(checks)})"
        lines.append(col)
    if schema.primary_key:
        lines.append(f"PRIMARY KEY ({', '.join(map(_quote, schema.primary_key))})")
    for fk in schema.foreign_keys:
        # Deferred so that rows may reference rows inserted later in the same transaction
        # (events.parent_event_id points into its own table).
        lines.append(
            f"FOREIGN KEY ({', '.join(map(_quote, fk.fields))}) REFERENCES {_quote(fk.resource)} "
            f"({', '.join(map(_quote, fk.reference_fields))}) DEFERRABLE INITIALLY DEFERRED"
        )
    body = ",\n  ".join(lines)
    return f"CREATE TABLE {_quote(schema.name)} (\n  {body}\n)"


def _sqlite_value(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def write_sqlite(tables: Tables, meta: Metadata, out_dir: Path) -> str:
    """Write every table into one SQLite database with its keys; return the file name.

    The database is filled in memory with foreign keys enforced, then written with `VACUUM INTO`,
    which lays out a fresh, compact file: its bytes depend only on the content and the SQLite
    version, not on the history of inserts or on free pages.
    """
    path = out_dir / sqlite_filename(meta)
    con = sqlite3.connect(":memory:", isolation_level=None)
    try:
        con.execute(f"PRAGMA page_size = {SQLITE_PAGE_SIZE}")
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("BEGIN")
        for name, schema in meta.tables.items():
            con.execute(create_table_sql(schema))
            cols = schema.field_names
            insert = f"INSERT INTO {_quote(name)} ({', '.join(map(_quote, cols))}) VALUES ({', '.join('?' * len(cols))})"
            rows = sorted_rows(tables.rows.get(name, []), schema.primary_key)
            con.executemany(insert, [[_sqlite_value(row.get(c)) for c in cols] for row in rows])
        try:
            con.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            bad = con.execute("PRAGMA foreign_key_check").fetchall()
            raise PipelineError(f"the SQLite export breaks a foreign key ({exc}): {bad[:5]}") from exc
        con.execute("VACUUM INTO ?", (str(path),))
    finally:
        con.close()
    return path.name
