"""Definition tests from files: test_data in the definition (sandboxed), a YAML file beside it."""

from pathlib import Path

import pytest

from fedsafe.assurance import TestDataError, assert_definition_tests_pass, test_definition
from fedsafe.loader import load_dataset_definition

DEFINITION = """\
from datetime import date

from ehrql import create_dataset
from ehrql.tables.core import patients

dataset = create_dataset()
dataset.define_population(patients.date_of_birth < "2000-01-01")
dataset.sex = patients.sex

test_data = {
    1: {
        "patients": {"date_of_birth": date(1980, 1, 1), "sex": "female"},
        "expected_in_population": True,
        "expected_columns": {"sex": "female"},
    },
}
"""

BESIDE = """\
2:
  patients: {date_of_birth: 2010-01-01, sex: male}
  expected_in_population: false
3:
  patients: {date_of_birth: 1990-01-01, sex: male}
  expected_in_population: true
  expected_columns: {sex: female}
"""


def write(tmp_path: Path, text: str = DEFINITION) -> Path:
    path = tmp_path / "analysis" / "dataset_definition.py"
    path.parent.mkdir()
    path.write_text(text)
    return path


def test_test_data_in_the_definition_and_a_file_beside_it_both_run(tmp_path):
    definition = write(tmp_path)
    definition.with_name("dataset_definition.test_data.yaml").write_text(BESIDE)
    report = test_definition(definition, project_dir=tmp_path)
    assert [r.patient_id for r in report.results] == [1, 2, 3]
    assert [r.patient_id for r in report.failures] == [3]
    assert "column 'sex': expected 'female', got 'male'" in report.text()
    with pytest.raises(AssertionError, match="Patient 3: FAILED"):
        assert_definition_tests_pass(definition, project_dir=tmp_path)


def test_the_pytest_helper_returns_the_report_when_all_pass(tmp_path):
    definition = write(tmp_path)
    assert assert_definition_tests_pass(definition, project_dir=tmp_path).passed


def test_a_patient_given_in_both_places_is_refused(tmp_path):
    definition = write(tmp_path)
    definition.with_name("dataset_definition.test_data.yaml").write_text(
        "1:\n  expected_in_population: false\n"
    )
    with pytest.raises(TestDataError, match=r"patient 1 is also given in dataset_definition\.py"):
        test_definition(definition, project_dir=tmp_path)


def test_a_definition_without_test_patients_says_how_to_add_them(tmp_path):
    definition = write(tmp_path, DEFINITION.split("test_data")[0])
    with pytest.raises(TestDataError, match="no test patients: add a `test_data"):
        test_definition(definition, project_dir=tmp_path)


def test_test_data_that_is_not_data_is_refused_at_its_source(tmp_path):
    definition = write(tmp_path, DEFINITION.replace('"female"}', '{"female"}}', 1))
    with pytest.raises(TestDataError, match=r"a set cannot be used in test data"):
        test_definition(definition, project_dir=tmp_path)
    # and it does not stop the definition from loading for anything else
    assert load_dataset_definition(definition, project_dir=tmp_path).dataset is not None


def test_a_broken_yaml_file_is_refused_with_its_line(tmp_path):
    definition = write(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("1:\n  patients: {date_of_birth: [\n")
    with pytest.raises(TestDataError, match=r"bad.yaml, line \d+"):
        test_definition(definition, test_data_file=bad, project_dir=tmp_path)
