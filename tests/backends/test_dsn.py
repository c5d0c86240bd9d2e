from pathlib import Path

import duckdb
import pytest

from fedsafe.backends.dsn import Dsn, connect, parse_dsn
from fedsafe.errors import DataSourceError


def test_absolute_path() -> None:
    assert parse_dsn("duckdb:///srv/data/db.duckdb") == Dsn("duckdb", Path("/srv/data/db.duckdb"))


def test_relative_path() -> None:
    assert parse_dsn("duckdb://data/db.duckdb") == Dsn("duckdb", Path("data/db.duckdb"))


def test_in_memory() -> None:
    assert parse_dsn("duckdb://:memory:") == Dsn("duckdb", None)


def test_scheme_is_case_insensitive() -> None:
    assert parse_dsn("DuckDB:///x.duckdb").scheme == "duckdb"


def test_str_round_trips() -> None:
    for url in ("duckdb:///srv/db.duckdb", "duckdb://rel/db.duckdb", "duckdb://:memory:"):
        assert str(parse_dsn(url)) == url


@pytest.mark.parametrize(
    "url", ["postgresql://user:secret@host/db", "sqlite:///x.db", "mysql://h/db"]
)
def test_unknown_scheme_lists_supported_ones(url: str) -> None:
    with pytest.raises(DataSourceError) as info:
        parse_dsn(url)
    message = str(info.value)
    assert "unsupported database type" in message
    assert "duckdb://" in message
    assert "secret" not in message


@pytest.mark.parametrize("url", ["/srv/db.duckdb", "db.duckdb", "duckdb:/x", ""])
def test_not_a_url(url: str) -> None:
    with pytest.raises(DataSourceError, match="not a database URL"):
        parse_dsn(url)


def test_no_path() -> None:
    with pytest.raises(DataSourceError, match="names no database file"):
        parse_dsn("duckdb://")


def test_options_refused() -> None:
    with pytest.raises(DataSourceError, match="no options"):
        parse_dsn("duckdb:///x.duckdb?threads=4")


def test_missing_database_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.duckdb"
    with pytest.raises(DataSourceError, match="does not exist"):
        connect(parse_dsn(f"duckdb://{missing}"))
    assert not missing.exists(), "connecting must never create a database"


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "garbage.duckdb"
    path.write_text("this is not a database")
    with pytest.raises(DataSourceError, match="cannot open DuckDB database"):
        connect(parse_dsn(f"duckdb://{path}"))


def test_connects_read_only(tmp_path: Path) -> None:
    path = tmp_path / "db.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table patients (patient_id bigint)")
        con.execute("insert into patients values (1), (2)")
    backend = connect(parse_dsn(f"duckdb://{path}"))
    try:
        assert backend.table("patients").count().to_pyarrow().as_py() == 2
        with pytest.raises(duckdb.Error, match="read-only"):
            backend.raw_sql("insert into patients values (3)")
    finally:
        backend.disconnect()


def test_relative_path_is_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    with duckdb.connect(str(tmp_path / "data" / "db.duckdb")) as con:
        con.execute("create table t (patient_id bigint)")
    monkeypatch.chdir(tmp_path)
    backend = connect(parse_dsn("duckdb://data/db.duckdb"))
    try:
        assert backend.list_tables() == ["t"]
    finally:
        backend.disconnect()


def test_in_memory_connects() -> None:
    backend = connect(parse_dsn("duckdb://:memory:"))
    try:
        assert backend.list_tables() == []
    finally:
        backend.disconnect()
