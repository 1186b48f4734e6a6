"""DuckDB, in process: the archive's files are written and read with it. Imported only where
the archive is used (the module is large: the API function's cold start does not pay for it)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from pulse.data import archive as sql

_lock = threading.Lock()


@functools.cache
def _database() -> duckdb.DuckDBPyConnection:
    db = duckdb.connect(":memory:")
    # Extensions are never fetched (a function in a VPC has no way out, and needs none).
    db.execute("SET autoinstall_known_extensions = false")
    return db


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor of the process's in-memory database, for one thread's queries."""
    with _lock:
        return _database().cursor()


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def csv_rows(path: Path, columns: Sequence[str] | None = None, *, value: bool = False) -> str:
    """SQL for the rows of a CSV file written by ``pulse.data.archive.copy_events`` with these
    ``columns`` (all by default) and a ``value`` (``v``, text) if it had one, with the
    archive's column types (the properties as a map)."""
    chosen = sql.chosen(columns) + ([("v", "", "VARCHAR")] if value else [])
    types = "{" + ", ".join(f"{literal(n)}: {literal(t)}" for n, _, t in chosen) + "}"
    names = ", ".join(
        "CAST(json_transform(props, '\"MAP(VARCHAR, VARCHAR)\"') AS MAP(VARCHAR, VARCHAR)) AS props"
        if n == "props"
        else n
        for n, _, _ in chosen
    )
    return (
        f"SELECT {names} FROM read_csv({literal(str(path))}, header = false, columns = {types}, "
        "quote = '\"', escape = '\"', allow_quoted_nulls = false, auto_detect = false)"
    )


# Properties set on at least this share of a day's events (at most PROP_COLUMNS of them, the
# most set first) are also written as columns of their own.
PROP_COLUMN_SHARE = 0.01
PROP_COLUMNS = 16


def write_parquet(csv_path: Path, parquet_path: Path) -> tuple[int, list[str]]:
    """The CSV file's rows as a Parquet file (zstd), in their order, with the day's most set
    properties also as columns ``p0``, ``p1``, …; returns how many rows, and those properties
    in column order. Three passes over the file, each streamed (a day of millions of events is
    never held in memory): the rows' count, the properties' counts, then the copy."""
    cur = cursor()
    rows = csv_rows(csv_path)
    total: Any = cur.execute(f"SELECT count(*) FROM ({rows})").fetchone()
    keys = [
        str(k)
        for (k,) in cur.execute(
            f"SELECT k FROM (SELECT unnest(map_keys(props)) AS k FROM ({rows})) "
            "GROUP BY k HAVING count(*) >= ? ORDER BY count(*) DESC, k LIMIT ?",
            [max(1, PROP_COLUMN_SHARE * int(total[0])), PROP_COLUMNS],
        ).fetchall()
    ]
    shredded = "".join(f", props[{literal(k)}] AS p{i}" for i, k in enumerate(keys))
    cur.execute(
        f"COPY (SELECT *{shredded} FROM ({rows})) TO {literal(str(parquet_path))} "
        "(FORMAT parquet, COMPRESSION zstd)"
    )
    return int(total[0]), keys


def parquet_rows(paths: list[Path]) -> str:
    """SQL for the rows of these archive files."""
    # union_by_name: the files of several days may have different property columns.
    files = ", ".join(literal(str(p)) for p in paths)
    return f"SELECT * FROM read_parquet([{files}], union_by_name = true)"
