"""Definition tests run in-process on query models: comparisons, explanations, bad test data."""

import datetime

import pytest

from fedsafe.assurance import TestDataError, parse_test_data, run_definition_tests
from fedsafe.language.dataset import compile_dataset, create_dataset
from fedsafe.tables.core import clinical_events, patients

D = datetime.date


def make_dataset():
    dataset = create_dataset()
    age = patients.age_on("2023-01-01")
    dataset.define_population((age >= 18) & patients.sex.is_in(["female", "male"]))
    dataset.age = age
    dataset.events = clinical_events.count_for_patient()
    dataset.last = clinical_events.sort_by(clinical_events.date).last_for_patient().date
    dataset.weight = clinical_events.sort_by(clinical_events.date).last_for_patient().numeric_value
    return compile_dataset(dataset)


def run(test_data):
    cases = parse_test_data(test_data, source="t")
    return run_definition_tests(make_dataset(), cases, source="def.py")


ADULT = {"date_of_birth": D(1980, 1, 1), "sex": "female"}


def test_matching_patients_pass():
    report = run(
        {
            1: {
                "patients": ADULT,
                "clinical_events": [
                    {"date": D(2020, 1, 1), "numeric_value": 70.0},
                    {"date": D(2021, 1, 1), "numeric_value": 71.5},
                ],
                "expected_in_population": True,
                "expected_columns": {"age": 43, "events": 2, "last": D(2021, 1, 1), "weight": 71.5},
            },
            2: {"patients": {"date_of_birth": D(2015, 1, 1)}, "expected_in_population": False},
        }
    )
    assert report.passed, report.text()
    assert report.text().endswith("def.py: all 2 test patients passed")


def test_a_wrong_value_names_the_patient_column_expected_and_actual():
    report = run(
        {
            1: {
                "patients": ADULT,
                "expected_in_population": True,
                "expected_columns": {"age": 42, "events": 0, "last": "2021-01-01"},
            }
        }
    )
    assert not report.passed
    (result,) = report.failures
    assert [(d.column, d.expected, d.actual) for d in result.differences] == [
        ("age", 42, 43),
        ("last", "2021-01-01", None),
    ]
    text = report.text()
    assert "Patient 1: FAILED" in text
    assert "column 'age': expected 42, got 43" in text
    assert "column 'last': expected '2021-01-01', got NULL" in text


def test_codes_are_checked_and_compared_as_their_text():
    dataset = create_dataset()
    dataset.define_population(patients.exists_for_patient())
    events = clinical_events.sort_by(clinical_events.date)
    dataset.code = events.last_for_patient().snomedct_code
    cases = parse_test_data(
        {
            1: {
                "patients": ADULT,
                "clinical_events": [{"date": D(2020, 1, 1), "snomedct_code": "22298006"}],
                "expected_in_population": True,
                "expected_columns": {"code": "22298006"},
            },
            2: {
                "patients": ADULT,
                "clinical_events": [{"date": D(2020, 1, 1), "snomedct_code": "22298006"}],
                "expected_in_population": True,
                "expected_columns": {"code": "195967001"},
            },
        },
        source="t",
    )
    report = run_definition_tests(compile_dataset(dataset), cases, source="def.py")
    assert [r.patient_id for r in report.failures] == [2]
    assert "column 'code': expected '195967001', got '22298006'" in report.text()


def test_dates_given_as_text_compare_as_dates():
    report = run(
        {
            1: {
                "patients": ADULT,
                "clinical_events": [{"date": "2021-01-01"}],
                "expected_in_population": True,
                "expected_columns": {"last": "2021-01-01"},
            }
        }
    )
    assert report.passed, report.text()


def test_a_missing_patient_is_explained_part_by_part_with_nulls():
    report = run(
        {
            1: {"patients": {"date_of_birth": D(1980, 1, 1)}, "expected_in_population": True},
            2: {
                "patients": {**ADULT, "date_of_birth": D(2010, 1, 1)},
                "expected_in_population": True,
            },
        }
    )
    first, second = report.failures
    assert not first.in_population
    # sex is NULL, so is_in is NULL (not False), and the age part is True
    assert first.why[0].startswith("-> NULL  all of:")
    assert any(line.strip().startswith("ok True") and "years >= 18" in line for line in first.why)
    assert any("-> NULL" in line and "is_in(['female', 'male'])" in line for line in first.why)
    assert any("-> False" in line and "years >= 18" in line for line in second.why)
    assert "expected to be in the population, but was not" in report.text()


def test_an_unexpected_member_is_reported():
    report = run({1: {"patients": ADULT, "expected_in_population": False}})
    assert "expected not to be in the population, but was" in report.text()


def test_a_patient_with_no_rows_in_the_population_tables_is_explained():
    report = run(
        {1: {"clinical_events": [{"date": D(2020, 1, 1)}], "expected_in_population": True}}
    )
    assert "has no rows in any table the population reads (patients)" in report.text()


def test_an_unknown_expected_column_fails_and_says_which_exist():
    report = run(
        {1: {"patients": ADULT, "expected_in_population": True, "expected_columns": {"agee": 1}}}
    )
    assert "column 'agee': the dataset has no such column (it has age, events" in report.text()


@pytest.mark.parametrize(
    ("test_data", "message"),
    [
        (
            {1: {"patients": ADULT}},
            "t, patient 1: missing 'expected_in_population'",
        ),
        (
            {1: {"patients": ADULT, "expected_in_population": "yes"}},
            "must be True or False, got 'yes'",
        ),
        ({"x1": {"expected_in_population": False}}, "t: patient id 'x1' is not a whole number"),
        (
            {
                1: {
                    "patients": {**ADULT, "date_of_birth": "01/02/1980"},
                    "expected_in_population": True,
                }
            },
            "t, table patients, patient 1, row 1, column date_of_birth: '01/02/1980' is not a date",
        ),
        (
            {1: {"patients": {**ADULT, "hieght": 2}, "expected_in_population": True}},
            "t, patient 1, table patients, row 1: no column 'hieght'; patients has date_of_birth",
        ),
        (
            {1: {"patients": [ADULT, ADULT], "expected_in_population": True}},
            "t, patient 1, table patients: has 2 rows, but patients has one row per patient",
        ),
        (
            {1: {"medications": [], "expected_in_population": False}},
            "the definition does not use a table called 'medications'",
        ),
        (
            {
                1: {
                    "clinical_events": [{"snomedct_code": "not a code"}],
                    "expected_in_population": False,
                }
            },
            "t, table clinical_events, patient 1, row 1, column snomedct_code: 'not a code'",
        ),
        (
            {1: {"patients": {**ADULT, "patient_id": 1}, "expected_in_population": True}},
            "leave out patient_id",
        ),
        (
            {1: {"patients": ADULT, "expected_in_population": False, "expected_columns": {}}},
            "has 'expected_columns' but is expected not to be in the population",
        ),
        ({}, "test_data must be a non-empty dict"),
    ],
)
def test_bad_test_data_is_refused_with_its_place(test_data, message):
    with pytest.raises(TestDataError) as caught:
        run(test_data)
    assert message in str(caught.value)
