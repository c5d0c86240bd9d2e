"""B's extract: only declared columns, only matched patients, dates coarsened, rows shuffled."""

from __future__ import annotations

import dataclasses
import datetime

import ibis
import pyarrow as pa
import pytest

from fedsafe.linkage.errors import LinkageError
from fedsafe.linkage.extract import (
    PSEUDONYM,
    Extract,
    build_extract,
    pack_extract,
    unpack_extract,
)

D = datetime.date


def apcs_rows(patients: int = 60) -> pa.Table:
    rows = []
    for patient in range(1, patients + 1):
        for n in range(3):
            rows.append(
                {
                    "patient_id": patient,
                    "admission_date": D(2019 + n * 2, 1 + patient % 12, 1 + patient % 27),
                    "discharge_date": D(2019 + n * 2, 1 + patient % 12, 28),
                    "primary_diagnosis": f"I{patient % 100:02d}",
                    "all_diagnoses": "SECRET-" + str(patient),
                }
            )
    return pa.Table.from_pylist(rows)


@pytest.fixture(params=["duckdb", "sqlite"])
def apcs(request, tmp_path):
    if request.param == "duckdb":
        con = ibis.duckdb.connect()
    else:
        con = ibis.sqlite.connect(tmp_path / "hospital.db")
    return {"tpp.apcs": con.create_table("apcs", apcs_rows())}


def test_only_declared_columns_of_matched_patients_in_range_coarsened(apcs, declaration):
    matched = [5, 17, 42]
    names = ["p5", "p17", "p42"]
    extract = build_extract(apcs, matched, names, declaration)
    table = extract.tables["tpp.apcs"]
    assert table.column_names == [PSEUDONYM, "admission_date", "primary_diagnosis"]
    rows = table.to_pylist()
    # years 2019, 2021, 2023 per patient; the declared range is 2020-01-01..2023-12-31
    assert sorted((r[PSEUDONYM], r["admission_date"]) for r in rows) == sorted(
        (f"p{p}", D(year, 1 + p % 12, 1)) for p in matched for year in (2021, 2023)
    )
    assert {r["primary_diagnosis"] for r in rows} == {"I05", "I17", "I42"}
    assert extract.rows == 6 and extract.patients == 3


def test_year_coarsening_keeps_only_the_year(apcs, declaration):
    yearly = dataclasses.replace(declaration, coarsen_dates="year")
    table = build_extract(apcs, [5], ["p5"], yearly).tables["tpp.apcs"]
    assert sorted(table.column("admission_date").to_pylist()) == [D(2021, 1, 1), D(2023, 1, 1)]


def test_day_precision_sends_dates_unchanged(apcs, declaration):
    daily = dataclasses.replace(declaration, coarsen_dates="day", date_range=None)
    table = build_extract(apcs, [5], ["p5"], daily).tables["tpp.apcs"]
    assert sorted(table.column("admission_date").to_pylist())[0] == D(2019, 6, 6)


def test_no_match_gives_empty_tables(apcs, declaration):
    table = build_extract(apcs, [], [], declaration).tables["tpp.apcs"]
    assert table.num_rows == 0
    assert table.column_names == [PSEUDONYM, "admission_date", "primary_diagnosis"]


def test_rows_are_shuffled(declaration):
    con = ibis.duckdb.connect()
    tables = {"tpp.apcs": con.create_table("apcs", apcs_rows(400))}
    ids = list(range(1, 401))
    names = [f"p{i:04d}" for i in ids]
    orders = {
        tuple(
            build_extract(tables, ids, names, declaration)
            .tables["tpp.apcs"]
            .column(PSEUDONYM)
            .to_pylist()
        )
        for _ in range(3)
    }
    assert len(orders) == 3  # 800 rows: three equal orders by chance is impossible in practice
    for order in orders:
        assert list(order) != sorted(order)


def test_a_table_or_column_the_backend_lacks_is_a_clear_error(declaration):
    con = ibis.duckdb.connect()
    thin = con.create_table("apcs", apcs_rows().drop_columns(["primary_diagnosis"]))
    with pytest.raises(LinkageError, match="lacks columns primary_diagnosis"):
        build_extract({"tpp.apcs": thin}, [1], ["p1"], declaration)
    with pytest.raises(LinkageError, match=r"does not provide tpp\.apcs"):
        build_extract({}, [1], ["p1"], declaration)


def test_the_payload_packs_and_unpacks_exactly(apcs, declaration):
    extract = build_extract(apcs, [5, 6], ["p5", "p6"], declaration)
    back = unpack_extract(pack_extract(extract))
    assert back.tables["tpp.apcs"].equals(extract.tables["tpp.apcs"])
    empty = Extract({})
    assert unpack_extract(pack_extract(empty)).tables == {}


@pytest.mark.parametrize("junk", [b"", b"\x00\x00\x00\x05[1,2]", b"\x00\x00\x00\x02[]extra"])
def test_a_damaged_payload_is_refused(junk):
    with pytest.raises(LinkageError):
        unpack_extract(junk)
