import datetime
from pathlib import Path

import duckdb
import pytest

from fedsafe.backends.dsn import connect, parse_dsn
from fedsafe.backends.validate import check_tables
from fedsafe.codes import SNOMEDCTCode
from fedsafe.errors import DataSourceError
from fedsafe.query_model import nodes
from fedsafe.query_model.schema import Column, TableSchema

PATIENTS = nodes.SelectPatientTable(
    "patients",
    TableSchema((Column("date_of_birth", datetime.date), Column("sex", str))),
)
EVENTS = nodes.SelectTable(
    "clinical_events",
    TableSchema(
        (
            Column("date", datetime.date),
            Column("snomedct_code", SNOMEDCTCode),
            Column("numeric_value", float),
            Column("flag", bool),
        )
    ),
)


@pytest.fixture
def database(tmp_path: Path):
    def make(*statements: str):
        path = tmp_path / "db.duckdb"
        with duckdb.connect(str(path)) as con:
            for statement in statements:
                con.execute(statement)
        backend = connect(parse_dsn(f"duckdb://{path}"))
        made.append(backend)
        return backend

    made: list = []
    yield make
    for backend in made:
        backend.disconnect()


GOOD_PATIENTS = "create table patients (patient_id bigint, date_of_birth date, sex varchar)"
GOOD_EVENTS = (
    "create table clinical_events (patient_id integer, date date, snomedct_code varchar, "
    "numeric_value decimal(10, 2), flag boolean, extra_column varchar)"
)


def test_compatible_tables_pass(database) -> None:
    backend = database(GOOD_PATIENTS, GOOD_EVENTS)
    check_tables(backend, {"patients": PATIENTS, "clinical_events": EVENTS})


def test_table_schema_accepted(database) -> None:
    backend = database(GOOD_PATIENTS)
    check_tables(backend, {"patients": PATIENTS.schema})


def test_every_problem_is_listed(database) -> None:
    backend = database(
        "create table patients (patient_id varchar, date_of_birth timestamp)",
    )
    with pytest.raises(DataSourceError) as info:
        check_tables(
            backend, {"patients": PATIENTS, "clinical_events": EVENTS}, source="duckdb:///x"
        )
    message = str(info.value)
    assert message.startswith("the database duckdb:///x does not have what")
    assert "table 'patients', column 'patient_id': has type string, expected integer" in message
    assert "table 'patients', column 'date_of_birth': has type timestamp" in message
    assert "expected date" in message
    assert "table 'patients' has no column 'sex' (it has patient_id, date_of_birth)" in message
    assert "table 'clinical_events' is missing" in message


def test_code_column_must_be_text(database) -> None:
    backend = database(
        "create table clinical_events (patient_id bigint, date date, snomedct_code bigint, "
        "numeric_value double, flag boolean)"
    )
    with pytest.raises(DataSourceError, match="'snomedct_code': has type int64, expected"):
        check_tables(backend, {"clinical_events": EVENTS})
