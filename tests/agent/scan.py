"""Scanning everything a coordinator stored for text that must never reach it."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def database_texts(path: Path) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text-like value in every table of a SQLite file."""
    found = []
    with closing(sqlite3.connect(path)) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            for row in con.execute(f'SELECT * FROM "{table}"'):
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if value is not None:
                        found.append((table, column, str(value)))
    return found


def leaks(database: Path, folder: Path, extra_text: str, markers: list[str]) -> list[str]:
    """Every place a marker appears: a database value, any file's bytes in ``folder`` (the
    database file itself, its journal, anything else written there), or ``extra_text``."""
    hits = []
    for table, column, value in database_texts(database):
        hits += [f"{table}.{column}: {m}" for m in markers if m in value]
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = file.read_bytes()
        hits += [f"{file.name}: {m}" for m in markers if m.encode() in data]
    hits += [f"server output: {m}" for m in markers if m in extra_text]
    return hits
