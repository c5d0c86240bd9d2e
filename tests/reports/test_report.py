"""The dataset report, attacked with small groups: nothing under the threshold gets out."""

import datetime
import random
import re
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest

from fedsafe.disclosure import DisclosurePolicy, is_possible_protected_count
from fedsafe.disclosure.checker import check_output_file
from fedsafe.disclosure.findings import Status
from fedsafe.errors import DataSourceError, OutputError
from fedsafe.reports import write_dataset_report
from fedsafe.reports.html import SUPPRESSED

N = 300
RARE = "zz_rare_category"


def small_groups_dataset() -> pa.Table:
    """A backend's dataset with small groups everywhere a report could leak them."""
    rng = random.Random(7)
    ages = [rng.randint(20, 80) for _ in range(N)]
    ages[0] = 113  # the oldest patient: a lone value that must not become a bin edge
    ages[1:6] = [None] * 5  # 5 missing: at or below the threshold
    births = [
        datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randint(0, 20000)) for _ in range(N)
    ]
    births[0] = datetime.date(1903, 7, 13)
    sexes = ["female" if i % 2 else "male" for i in range(N)]
    sexes[:3] = [RARE] * 3  # 3 patients in one category
    sparse = [rng.random() if i < 40 else None for i in range(N)]  # too few for a histogram
    return pa.table(
        {
            "patient_id": list(range(1, N + 1)),
            "age": pa.array(ages, pa.int64()),
            "date_of_birth": pa.array(births, pa.date32()),
            "sex": sexes,
            "<b>odd name</b>": sparse,
        }
    )


class _Text(HTMLParser):
    """Everything a person can read on the page (text nodes, chart text included)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.count_cells: list[str] = []
        self._in_count = False

    def handle_starttag(self, tag, attrs):
        self._in_count = tag == "td" and "count" in (dict(attrs).get("class") or "")

    def handle_data(self, data):
        self.text.append(data)
        if self._in_count:
            self.count_cells.append(data)
            self._in_count = False


def make(tmp_path: Path, policy: DisclosurePolicy | None = None, table: pa.Table | None = None):
    dataset = tmp_path / "dataset.parquet"
    pq.write_table(table if table is not None else small_groups_dataset(), dataset)
    out = tmp_path / "out"
    out.mkdir()
    report = write_dataset_report(dataset, out / "report.html", policy)
    page = report.html.read_text()
    parser = _Text()
    parser.feed(page)
    return report, page, parser


@pytest.mark.parametrize(
    "policy",
    [
        DisclosurePolicy(),
        DisclosurePolicy(suppress_at_or_below=10, rounding="midpoint"),
        DisclosurePolicy(secondary_suppression=False),
    ],
)
def test_nothing_below_the_threshold_appears_anywhere(tmp_path, policy):
    report, page, parser = make(tmp_path, policy)
    readable = " ".join(parser.text)
    everything = page + "".join(p.read_text() for p in report.tables)
    # the rare category, the extremes and the odd column's raw values are nowhere
    assert RARE not in everything
    assert "113" not in readable and "1903" not in everything
    # every count shown is suppressed or one the policy can publish
    assert parser.count_cells
    for cell in parser.count_cells:
        assert cell == SUPPRESSED or is_possible_protected_count(
            int(cell.replace(",", "")), policy
        ), cell
    # the 5 missing ages are suppressed in the missing values table
    missing = next(p for p in report.tables if p.name == "missing_values.csv").read_text()
    assert re.search(r'^"age",(,|$)', missing, re.MULTILINE), missing
    # and the checker passes every table behind the report, as safe by construction
    for table in report.tables:
        result = check_output_file(table, policy)
        assert result.status is Status.PASS, (table, result.findings)
        assert table.with_name(table.name + ".disclosure.json").is_file()


def test_report_shows_histograms_categories_and_explains_gaps(tmp_path):
    _report, page, parser = make(tmp_path)
    readable = " ".join(parser.text)
    assert page.count("<svg") == 3  # age, date_of_birth, sex
    assert re.search(r"below \d+ .*\d+ to under \d+ .*\d+ and above", readable)
    assert re.search(r"before \d{4}-01-01 .*\d{4}-01-01 or later", readable)
    assert "female" in readable and "Other values" in readable
    assert "fewer than 100 values: no histogram" in readable
    assert "an identifier: not summarised" in readable
    # a column name cannot inject markup
    assert "<b>odd name</b>" not in page and "&lt;b&gt;odd name&lt;/b&gt;" in page


def test_without_secondary_suppression_no_totals_are_published(tmp_path):
    report, _page, parser = make(tmp_path, DisclosurePolicy(secondary_suppression=False))
    for table in report.tables:
        text = table.read_text()
        assert '"Total"' not in text and '"rows"' not in text
    assert "Total" not in parser.text


def test_bad_inputs_are_refused_and_write_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(DataSourceError, match=r"broken\.parquet: cannot be read as a dataset"):
        write_dataset_report(broken, out / "r.html")
    with pytest.raises(DataSourceError, match=r"nope\.csv: no such file"):
        write_dataset_report(tmp_path / "nope.csv", out / "r.html")
    with pytest.raises(DataSourceError, match=r"expected a dataset file ending in"):
        write_dataset_report(tmp_path / "data.xlsx", out / "r.html")
    good = tmp_path / "d.csv"
    pyarrow.csv.write_csv(pa.table({"x": [1, 2]}), good)
    with pytest.raises(OutputError, match=r"r\.pdf: the report is an HTML page"):
        write_dataset_report(good, out / "r.pdf")
    with pytest.raises(OutputError, match="does not exist"):
        write_dataset_report(good, tmp_path / "no" / "r.html")
    assert list(out.iterdir()) == []


def test_csv_datasets_are_read_with_their_types(tmp_path):
    table = small_groups_dataset().drop_columns(["<b>odd name</b>"])
    path = tmp_path / "dataset.csv"
    pyarrow.csv.write_csv(table, path)
    out = tmp_path / "out"
    out.mkdir()
    report = write_dataset_report(path, out / "report.html")
    kinds = {c.name: c.kind for c in report.summary.columns}
    assert kinds == {
        "patient_id": "identifier",
        "age": "number",
        "date_of_birth": "date",
        "sex": "category",
    }
