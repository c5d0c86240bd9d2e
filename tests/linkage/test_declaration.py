"""An action's linkage block in project.yaml: accepted, and each refusal with its line and field."""

from __future__ import annotations

import datetime

import pytest

from fedsafe.linkage.declaration import declaration_from_public, parse_declaration
from fedsafe.linkage.errors import DeclarationError
from fedsafe.pipeline.check import check_linkage_tables
from fedsafe.pipeline.errors import ProjectError, ProjectErrors
from fedsafe.pipeline.model import parse_project

HEAD = """\
version: '1'
actions:
  generate_dataset:
    run: fedsafe:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.arrow
    backends: [primary]
    outputs:
      highly_sensitive:
        dataset: output/dataset.arrow
"""

GOOD_LINKAGE = """\
    linkage:
      backend: hospital
      tables:
        tpp.apcs:
          columns: [admission_date, primary_diagnosis]
          date_column: admission_date
      date_range: {start: 2020-01-01, end: 2023-12-31}
      coarsen_dates: month
"""


def project(linkage: str) -> str:
    return HEAD + linkage


def test_a_good_declaration_is_read_into_checked_values():
    action = parse_project(project(GOOD_LINKAGE)).action("generate_dataset")
    declaration = action.linkage
    assert declaration is not None
    assert declaration.backend == "hospital"
    assert [(t.name, t.columns, t.date_column) for t in declaration.tables] == [
        ("tpp.apcs", ("admission_date", "primary_diagnosis"), "admission_date")
    ]
    assert declaration.date_range is not None
    assert declaration.date_range.start == datetime.date(2020, 1, 1)
    assert declaration.date_range.end == datetime.date(2023, 12, 31)
    assert declaration.coarsen_dates == "month"
    # and it passes the check against the logical schemas
    report = check_linkage_tables(parse_project(project(GOOD_LINKAGE)), project(GOOD_LINKAGE))
    assert report == ["action 'generate_dataset': links tpp.apcs from backend 'hospital'"]


def test_an_action_without_linkage_has_none():
    assert parse_project(HEAD).action("generate_dataset").linkage is None


def test_the_public_form_reads_back_the_same():
    declaration = parse_project(project(GOOD_LINKAGE)).action("generate_dataset").linkage
    assert declaration is not None
    assert declaration_from_public(declaration.to_public()) == declaration


def refusal(text: str) -> ProjectError:
    with pytest.raises(ProjectError) as caught:
        parse_project(text)
    return caught.value


@pytest.mark.parametrize(
    ("bad", "good", "line", "field", "words"),
    [
        ("backend: hospital", "backend: Hospital!", 10, "linkage.backend", "not a backend name"),
        ("coarsen_dates: month", "coarsen_dates: week", 16, "linkage.coarsen_dates", "'week'"),
        ("start: 2020-01-01", "start: 1st Jan", 15, "linkage.date_range.start", "not a date"),
        ("end: 2023-12-31", "end: 2019-12-31", 15, "linkage.date_range", "is after end"),
        (
            "columns: [admission_date, primary_diagnosis]",
            "columns: []",
            13,
            "linkage.tables.tpp.apcs.columns",
            "non-empty list",
        ),
        (
            "primary_diagnosis]",
            "admission_date]",
            13,
            "linkage.tables.tpp.apcs.columns.1",
            "listed twice",
        ),
        (
            "      coarsen_dates: month\n",
            "      coarsen_dates: month\n      keep_forever: true\n",
            17,
            "linkage.keep_forever",
            "not a linkage field",
        ),
    ],
)
def test_malformed_blocks_are_refused_naming_the_line_and_field(bad, good, line, field, words):
    error = refusal(project(GOOD_LINKAGE.replace(bad, good)))
    assert error.line == line
    assert error.action == "generate_dataset"
    assert error.field == field
    assert words in str(error)


def test_missing_fields_are_each_reported():
    error = refusal(
        project("    linkage:\n      date_range: {start: 2020-01-01, end: 2020-02-01}\n")
    )
    assert isinstance(error, ProjectErrors)
    fields = sorted(p.field for p in error.problems)
    assert fields == ["linkage.backend", "linkage.coarsen_dates", "linkage.tables"]


def test_linkage_must_be_a_mapping():
    error = refusal(project("    linkage: hospital\n"))
    assert error.field == "linkage"
    assert "expected a mapping" in str(error)


def test_an_action_with_linkage_names_the_one_backend_it_runs_on():
    error = refusal(project(GOOD_LINKAGE).replace("    backends: [primary]\n", ""))
    assert error.field == "backends"
    assert "runs on one backend" in str(error)
    error = refusal(project(GOOD_LINKAGE).replace("[primary]", "[primary, other]"))
    assert error.field == "backends"


def test_an_action_cannot_link_to_the_backend_it_runs_on():
    error = refusal(project(GOOD_LINKAGE).replace("[primary]", "[hospital]"))
    assert error.field == "linkage.backend"
    assert "another backend" in str(error)


def schema_refusal(text: str) -> ProjectError:
    parsed = parse_project(text)  # the shape is fine
    with pytest.raises(ProjectError) as caught:
        check_linkage_tables(parsed, text)
    return caught.value


def test_an_unknown_table_is_refused_at_its_line():
    error = schema_refusal(project(GOOD_LINKAGE.replace("tpp.apcs:", "tpp.apcss:")))
    assert error.line == 12
    assert error.field == "linkage.tables.tpp.apcss"
    assert "no table 'apcss' in the tpp schema; did you mean tpp.apcs?" in str(error)


def test_an_unknown_schema_is_refused():
    error = schema_refusal(project(GOOD_LINKAGE.replace("tpp.apcs:", "hes.apcs:")))
    assert "there is no schema 'hes'" in str(error)


def test_a_bare_table_name_means_the_core_schema_and_errors_point_at_what_was_written():
    text = project(GOOD_LINKAGE.replace("tpp.apcs:", "apcs:"))
    error = schema_refusal(text)  # core has no apcs
    assert error.line == 12
    assert error.field == "linkage.tables.apcs"
    assert "no table 'apcs' in the core schema" in str(error)


def test_an_unknown_column_is_refused_at_its_line_with_a_suggestion():
    text = project(GOOD_LINKAGE.replace("primary_diagnosis]", "primary_diagnosys]"))
    error = schema_refusal(text)
    assert error.line == 13
    assert error.field == "linkage.tables.tpp.apcs.columns.1"
    assert "did you mean 'primary_diagnosis'?" in str(error)


def test_patient_id_is_never_sent():
    error = schema_refusal(project(GOOD_LINKAGE.replace("[admission_date,", "[patient_id,")))
    assert "never sent" in str(error)


def test_the_date_column_must_be_a_date():
    text = project(GOOD_LINKAGE.replace("date_column: admission_date", "date_column: apcs_ident"))
    error = schema_refusal(text)
    assert error.line == 14
    assert error.field == "linkage.tables.tpp.apcs.date_column"
    assert "admission_date, discharge_date" in str(error)


def test_a_date_range_needs_a_date_column():
    error = schema_refusal(
        project(GOOD_LINKAGE.replace("          date_column: admission_date\n", ""))
    )
    assert error.field == "linkage.tables.tpp.apcs.date_column"
    assert "say which" in str(error)


def test_several_schema_problems_are_reported_together():
    text = project(
        GOOD_LINKAGE.replace("primary_diagnosis]", "nope]").replace(
            "date_column: admission_date", "date_column: nope"
        )
    )
    error = schema_refusal(text)
    assert isinstance(error, ProjectErrors)
    assert len(error.problems) == 2


def test_parse_declaration_refuses_non_mappings_directly():
    with pytest.raises(DeclarationError) as caught:
        parse_declaration(["hospital"])
    assert caught.value.problems[0][0] == ()


def test_a_value_yaml_reads_as_an_impossible_date_is_a_clear_error_not_a_crash():
    error = refusal(project(GOOD_LINKAGE.replace("2020-01-01", "2020-13-01")))
    assert error.line == 15
    assert "'2020-13-01' is not a valid date" in str(error)


def test_fedsafe_check_reports_an_unknown_linkage_column_before_loading_anything(tmp_path):
    from fedsafe.pipeline.check import check_project

    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis" / "dataset_definition.py").write_text("raise SystemExit('not run')\n")
    text = project(GOOD_LINKAGE.replace("primary_diagnosis]", "primary_diagnosys]"))
    (tmp_path / "project.yaml").write_text(text)
    with pytest.raises(ProjectError) as caught:
        check_project(tmp_path)
    assert caught.value.line == 13
    assert "did you mean 'primary_diagnosis'?" in str(caught.value)
