"""The release ledger against differencing: each test is an attack an intruder could try with
two releases that each pass the checker alone, and the ledger must catch it.

Following the SDC Handbook (Hundepool et al., 2012, section 5.5 "disclosure by
differencing") and the GSS/ONS guidance on disclosure by differencing of overlapping
geographies and populations: a difference or sum of released tables is itself a release.
"""

import json
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedsafe.disclosure import DisclosurePolicy, OutputFileError
from fedsafe.disclosure.errors import LedgerError
from fedsafe.disclosure.findings import Status
from fedsafe.disclosure.ledger import LEDGER_FILE, ReleaseLedger

POLICY = DisclosurePolicy()


def table(tmp_path, name, rows, filters=None):
    """A released age-band table with counts ``rows`` and the population's filters."""
    path = tmp_path / name
    path.write_text("age_band,n\n" + "".join(f"{a},{n}\n" for a, n in rows.items()))
    sidecar = {"columns": {"age_band": "label", "n": "count"}}
    if filters is not None:
        sidecar["release"] = {"filters": filters}
    (tmp_path / f"{name}.disclosure.json").write_text(json.dumps(sidecar))
    return path


def release(ledger, path, project="p1"):
    ledger.record_file(path, backend="tpp", project=project, released_by="alice")


def verdict(ledger, path, backend="tpp"):
    findings = ledger.check_file(path, POLICY, backend=backend, project="p2")
    return [f for f in findings if f.status is Status.FAIL] or findings[0].status


def test_all_minus_males_reveals_females_and_names_both_files(tmp_path):
    """Nested filters: 'all' and 'males' each pass; their difference is 5 females aged 65+."""
    ledger = ReleaseLedger(tmp_path / "ledger")
    release(ledger, table(tmp_path, "all.csv", {"0-64": 100, "65+": 40}))
    males = table(tmp_path, "males.csv", {"0-64": 50, "65+": 35}, {"sex": ["M"]})
    (fail,) = verdict(ledger, males)
    assert fail.rule == "differencing_across_releases" and fail.column == "n"
    assert "all.csv" in fail.reason and "males.csv" in fail.reason
    assert "gives 5" in fail.reason and "age_band='65+'" in fail.reason


def test_the_other_order_is_caught_too(tmp_path):
    """Releasing the subgroup first and the whole population later is the same attack."""
    ledger = ReleaseLedger(tmp_path / "ledger")
    release(ledger, table(tmp_path, "males.csv", {"0-64": 50, "65+": 35}, {"sex": ["M"]}))
    assert verdict(ledger, table(tmp_path, "all.csv", {"0-64": 100, "65+": 40}))[0].column == "n"


def test_rerun_with_one_extra_code(tmp_path):
    """The same report re-run with one more code: the new code's patients are the difference."""
    ledger = ReleaseLedger(tmp_path / "ledger")
    release(ledger, table(tmp_path, "v1.csv", {"0-64": 60, "65+": 20}, {"codes": ["A1", "A2"]}))
    rerun = table(tmp_path, "v2.csv", {"0-64": 65, "65+": 20}, {"codes": ["A1", "A2", "A3"]})
    (fail,) = verdict(ledger, rerun)
    assert "v1.csv" in fail.reason and "v2.csv" in fail.reason and "gives 5" in fail.reason


def test_n_versus_n_plus_one_periods(tmp_path):
    """Months Jan..Jun then Jan..Jul: July alone is the difference."""
    ledger = ReleaseLedger(tmp_path / "ledger")
    six = {"period": {"from": "2024-01-01", "to": "2024-06-30"}}
    seven = {"period": {"from": "2024-01-01", "to": "2024-07-31"}}
    release(ledger, table(tmp_path, "h1.csv", {"0-64": 200, "65+": 90}, six))
    (fail,) = verdict(ledger, table(tmp_path, "h1b.csv", {"0-64": 200, "65+": 95}, seven))
    assert "h1.csv" in fail.reason and "65+" in fail.reason


def test_adding_two_releases_then_subtracting_from_a_third(tmp_path):
    """Sum attack: 0-17 plus 18-64 released separately, then everyone: 65+ is the rest."""
    ledger = ReleaseLedger(tmp_path / "ledger")
    release(ledger, table(tmp_path, "a.csv", {"x": 30}, {"age": ["0-17", "18-64", "65+"]}))
    release(ledger, table(tmp_path, "b.csv", {"x": 10}, {"age": ["0-17"]}))
    (fail,) = verdict(ledger, table(tmp_path, "c.csv", {"x": 15}, {"age": ["18-64"]}))
    assert "a.csv" in fail.reason and "b.csv" in fail.reason and "c.csv" in fail.reason


def test_everyone_minus_two_earlier_releases_added_up(tmp_path):
    """Males and females released; then everyone: everyone minus (males + females) is the
    patients recorded with neither sex, 5 of them aged 65+."""
    ledger = ReleaseLedger(tmp_path / "ledger")
    release(ledger, table(tmp_path, "m.csv", {"0-64": 50, "65+": 35}, {"sex": ["M"]}))
    release(ledger, table(tmp_path, "f.csv", {"0-64": 50, "65+": 10}, {"sex": ["F"]}))
    (fail,) = verdict(ledger, table(tmp_path, "all.csv", {"0-64": 100, "65+": 50}))
    assert "'all.csv' minus ('m.csv' + 'f.csv')" in fail.reason.replace(str(tmp_path) + "/", "")


def test_across_projects_but_not_across_backends(tmp_path):
    """Another project's release of the same population is differenced too; another
    backend's patients are different people, so its tables are not compared."""
    ledger = ReleaseLedger(tmp_path / "ledger")
    release(ledger, table(tmp_path, "all.csv", {"0-64": 100, "65+": 40}), project="other")
    males = table(tmp_path, "males.csv", {"0-64": 50, "65+": 35}, {"sex": ["M"]})
    assert verdict(ledger, males)[0].rule == "differencing_across_releases"
    assert verdict(ledger, males, backend="emis") is Status.PASS


def test_legitimate_non_overlapping_releases_pass(tmp_path):
    """Males and females, other dimensions, large differences: nothing small is revealed."""
    ledger = ReleaseLedger(tmp_path / "ledger")
    release(ledger, table(tmp_path, "m.csv", {"0-64": 50, "65+": 35}, {"sex": ["M"]}))
    females = table(tmp_path, "f.csv", {"0-64": 50, "65+": 10}, {"sex": ["F"]})
    assert verdict(ledger, females) is Status.PASS
    release(ledger, females)
    everyone = table(tmp_path, "all.csv", {"0-64": 100, "65+": 45})  # rounding: 45 != 35 + 10
    assert verdict(ledger, everyone) is Status.PASS  # differences are 50 and 35, 10
    (tmp_path / "regions.csv").write_text("region,n\nNorth,15\n")
    assert verdict(ledger, tmp_path / "regions.csv") is Status.PASS


def test_suppressed_cells_are_not_differenced(tmp_path):
    ledger = ReleaseLedger(tmp_path / "ledger")
    release(ledger, table(tmp_path, "all.csv", {"0-64": 100, "65+": "[REDACTED]"}))
    males = table(tmp_path, "males.csv", {"0-64": 50, "65+": 35}, {"sex": ["M"]})
    assert verdict(ledger, males) is Status.PASS


def test_ledger_is_hash_chained_and_append_only(tmp_path):
    ledger = ReleaseLedger(tmp_path / "ledger")
    release(ledger, table(tmp_path, "a.csv", {"x": 30}))
    release(ledger, table(tmp_path, "b.csv", {"x": 40}, {"sex": ["F"]}))
    assert ledger.verify() == 2
    entries = ledger.entries()
    assert [e.seq for e in entries] == [1, 2] and entries[1].table.filters["sex"] == {"F"}
    db = sqlite3.connect(tmp_path / "ledger" / LEDGER_FILE)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM events WHERE seq = 1")
    # Someone with the file drops the guard and rewrites history: the chain shows it.
    db.execute("DROP TRIGGER events_no_update")
    db.execute("UPDATE events SET payload = replace(payload, '30', '35') WHERE seq = 1")
    db.commit()
    db.close()
    with pytest.raises(LedgerError, match="event 1 does not match"):
        ledger.verify()
    with pytest.raises(LedgerError):
        ReleaseLedger(tmp_path / "ledger")


def test_bad_inputs_raise_clear_errors_and_record_nothing(tmp_path):
    ledger = ReleaseLedger(tmp_path / "ledger")
    bad = table(tmp_path, "bad.csv", {"x": 30}, {"sex": []})
    with pytest.raises(OutputFileError, match=r"bad\.csv.*filter 'sex'.*non-empty list"):
        ledger.record_file(bad, backend="tpp", project="p", released_by="a")
    interval = table(tmp_path, "i.csv", {"x": 30}, {"period": {"from": "2024", "to": "2023"}})
    with pytest.raises(OutputFileError, match="a <= b"):
        ledger.check_file(interval, POLICY, backend="tpp")
    twice = tmp_path / "twice.csv"
    twice.write_text("g,n\nA,10\nA,15\n")
    with pytest.raises(OutputFileError, match=r"twice\.csv, row 2.*appear twice"):
        ledger.record_file(twice, backend="tpp", project="p", released_by="a")
    with pytest.raises(LedgerError, match="released_by must be a non-empty"):
        ledger.record_file(
            table(tmp_path, "ok.csv", {"x": 30}), backend="t", project="p", released_by=""
        )
    assert ledger.entries() == []
    (tmp_path / "afile").write_text("x")
    with pytest.raises(LedgerError, match="needs a folder"):
        ReleaseLedger(tmp_path / "afile")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / LEDGER_FILE).write_text("not sqlite at all" * 100)
    with pytest.raises(LedgerError, match="not a release ledger"):
        ReleaseLedger(tmp_path / "junk")


FILTERS = st.sampled_from(
    [None, {"sex": ["M"]}, {"sex": ["F"]}, {"codes": ["A"]}, {"codes": ["A", "B"]}]
)
COUNT = st.sampled_from([0, 10, 15, 20, 25, 30, 40, "[REDACTED]"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(releases=st.lists(st.tuples(FILTERS, COUNT, COUNT), min_size=1, max_size=6))
def test_no_released_pair_ever_differences_to_a_small_cell(tmp_path_factory, releases):
    """Property: release only what the ledger passes; then no two released tables over the
    same population lattice differ by 1..threshold in any cell."""
    tmp_path = tmp_path_factory.mktemp("prop")
    ledger = ReleaseLedger(tmp_path / "ledger")
    for index, (filters, young, old) in enumerate(releases):
        path = table(tmp_path, f"t{index}.csv", {"young": young, "old": old}, filters)
        if verdict(ledger, path) is Status.PASS:
            release(ledger, path)
    from fedsafe.disclosure.released import contains

    tables = [e.table for e in ledger.entries()]
    for a in tables:
        for b in tables:
            if a is b or not contains(a.filters, b.filters):
                continue
            for key, count in a.cells.items():
                other = b.cells.get(key)
                if count is not None and other is not None:
                    assert not 1 <= count - other <= POLICY.suppress_at_or_below


def test_safe_helpers_record_filters_the_ledger_reads(tmp_path):
    """The helpers' ``filters`` reach the ledger, so a helper-made subgroup table is checked
    against the whole: 40 patients aged 65+ in all, 35 of them male, gives 5 females."""
    from fedsafe.disclosure.safe import safe_counts, safe_histogram

    ledger = ReleaseLedger(tmp_path / "ledger")
    everyone = ["0-64"] * 100 + ["65+"] * 40
    safe_counts(everyone, tmp_path / "all.csv", name="age_band")
    release(ledger, tmp_path / "all.csv")
    safe_counts(["0-64"] * 50 + ["65+"] * 35, tmp_path / "m.csv", name="age_band",
                filters={"sex": ["M"]})  # fmt: skip
    fails = verdict(ledger, tmp_path / "m.csv")
    assert fails != Status.PASS and {f.rule for f in fails} == {"differencing_across_releases"}
    assert ledger.entries()[0].table.filters == {}
    safe_histogram([float(v % 60) for v in range(600)], tmp_path / "h.png", filters={"sex": ["F"]})
    release(ledger, tmp_path / "h.png")
    assert ledger.entries()[1].table.filters["sex"] == {"F"}
    assert ledger.entries()[1].table.dimensions == ("bin",)
    from fedsafe.disclosure import TableError

    with pytest.raises(TableError, match=r"filters, 'sex': expected a non-empty list"):
        safe_counts(["a"] * 10, tmp_path / "bad.csv", filters={"sex": "M"})
    with pytest.raises(TableError, match="filters, 'sex'"):
        safe_histogram([1.5] * 10, tmp_path / "bad.png", filters={"sex": []})
    assert not (tmp_path / "bad.csv").exists() and not (tmp_path / "bad.png").exists()
