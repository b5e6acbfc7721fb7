"""Stage 4b, binary exports: validated tables become one Parquet file per table and one SQLite database.

Input: validated `Tables` and `Metadata`. Output: `<table>.parquet` files and `<dataset-name>.sqlite`
in the staging folder of the build, with the column types, primary and foreign keys of the Table
Schemas. Both are byte-identical across builds made with the same pyarrow and SQLite versions:
rows are sorted as in the CSV files, nothing carries a timestamp, and the writer settings are fixed.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import operator
import os
import pickle
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from pipeline.engine import sealed
from pipeline.errors import PipelineError
from pipeline.metadata import Metadata, TableSchema
from pipeline.rows.tables import Tables
from pipeline.types import TYPES, arrow_type

# Fixed writer settings: defaults of pyarrow may change between versions, and any change of
# row-group or page layout would change the bytes of an unchanged table.
PARQUET_OPTIONS = {
    "compression": "zstd",
    # Level 3, zstd's default: level 9 took five times as long (1.0 s against 0.2 s for the
    # tables of 200,000 spans) for files a quarter smaller (6.0 MB against 7.8 MB).
    "compression_level": 3,
    "row_group_size": 1_000_000,
    "data_page_size": 1 << 20,
    "use_dictionary": False,
    "write_statistics": True,
    "write_page_index": False,
    "store_schema": True,
    "version": "2.6",
}
SQLITE_PAGE_SIZE = 4096


def sqlite_filename(meta: Metadata) -> str:
    return f"{meta.name}.sqlite"


def parquet_filename(schema: TableSchema) -> str:
    return f"{schema.name}.parquet"


# ---- Parquet -----------------------------------------------------------------------------------


def arrow_schema(schema: TableSchema):
    """The Arrow schema of a table: its Table Schema's types, required fields, descriptions and key."""
    import pyarrow as pa

    fields = [
        pa.field(
            name,
            arrow_type(field.get("type", "string")),
            nullable=not schema.required(name),
            metadata={"description": field.get("description", "")},
        )
        for name, field in schema.fields.items()
    ]
    return pa.schema(fields, metadata={"primary_key": ",".join(schema.primary_key)})


def arrow_table(csv_path: Path, schema: TableSchema):
    """One table's CSV file (as written by package.table_csv) as a pyarrow Table typed by its Table Schema.

    Arrow's C++ reader parses the whole table in a fraction of the time of converting the rows
    in Python, and reads the cells as every CSV consumer does: an empty cell is missing.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    target = arrow_schema(schema)
    table = pacsv.read_csv(
        str(csv_path),
        # One thread: as fast here (the build runs this beside other work), and the buffers of
        # Arrow's reader threads stay with them after the file is read (100 MB at 200k spans).
        read_options=pacsv.ReadOptions(use_threads=False),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={f.name: f.type for f in target},
            include_columns=target.names,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            true_values=["true"],
            false_values=["false"],
        ),
    )
    # One chunk per column: the page layout of the file then depends on the rows alone.
    return pa.Table.from_arrays([c.combine_chunks() for c in table.columns], schema=target)


def _parquet_key(csv_sha256: str, schema: TableSchema) -> str:
    # No pyarrow import for a cache hit: importing it costs time and a hundred MB.
    from importlib.metadata import version

    key = json.dumps(
        [version("pyarrow"), sorted(PARQUET_OPTIONS.items()), schema.descriptor, csv_sha256], sort_keys=True
    )
    return hashlib.sha256(key.encode()).hexdigest()


def write_parquet(
    meta: Metadata, out_dir: Path, csv_sha256: dict[str, str] | None = None, cache_dir: Path | None = None
) -> list[str]:
    """Write one Parquet file per table from its CSV file in out_dir; return the file names.

    With cache_dir and the SHA-256 of each CSV file (by file name), a table whose CSV file is
    unchanged since a build that wrote its Parquet file there reuses that file; only the files
    of the last build are kept.
    """
    folder = cache_dir / "parquet" if cache_dir is not None and csv_sha256 is not None else None
    names, kept = [], set()
    for schema in meta.tables.values():
        path = out_dir / parquet_filename(schema)
        names.append(path.name)
        if folder is None or csv_sha256 is None:
            _write_parquet(out_dir / schema.path, schema, path)
            continue
        cached = folder / (_parquet_key(csv_sha256[schema.path], schema) + ".parquet")
        kept.add(cached.name)
        # A cached file is used only while its bytes match their checksum (engine/sealed.py).
        if not sealed.intact(cached):
            _write_parquet(out_dir / schema.path, schema, path)
            _store(path, cached)
            sealed.seal(cached)
        else:
            shutil.copyfile(cached, path)
    if folder is not None:
        for old in [*folder.glob("*.parquet"), *folder.glob("*.parquet" + sealed.SUFFIX)]:
            if old.name.removesuffix(sealed.SUFFIX) not in kept:
                old.unlink(missing_ok=True)
    if "pyarrow" in sys.modules:
        # Arrow's allocator keeps what the largest table took for reuse; nothing after this needs it.
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    return names


def _write_parquet(csv_path: Path, schema: TableSchema, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(arrow_table(csv_path, schema), path, **PARQUET_OPTIONS)


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
        col = f"{_quote(name)} {TYPES[ftype].sqlite}"
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


# Views and full-text search the database adds to the package's tables, for SQL users: each is
# (name, kind, the tables and columns it reads, its SQL). They are made again after every change
# of the rows (the search index copies the texts), always in this order, so that a database
# updated from the cache has the same bytes as a fresh one.
SQLITE_EXTRAS = (
    (
        "casualty_claims",
        "VIEW",
        {"casualties": ("claimant_type",), "spans": (), "sources": (), "events": ()},
        """
SELECT c.casualty_id, c.event_id, e.name AS event_name, c.category, c.count_min, c.count_max, c.qualifier,
       c.claimant, c.claimant_type, c.claimant_actor_id, c.span_id, s.quote, s.source_id,
       so.title AS source_title, so.publisher AS source_publisher, so.published AS source_published, so.url AS source_url
FROM casualties AS c JOIN events AS e ON e.event_id = c.event_id
JOIN spans AS s ON s.span_id = c.span_id JOIN sources AS so ON so.source_id = s.source_id""",
    ),
    (
        "demand_claims",
        "VIEW",
        {"demands": (), "spans": (), "sources": (), "events": ()},
        """
SELECT d.demand_id, d.event_id, e.name AS event_name, d.actor_id, d.text, d.category, d.outcome, d.span_id,
       s.quote, s.source_id, so.title AS source_title, so.url AS source_url
FROM demands AS d JOIN events AS e ON e.event_id = d.event_id
JOIN spans AS s ON s.span_id = d.span_id JOIN sources AS so ON so.source_id = s.source_id""",
    ),
    (
        "event_overview",
        "VIEW",
        {"event_summary": (), "event_mentions": (), "spans": (), "sources": ()},
        """
SELECT es.*, (SELECT group_concat(title, ' | ') FROM (
           SELECT DISTINCT so.title FROM event_mentions AS m JOIN spans AS s ON s.span_id = m.span_id
           JOIN sources AS so ON so.source_id = s.source_id WHERE m.event_id = es.event_id ORDER BY so.title)) AS sources
FROM event_summary AS es""",
    ),
    # One index over every text a user searches: quotes, and the names and descriptions of
    # events and actors. `kind` and `id` say where a hit comes from.
    (
        "search",
        "FTS5",
        {"spans": (), "events": (), "actors": ("description",)},
        """
CREATE VIRTUAL TABLE search USING fts5(kind UNINDEXED, id UNINDEXED, text, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO search (kind, id, text) SELECT 'quote', span_id, quote FROM spans WHERE quote IS NOT NULL ORDER BY span_id;
INSERT INTO search (kind, id, text) SELECT 'event', event_id, name || '. ' || description FROM events ORDER BY event_id;
INSERT INTO search (kind, id, text) SELECT 'actor', actor_id, name || coalesce('. ' || description, '') FROM actors ORDER BY actor_id""",
    ),
)


def sqlite_extras_sql(meta: Metadata) -> list[str]:
    """The statements that (re)make the views and the search index of `SQLITE_EXTRAS` the package's tables allow."""
    drops, creates = [], []
    for name, kind, needs, body in SQLITE_EXTRAS:
        if not all(t in meta.tables and set(cols) <= set(meta[t].field_names) for t, cols in needs.items()):
            continue  # a package without these tables or columns (a test's): no such view
        if kind == "VIEW":
            drops.append(f"DROP VIEW IF EXISTS {_quote(name)}")
            creates.append(f"CREATE VIEW {_quote(name)} AS{body}")
        else:
            drops.append(f"DROP TABLE IF EXISTS {_quote(name)}")
            creates += [s.strip() for s in body.split(";\n")]
    return drops + creates


def _indexed_tables() -> set[str]:
    """The tables whose rows an extra of `SQLITE_EXTRAS` copies (the views copy none)."""
    return {table for _, kind, needs, _ in SQLITE_EXTRAS if kind != "VIEW" for table in needs}


def _add_extras(con, statements: list[str]) -> None:
    for statement in statements:
        con.execute(statement)


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
    for statement in sqlite_extras_sql(meta):
        h.update(statement.encode() + b"\0")
    return h.hexdigest()


def write_sqlite(
    tables: Tables,
    meta: Metadata,
    out_dir: Path,
    csv_sha256: dict[str, str] | None = None,
    cache_dir: Path | None = None,
    fresh: FreshDatabase | None = None,
    changes: dict[str, tuple[list[dict], list[dict]]] | None = None,
) -> str:
    """Write every table into one SQLite database with its keys; return the file name.

    The tables are WITHOUT ROWID, so each is stored in primary-key order whatever the order of
    the inserts, and `VACUUM INTO` writes a fresh, compact file: its bytes depend only on the
    content and the SQLite version. That makes the database incremental: with cache_dir (and the
    SHA-256 of the CSV files in out_dir, by name), the last build's database and CSV files are kept there,
    and in a table whose CSV changed only the rows whose CSV record changed are deleted or
    inserted. Foreign keys are enforced either way.

    `fresh` is the database `start_sqlite` began to fill; it is used if the cache has no
    database to update, and stopped otherwise. `changes`, by table, are the rows a one-file
    rebuild knows to have left and entered a changed table (engine/incremental.py): they are
    deleted and inserted without comparing the table's CSV files.
    """
    try:
        return _write_sqlite(tables, meta, out_dir, csv_sha256, cache_dir, fresh, changes or {})
    finally:
        if fresh is not None:
            fresh.kill()


def start_sqlite(meta: Metadata, out_dir: Path, cache_dir: Path | None, parts: list) -> FreshDatabase | None:
    """Begin filling the database in a child process if `write_sqlite` will need a fresh one; None if not.

    `parts` are the build's partitions: if each is stored in an entry file, the child reads
    their rows from there at once. `FreshDatabase.finish` hands over the rest once validated.
    """
    if cache_dir is not None and _last_state(meta, cache_dir / "sqlite") is not None:
        return None
    entries = [part.entry for part in parts]
    rows = sum(len(r) for part in parts for r in part.tables.rows.values())
    from_entries = frozenset(name for part in parts for name in part.tables.rows)
    return FreshDatabase(
        meta, out_dir / sqlite_filename(meta), entries if None not in entries else None, rows, from_entries
    )


def _fresh(tables: Tables, meta: Metadata, path: Path, fresh: FreshDatabase | None) -> FreshDatabase:
    """The fresh database begun by `start_sqlite`, or one begun now, handed every row it still lacks."""
    if fresh is None:
        fresh = FreshDatabase(meta, path)
    fresh.finish(tables)
    return fresh


def _last_state(meta: Metadata, folder: Path) -> dict | None:
    """The state of the last build's database in folder, if it can be updated."""
    if not all(s.primary_key for s in meta.tables.values()):
        return None
    try:
        state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (
        isinstance(state, dict)
        and state.get("env") == _sqlite_env(meta)
        and isinstance(state.get("tables"), dict)
        and isinstance(state.get("cookie"), int)
        and isinstance(state.get("sha256"), dict)
    ):
        return None
    # The database and the CSV files are used only while their bytes match the state's checksums.
    files = {"last.sqlite": folder / "last.sqlite", **{meta[n].path: folder / meta[n].path for n in meta.tables}}
    if state["sha256"].get("last.sqlite") is None or any(
        name in state["sha256"] and sealed.file_sha256(path) != state["sha256"][name] for name, path in files.items()
    ):
        return None
    return state


def _write_sqlite(tables, meta, out_dir, csv_sha256, cache_dir, fresh, changes) -> str:
    path = out_dir / sqlite_filename(meta)
    folder = cache_dir / "sqlite" if cache_dir is not None and csv_sha256 is not None else None
    try:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = None  # an unwritable cache only costs time
    if folder is None or not all(s.primary_key for s in meta.tables.values()):
        _fresh(tables, meta, path, fresh).result()
        return path.name
    db, state_path = folder / "last.sqlite", folder / "state.json"
    digests = {name: csv_sha256[schema.path] for name, schema in meta.tables.items()}
    state = _last_state(meta, folder)
    # Until the new state is written, the files in the folder match no known state.
    state_path.unlink(missing_ok=True)
    changed = [name for name in meta.tables if state is None or state["tables"].get(name) != digests[name]]
    if state is not None and not all((folder / meta[name].path).is_file() for name in changed):
        state, changed = None, list(meta.tables)
    if state is None:
        cookie = _fresh(tables, meta, path, fresh).result()
    else:
        if fresh is not None:
            fresh.kill()
            path.unlink(missing_ok=True)
        con = sqlite3.connect(db, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode = OFF")
            con.execute("PRAGMA synchronous = OFF")
            con.execute("PRAGMA foreign_keys = ON")
            con.execute("BEGIN")
            for name in changed:
                if name in changes:
                    _apply(con, meta[name], *changes[name])
                    continue
                old = (folder / meta[name].path).read_text(encoding="utf-8")
                new = (out_dir / meta[name].path).read_text(encoding="utf-8")
                _update(con, meta[name], tables.rows.get(name, []), old, new)
            # Views hold no rows; the search index copies texts, so it is made again (all extras,
            # in their order, as a fresh database has them) when a table it copies changed.
            if set(changed) & _indexed_tables():
                _add_extras(con, sqlite_extras_sql(meta))
            _commit(con)
            # VACUUM INTO writes the schema cookie plus one into the header: set it back to the
            # fresh database's, which the cached copy (written by VACUUM INTO) exceeds by one.
            cookie = state["cookie"]
            con.execute(f"PRAGMA schema_version = {int(cookie)}")
            con.execute("VACUUM INTO ?", (str(path),))
        finally:
            con.close()
    try:
        if state is None:
            shutil.copyfile(path, db)
        for name in changed:
            shutil.copyfile(out_dir / meta[name].path, folder / meta[name].path)
        checksums = {
            "last.sqlite": sealed.file_sha256(db),
            **{meta[n].path: sealed.file_sha256(folder / meta[n].path) for n in meta.tables},
        }
        state_path.write_text(
            json.dumps(
                {
                    "env": _sqlite_env(meta),
                    "tables": digests,
                    "cookie": cookie,
                    "sha256": {k: v for k, v in checksums.items() if v is not None},
                }
            ),
            encoding="utf-8",
        )
    except OSError:
        pass  # without its state, the next build starts afresh
    return path.name


class FreshDatabase:
    """Every table's rows written into a new database at path by a child process (`fill_database`).

    Started with the partitions' entry files (`partition.write_entry`), the child reads their rows
    from there as soon as they exist, while the build merges and checks them; `finish` then hands
    it the rows no partition holds (sources, derived tables), once validated. Without entry files
    every row goes to it in `finish`. Rows travel pickled, a chunk at a time, through an unnamed
    temporary file, with one byte on a pipe to say they are complete. `result()` waits and returns
    the database's schema cookie. Small databases are filled in the build's own process.
    """

    def __init__(
        self,
        meta: Metadata,
        path: Path,
        entries: list[str] | None = None,
        rows: int = 0,
        from_entries: frozenset[str] = frozenset(),
    ):
        from pipeline.engine import background
        from pipeline.engine.background import Child

        self.meta = meta
        self.rows = tempfile.TemporaryFile()  # noqa: SIM115 (owned by this writer, closed in close())
        self.ready_read, self.ready_write = os.pipe()
        self.finished = False
        self.task = {
            "path": str(path),
            "page_size": SQLITE_PAGE_SIZE,
            "rows_fd": self.rows.fileno(),
            "ready_fd": self.ready_read,
            "entries": entries or [],
            "tables": {
                name: [create_table_sql(schema), _insert_sql(schema), schema.field_names]
                for name, schema in meta.tables.items()
            },
            "extras": sqlite_extras_sql(meta),
        }
        # The tables whose rows the entry files hold (all but sources and the derived ones). A
        # small database is filled in this process from the rows at hand instead.
        big = rows >= background.MIN_ROWS
        self.from_entries = from_entries if entries and big else frozenset()
        if not big:
            self.task["entries"] = []
        self.child = None
        try:
            if big:
                self.child = Child(
                    "pipeline.write.exports:fill_database", self.task, pass_fds=(self.rows.fileno(), self.ready_read)
                )
        except BaseException:
            self.close()
            raise

    def finish(self, tables: Tables) -> None:
        """Hand over the validated rows of every table but those the entry files hold (once)."""
        if self.finished:
            return
        self.finished = True
        for name, schema in self.meta.tables.items():
            # Restated tables: the merge changed rows the entry files hold; sent again, they replace them.
            if name not in self.from_entries or name in tables.restated:
                for chunk in _tuples(tables.rows.get(name, []), schema.field_names):
                    pickle.dump((name, chunk), self.rows, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(None, self.rows)
        self.rows.flush()
        os.write(self.ready_write, b"1")

    def result(self) -> int:
        try:
            if self.child is None:
                # A small database: filled here (fill_database closes the descriptors it is given).
                return fill_database(
                    {**self.task, "rows_fd": os.dup(self.rows.fileno()), "ready_fd": os.dup(self.ready_read)}
                )
            return self.child.result()
        finally:
            self.close()

    def kill(self) -> None:
        if self.child is not None:
            self.child.kill()
        self.close()

    def close(self) -> None:
        self.rows.close()
        for fd in (self.ready_read, self.ready_write):
            with contextlib.suppress(OSError):  # closed already
                os.close(fd)
        self.ready_read = self.ready_write = -1


_CHUNK_ROWS = 20_000


def _tuples(rows: list[dict], columns: list[str]):
    """The rows' values in column order, as lists of tuples of at most _CHUNK_ROWS rows.

    Validated rows hold only str, int, bool and None, which SQLite binds as they are (bool as int).
    """
    for i in range(0, len(rows), _CHUNK_ROWS):
        chunk = rows[i : i + _CHUNK_ROWS]
        try:
            yield (
                list(map(operator.itemgetter(*columns), chunk))
                if len(columns) > 1
                else [(r[columns[0]],) for r in chunk]
            )
        except KeyError:  # rows lacking a column: the general way
            yield [tuple(row.get(c) for c in columns) for row in chunk]


def fill_database(task: dict) -> int:
    """`FreshDatabase` in its child process: the rows into a database in memory, then `VACUUM INTO` the file.

    First the rows of the entry files, then, once the build says they are complete, the rows it
    sends. The tables are WITHOUT ROWID, so the order of the inserts does not show in the file.
    """
    from pipeline.engine.partition import read_rows

    con = sqlite3.connect(":memory:", isolation_level=None)
    try:
        con.execute(f"PRAGMA page_size = {int(task['page_size'])}")
        # Rows arrive in any order (spans before their sources): enforced keys would make SQLite
        # search the referencing table, which has no index, for every parent inserted after its
        # children. The keys are checked once, in bulk, at the end instead.
        con.execute("PRAGMA foreign_keys = OFF")
        con.execute("BEGIN")
        tables = task["tables"]
        for create, _, _ in tables.values():
            con.execute(create)
        for entry in task["entries"]:
            for name, (names, values) in read_rows(entry).items():
                _, insert, columns = tables[name]
                if names == columns:
                    con.executemany(insert, values)  # stored in the table's column order already
                else:
                    for chunk in _tuples([dict(zip(names, v, strict=True)) for v in values], columns):
                        con.executemany(insert, chunk)
        with os.fdopen(task["ready_fd"], "rb") as ready:
            if ready.read(1) != b"1":
                raise PipelineError("the build stopped before handing over its rows")
        with os.fdopen(task["rows_fd"], "rb") as rows_file:
            rows_file.seek(0)
            for name, chunk in iter(lambda: pickle.load(rows_file), None):
                # OR REPLACE: the build sends again the rows the merge restated (see finish).
                con.executemany(tables[name][1].replace("INSERT INTO", "INSERT OR REPLACE INTO", 1), chunk)
        bad = con.execute("PRAGMA foreign_key_check").fetchall()
        if bad:
            raise PipelineError(f"the SQLite export breaks a foreign key: {bad[:5]}")
        _add_extras(con, task.get("extras", []))
        _commit(con)
        cookie = con.execute("PRAGMA schema_version").fetchone()[0]
        con.execute("VACUUM INTO ?", (task["path"],))
    finally:
        con.close()
    return cookie


def _update(con, schema: TableSchema, rows: list[dict], old_csv: str, new_csv: str) -> None:
    """Delete the rows whose CSV record is gone and insert those whose record is new."""
    from pipeline.write.package import cell_text

    old = set(map(tuple, csv.reader(io.StringIO(old_csv, newline=""))))
    new = set(map(tuple, csv.reader(io.StringIO(new_csv, newline=""))))
    at = [schema.field_names.index(k) for k in schema.primary_key]
    where = " AND ".join(f"{_quote(k)} = ?" for k in schema.primary_key)
    con.executemany(f"DELETE FROM {_quote(schema.name)} WHERE {where}", [[rec[i] for i in at] for rec in old - new])
    added = {tuple(rec[i] for i in at) for rec in new - old}
    pk = schema.primary_key
    rows = [row for row in rows if tuple(cell_text(row.get(k)) for k in pk) in added] if added else []
    con.executemany(_insert_sql(schema), _values(rows, schema.field_names))


def _apply(con, schema: TableSchema, deleted: list[dict], inserted: list[dict]) -> None:
    """Delete the rows that left the table (by key) and insert those that entered it."""
    where = " AND ".join(f"{_quote(k)} = ?" for k in schema.primary_key)
    con.executemany(
        f"DELETE FROM {_quote(schema.name)} WHERE {where}",
        [[_sqlite_value(row.get(k)) for k in schema.primary_key] for row in deleted],
    )
    con.executemany(_insert_sql(schema), _values(inserted, schema.field_names))


def _commit(con) -> None:
    try:
        con.execute("COMMIT")
    except sqlite3.IntegrityError as exc:
        bad = con.execute("PRAGMA foreign_key_check").fetchall()
        raise PipelineError(f"the SQLite export breaks a foreign key ({exc}): {bad[:5]}") from exc
