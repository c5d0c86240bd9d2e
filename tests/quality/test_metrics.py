"""Backend data-quality metrics, made from a database with small groups: none of them show."""

import json
import re
from pathlib import Path

import ibis
import pytest

from fedsafe.cli.quality import core_tables
from fedsafe.disclosure import DisclosurePolicy, is_possible_protected_count
from fedsafe.disclosure.checker import check_output_file
from fedsafe.disclosure.findings import Status
from fedsafe.quality import compute_backend_metrics, write_backend_metrics
from quality.backend_db import RARE_CODE, RARE_MONTH, make_database


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    return make_database(tmp_path_factory.mktemp("backend") / "backend.duckdb")


def test_metrics_show_no_small_group_and_pass_the_checker(database, tmp_path):
    backend = ibis.duckdb.connect(str(database), read_only=True)
    tables = {n: core_tables()[n] for n in ("patients", "clinical_events")}
    policy = DisclosurePolicy()
    metrics = compute_backend_metrics(backend, tables, policy)
    backend.disconnect()
    written = write_backend_metrics(metrics, tmp_path / "out")

    events = next(t for t in metrics.tables if t.name == "clinical_events")
    assert events.rows == 2005 and events.patients == 300
    months = events.months["date"]
    assert "2020-03" in months.labels and RARE_MONTH not in months.labels
    codes = events.codes["snomedct_code"]
    assert "value 111111" in codes.labels and f"value {RARE_CODE}" not in codes.labels
    date_row = next(row for row in events.completeness if row[0] == "date")
    assert date_row[1] is None  # 3 missing: suppressed
    patients = next(t for t in metrics.tables if t.name == "patients")
    assert next(r for r in patients.completeness if r[0] == "date_of_birth")[1] is None

    html = (tmp_path / "out" / "report.html").read_text()
    # a chart per date column (patients: 2, clinical_events: 1) and per code column (1)
    assert html.count("<svg") == 4 and "clinical_events.date: rows by month" in html
    for cell in re.findall(r'<td class="count[^"]*">([^<]*)</td>', html):
        assert cell == "[suppressed]" or is_possible_protected_count(
            int(cell.replace(",", "")), policy
        )
    everything = "".join(p.read_text() for p in written)
    assert html in everything
    assert RARE_CODE not in everything and RARE_MONTH not in everything and "1905" not in everything
    csvs = [p for p in written if p.suffix == ".csv"]
    for path in csvs:
        report = check_output_file(path, policy)
        assert report.status is Status.PASS, (path, report.findings)
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert {e["metric"] for e in index["files"]} == {
        "table_sizes",
        "completeness",
        "rows_by_month",
        "top_codes",
    }
    for table in metrics.tables:
        for counts in [*table.months.values(), *table.codes.values()]:
            for value in [*counts.counts, counts.total]:
                assert value is None or is_possible_protected_count(value, policy)
