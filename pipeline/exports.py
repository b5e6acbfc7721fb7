"""Stage 4b, binary exports: validated tables become one Parquet file per table and one SQLite database.

Input: validated `Tables` and `Metadata`. Output: `<table>.parquet` files and `<dataset-name>.sqlite`
in the staging folder of the build, with the column types, primary and foreign keys of the Table
Schemas. Both are byte-identical across builds made with the same pyarrow and SQLite versions:
rows are sorted as in the CSV files, nothing carries a timestamp, and the writer settings are fixed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import shutil
import sqlite3
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.metadata import Metadata, TableSchema
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


def arrow_schema(schema: TableSchema):
    """The Arrow schema of a table: its Table Schema's types, required fields, descriptions and key."""
    import pyarrow as pa

    fields = [pa.field(name, _arrow_type(field.get("type", "string")), nullable=not schema.required(name),
                       metadata={"description": field.get("description", "")})
              for name, field in schema.fields.items()]
    return pa.schema(fields, metadata={"primary_key": ",".join(schema.primary_key)})


def arrow_table(csv_bytes: bytes, schema: TableSchema):
    """One table's CSV file (as written by package.table_csv) as a pyarrow Table typed by its Table Schema.

    Arrow's C++ reader parses the whole table in a fraction of the time of converting the rows
    in Python, and reads the cells as every CSV consumer does: an empty cell is missing.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    target = arrow_schema(schema)
    table = pacsv.read_csv(
        pa.py_buffer(csv_bytes),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={f.name: f.type for f in target}, include_columns=target.names, null_values=[""],
            strings_can_be_null=True, quoted_strings_can_be_null=True, true_values=["true"], false_values=["false"],
        ),
    )
    # One chunk per column: the page layout of the file then depends on the rows alone.
    return pa.Table.from_arrays([c.combine_chunks() for c in table.columns], schema=target)


def _parquet_key(csv_bytes: bytes, schema: TableSchema) -> str:
    import pyarrow as pa

    h = hashlib.sha256(f"{pa.__version__}\0{sorted(PARQUET_OPTIONS.items())}\0{arrow_schema(schema)}\0".encode())
    h.update(csv_bytes)
    return h.hexdigest()


def write_parquet(meta: Metadata, out_dir: Path, csv_files: dict[str, bytes], cache_dir: Path | None = None) -> list[str]:
    """Write one Parquet file per table from its CSV bytes (by file name); return the file names.

    With cache_dir, a table whose CSV bytes are unchanged since a build that wrote its Parquet
    file there reuses that file; only the files of the last build are kept.
    """
    import pyarrow.parquet as pq

    folder = cache_dir / "parquet" if cache_dir is not None else None
    names, kept = [], set()
    for schema in meta.tables.values():
        path = out_dir / parquet_filename(schema)
        names.append(path.name)
        if folder is None:
            pq.write_table(arrow_table(csv_files[schema.path], schema), path, **PARQUET_OPTIONS)
            continue
        cached = folder / (_parquet_key(csv_files[schema.path], schema) + ".parquet")
        kept.add(cached.name)
        if not cached.is_file():
            pq.write_table(arrow_table(csv_files[schema.path], schema), path, **PARQUET_OPTIONS)
            _store(path, cached)
        else:
            shutil.copyfile(cached, path)
    if folder is not None:
        for old in folder.glob("*.parquet"):
            if old.name not in kept:
                old.unlink(missing_ok=True)
    return names


def _store(path: Path, cached: Path) -> None:
    """Copy a written file into the cache (atomically: builds may share a cache); failures only cost time."""
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.{os.getpid()}")
        shutil.copyfile(path, tmp)
        os.replace(tmp, cached)
    except OSError:
        pass


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
    # Stored in key order, so the file does not depend on the order of inserts and deletes.
    without_rowid = " WITHOUT ROWID" if schema.primary_key else ""
    return f"CREATE TABLE {_quote(schema.name)} (\n  {body}\n){without_rowid}"


def _sqlite_value(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _insert_sql(schema: TableSchema) -> str:
    cols = schema.field_names
    return f"INSERT INTO {_quote(schema.name)} ({', '.join(map(_quote, cols))}) VALUES ({', '.join('?' * len(cols))})"


def _values(rows, cols: list[str]):
    for row in rows:
        yield [_sqlite_value(row.get(c)) for c in cols]


def _sqlite_env(meta: Metadata) -> str:
    """What the database's bytes depend on besides the rows: the SQLite version and the tables' SQL."""
    h = hashlib.sha256(f"{sqlite3.sqlite_version}\0{SQLITE_PAGE_SIZE}\0".encode())
    for schema in meta.tables.values():
        h.update(create_table_sql(schema).encode() + b"\0")
    return h.hexdigest()


def write_sqlite(
    tables: Tables, meta: Metadata, out_dir: Path, csv_files: dict[str, bytes] | None = None, cache_dir: Path | None = None,
) -> str:
    """Write every table into one SQLite database with its keys; return the file name.

    The tables are WITHOUT ROWID, so each is stored in primary-key order whatever the order of
    the inserts, and `VACUUM INTO` writes a fresh, compact file: its bytes depend only on the
    content and the SQLite version. That makes the database incremental: with cache_dir (and
    the tables' CSV bytes), the last build's database is kept there, and in a table whose CSV
    changed only the rows whose CSV line changed are deleted or inserted. Foreign keys are
    enforced either way.
    """
    path = out_dir / sqlite_filename(meta)
    if cache_dir is None or csv_files is None or not all(s.primary_key for s in meta.tables.values()):
        con = sqlite3.connect(":memory:", isolation_level=None)
        try:
            _fill(con, tables, meta, set(meta.tables), {}, track=False)
            con.execute("VACUUM INTO ?", (str(path),))
        finally:
            con.close()
        return path.name
    folder = cache_dir / "sqlite"
    folder.mkdir(parents=True, exist_ok=True)
    db, state_path = folder / "last.sqlite", folder / "last.pickle"
    env = _sqlite_env(meta)
    digests = {name: hashlib.sha256(csv_files[schema.path]).hexdigest() for name, schema in meta.tables.items()}
    state = _load(state_path)
    if state is None or state.get("env") != env or not db.is_file():
        state = None
    # Until the new state is written, the database on disk matches no known state.
    state_path.unlink(missing_ok=True)
    if state is None:
        db.unlink(missing_ok=True)
        changed = set(meta.tables)
        old: dict = {}
    else:
        changed = {name for name in meta.tables if state["tables"].get(name) != digests[name]}
        old = {name: _load(folder / f"rows-{name}.pickle") for name in changed}
        if any(rows is None for rows in old.values()):
            return write_sqlite(tables, meta, out_dir, csv_files, cache_dir)  # state is gone now: afresh
    con = sqlite3.connect(db, isolation_level=None)
    try:
        con.execute(f"PRAGMA page_size = {SQLITE_PAGE_SIZE}")
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        new = _fill(con, tables, meta, changed, old, track=True)
        con.execute("VACUUM INTO ?", (str(path),))
    finally:
        con.close()
    try:
        for name, rows in new.items():
            _save(folder / f"rows-{name}.pickle", rows)
        _save(state_path, {"env": env, "tables": digests})
    except OSError:
        pass  # the next build starts afresh
    return path.name


def _load(path: Path):
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        return None


def _save(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_bytes(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(tmp, path)


def _row_digests(tables: Tables, meta: Metadata, name: str) -> list[bytes]:
    """A digest of each row's CSV line, at the row's index: it identifies the row's whole content."""
    from pipeline.package import csv_lines

    rows = tables.rows.get(name, [])
    lines = tables.lines.get(name)
    if lines is None or len(lines) != len(rows):
        lines = csv_lines(rows, meta[name].field_names)
    blake = hashlib.blake2b
    return [blake(line.encode(), digest_size=16).digest() for line in lines]


def _fill(con, tables: Tables, meta: Metadata, changed: set[str], old: dict[str, dict], track: bool) -> dict[str, dict]:
    """Bring the `changed` tables from their rows in `old` (row digest -> primary key; a table
    not in `old` is empty) to those of `tables`; with `track`, return their new rows (digest -> key)."""
    con.execute(f"PRAGMA page_size = {SQLITE_PAGE_SIZE}")  # no effect once the file has tables
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("BEGIN")
    if not con.execute("SELECT 1 FROM sqlite_master").fetchone():
        for schema in meta.tables.values():
            con.execute(create_table_sql(schema))
    new = {}
    for name, schema in meta.tables.items():
        if name not in changed:
            continue
        rows, cols, pk = tables.rows.get(name, []), schema.field_names, schema.primary_key
        before = old.get(name)
        if before is None:
            con.executemany(_insert_sql(schema), _values(rows, cols))
            if track:
                new[name] = {d: tuple(_sqlite_value(rows[i].get(k)) for k in pk)
                             for i, d in enumerate(_row_digests(tables, meta, name))}
            continue
        index = {d: i for i, d in enumerate(_row_digests(tables, meta, name))}
        where = " AND ".join(f"{_quote(k)} = ?" for k in pk)
        con.executemany(f"DELETE FROM {_quote(name)} WHERE {where}", [key for d, key in before.items() if d not in index])
        con.executemany(_insert_sql(schema), _values([rows[i] for d, i in index.items() if d not in before], cols))
        new[name] = {d: before.get(d) or tuple(_sqlite_value(rows[i].get(k)) for k in pk) for d, i in index.items()}
    try:
        con.execute("COMMIT")
    except sqlite3.IntegrityError as exc:
        bad = con.execute("PRAGMA foreign_key_check").fetchall()
        raise PipelineError(f"the SQLite export breaks a foreign key ({exc}): {bad[:5]}") from exc
    return new
