"""A configured backend: check reports, bad databases, refused definitions, Spark on Parquet."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from backends.databases import write_config, write_duckdb, write_parquet, write_sqlite
from backends.population import core_population
from fedsafe.backends.backend import Backend, TableNotProvidedError
from fedsafe.backends.config import load_config
from fedsafe.backends.connect import BackendConnectionError
from fedsafe.backends.mappings.omop_writer import to_omop
from fedsafe.errors import DataSourceError, FedsafeError
from fedsafe.loader import load_dataset_definition

DEFINITION = Path(__file__).parent / "definitions" / "cohort.py"
CORE = ["patients", "practice_registrations", "clinical_events", "medications", "ons_deaths"]


@pytest.fixture(scope="module")
def population() -> dict[str, pa.Table]:
    return core_population(n=60)


@pytest.fixture(scope="module")
def dataset():
    return load_dataset_definition(DEFINITION, {}).dataset


def run(config: Path, dataset) -> pa.Table:
    con, reader = Backend(load_config(config)).run(dataset)
    try:
        return reader.read_all()
    finally:
        con.disconnect()


def test_check_reports_every_table_and_column(population, tmp_path: Path) -> None:
    write_sqlite(tmp_path / "omop.sqlite", to_omop(population))
    backend = Backend(
        load_config(
            write_config(tmp_path / "b.toml", f"sqlite://{tmp_path}/omop.sqlite", "omop", CORE)
        )
    )
    con = backend.connect()
    report = backend.check(con)
    con.disconnect()
    assert all(line.ok for line in report), [line for line in report if not line.ok]
    tables = {line.table for line in report if line.column is None}
    assert {"person", "death", "concept", "drug_exposure", "measurement"} <= tables
    assert any(line.table == "person" and line.column == "year_of_birth" for line in report)


def test_missing_tables_columns_and_wrong_types_are_reported(population, tmp_path: Path) -> None:
    omop = to_omop(population)
    del omop["concept"]
    omop["person"] = omop["person"].drop(["year_of_birth"])
    omop["death"] = omop["death"].set_column(
        1, "death_date", pa.array([str(d) for d in omop["death"]["death_date"].to_pylist()])
    )
    write_sqlite(tmp_path / "omop.sqlite", omop)
    config = write_config(tmp_path / "b.toml", f"sqlite://{tmp_path}/omop.sqlite", "omop", CORE)
    backend = Backend(load_config(config))
    con = backend.connect()
    problems = {(s.table, s.column, s.status) for s in backend.check(con) if not s.ok}
    con.disconnect()
    assert problems == {
        ("concept", None, "missing"),
        ("person", "year_of_birth", "missing"),
        ("death", "death_date", "wrong type"),
    }


def test_running_on_a_database_lacking_a_mapped_column_names_it(
    population, dataset, tmp_path: Path
) -> None:
    core = dict(population)
    core["medications"] = core["medications"].drop(["dmd_code"])
    write_duckdb(tmp_path / "core.duckdb", core)
    config = write_config(tmp_path / "b.toml", f"duckdb://{tmp_path}/core.duckdb", "native", CORE)
    with pytest.raises(DataSourceError, match=r"medications\.dmd_code: missing"):
        run(config, dataset)


def test_a_definition_using_a_table_the_backend_lacks_is_refused_before_connecting(
    dataset, tmp_path: Path
) -> None:
    """The engine URL points at nothing; the refusal comes first, so no query could run."""
    provided = ["patients", "practice_registrations", "clinical_events", "medications"]
    config = write_config(tmp_path / "b.toml", "postgresql://x@127.0.0.1:1/none", "omop", provided)
    with pytest.raises(TableNotProvidedError, match="does not provide the table 'ons_deaths'"):
        run(config, dataset)
    with pytest.raises(TableNotProvidedError, match="'ons_deaths'"):
        Backend(load_config(config)).sql(dataset)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://fedsafe@127.0.0.1:1/omop",  # nothing listens on port 1
        "postgresql://fedsafe@no-such-host.invalid:5432/omop",
        "sqlite:///no/such/file.sqlite",
        "duckdb:///no/such/file.duckdb",
    ],
)
def test_an_engine_that_cannot_be_reached_gives_a_clear_message(url: str, tmp_path: Path) -> None:
    backend = Backend(load_config(write_config(tmp_path / "b.toml", url, "omop", CORE)))
    with pytest.raises(DataSourceError) as error:
        backend.connect()
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message
    assert ("cannot connect to" in message) or ("does not exist" in message)


def test_a_password_from_the_environment_is_used_and_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DB_PASSWORD", "s3cret-value")
    url = "postgresql://fedsafe:${TEST_DB_PASSWORD}@127.0.0.1:1/omop"
    backend = Backend(load_config(write_config(tmp_path / "b.toml", url, "omop", CORE)))
    with pytest.raises(BackendConnectionError) as error:
        backend.connect()
    assert "s3cret-value" not in str(error.value)
    assert "fedsafe:***@127.0.0.1:1" in str(error.value)


def test_an_unset_password_variable_is_named(tmp_path: Path) -> None:
    url = "postgresql://fedsafe:${UNSET_FEDSAFE_TEST_VAR}@127.0.0.1:1/omop"
    backend = Backend(load_config(write_config(tmp_path / "b.toml", url, "omop", CORE)))
    with pytest.raises(FedsafeError, match="UNSET_FEDSAFE_TEST_VAR, which is not set"):
        backend.connect()


def test_native_duckdb_is_opened_read_only(population, dataset, tmp_path: Path) -> None:
    write_duckdb(tmp_path / "core.duckdb", population)
    config = write_config(tmp_path / "b.toml", f"duckdb://{tmp_path}/core.duckdb", "native", CORE)
    before = (tmp_path / "core.duckdb").read_bytes()
    assert run(config, dataset).num_rows > 0
    assert (tmp_path / "core.duckdb").read_bytes() == before
    with duckdb.connect(str(tmp_path / "core.duckdb")) as con:
        assert con.execute("select count(*) from patients").fetchone() == (60,)


@pytest.mark.parametrize("mapping", ["native", "omop"])
def test_spark_over_parquet_gives_the_duckdb_answer(
    population, dataset, tmp_path: Path, mapping: str
) -> None:
    """A Spark backend reads Parquet datasets from a folder: a cluster reads them from HDFS/S3."""
    write_duckdb(tmp_path / "core.duckdb", population)
    native = write_config(tmp_path / "n.toml", f"duckdb://{tmp_path}/core.duckdb", "native", CORE)
    tables = population if mapping == "native" else to_omop(population)
    write_parquet(tmp_path / "parquet", tables)
    extra = (
        f'parquet = "{tmp_path}/parquet"\nspark_conf = {{ "spark.sql.shuffle.partitions" = "2" }}\n'
    )
    config = write_config(tmp_path / "s.toml", "spark://local[1]", mapping, CORE, extra=extra)
    expected = run(native, dataset)
    actual = run(config, dataset)
    assert expected.num_rows > 10
    assert _rounded(actual) == _rounded(expected)


def _rounded(table: pa.Table) -> list[dict]:
    return [
        {k: round(v, 9) if isinstance(v, float) else v for k, v in row.items()}
        for row in table.to_pylist()
    ]
