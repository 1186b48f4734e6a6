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


def write_parquet(csv_path: Path, parquet_path: Path) -> int:
    """The CSV file's rows as a Parquet file (zstd), in their order; returns how many."""
    cur = cursor()
    cur.execute(
        f"COPY ({csv_rows(csv_path)}) TO {literal(str(parquet_path))} "
        "(FORMAT parquet, COMPRESSION zstd)"
    )
    row: Any = cur.execute(
        f"SELECT count(*) FROM read_parquet({literal(str(parquet_path))})"
    ).fetchone()
    return int(row[0])


def parquet_rows(paths: list[Path]) -> str:
    """SQL for the rows of these archive files."""
    return f"SELECT * FROM read_parquet([{', '.join(literal(str(p)) for p in paths)}])"
