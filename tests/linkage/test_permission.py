"""check_declaration refuses anything undeclared, expired, unpermitted or wider than granted."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from fedsafe.linkage.declaration import DateRange, TableRequest
from fedsafe.linkage.errors import LinkageError, LinkageRefused
from fedsafe.linkage.permission import check_declaration, permission_from_data
from linkage_data import NOW, permission_data


def refused(declaration, permission, *, now=NOW, **options):
    with pytest.raises(LinkageRefused) as caught:
        check_declaration(
            declaration,
            permission,
            now,
            project=options.pop("project", "heart-study"),
            requester=options.pop("requester", "primary"),
            **options,
        )
    return caught.value.problems


def test_a_declaration_within_a_granted_unexpired_permission_passes(declaration, permission):
    assert (
        check_declaration(
            declaration,
            permission,
            NOW,
            project="heart-study",
            requester="primary",
            known_backends={"primary", "hospital"},
        )
        is None
    )


def test_no_declaration_gets_nothing(permission):
    assert "declares no linkage" in refused(None, permission)[0]


def test_no_permission_is_refused(declaration):
    (problem,) = refused(declaration, None)
    assert "no linkage permission for project 'heart-study'" in problem


def test_an_expired_permission_is_refused(declaration, permission):
    later = permission.expires_at + datetime.timedelta(seconds=1)
    (problem,) = refused(declaration, permission, now=later)
    assert "expired at 2026-12-31" in problem
    # exactly at expiry is already expired
    assert refused(declaration, permission, now=permission.expires_at)


def test_a_permission_one_controller_has_not_granted_is_refused(declaration):
    data = permission_data()
    data["grants"] = data["grants"][:1]
    (problem,) = refused(declaration, permission_from_data(data))
    assert "data controller of 'hospital' has not granted" in problem


def test_a_grant_dated_after_now_does_not_count(declaration):
    data = permission_data()
    data["grants"][1]["granted_at"] = "2026-07-01T00:00:00+00:00"
    (problem,) = refused(declaration, permission_from_data(data))
    assert "dated in the future" in problem


def test_another_projects_or_backends_permission_is_refused(declaration, permission):
    assert "not 'other'" in refused(declaration, permission, project="other")[0]
    assert "not on 'gp2'" in refused(declaration, permission, requester="gp2")[0]
    other_backend = dataclasses.replace(declaration, backend="registry")
    assert "not 'registry'" in refused(other_backend, permission)[0]


def test_an_unknown_backend_is_refused(declaration, permission):
    problems = refused(declaration, permission, known_backends={"primary"})
    assert any("'hospital', which is not a known backend" in p for p in problems)


def test_linking_to_itself_is_refused(declaration, permission):
    problems = refused(declaration, permission, requester="hospital")
    assert any("cannot link to itself" in p for p in problems)


def test_a_column_outside_the_permission_is_refused(declaration, permission):
    wider = dataclasses.replace(
        declaration,
        tables=(
            TableRequest(
                "tpp.apcs",
                ("admission_date", "primary_diagnosis", "all_diagnoses"),
                "admission_date",
            ),
        ),
    )
    (problem,) = refused(wider, permission)
    assert "columns all_diagnoses are not covered" in problem


def test_a_table_outside_the_permission_is_refused(declaration, permission):
    wider = dataclasses.replace(
        declaration,
        tables=(*declaration.tables, TableRequest("tpp.ec", ("arrival_date",), "arrival_date")),
    )
    (problem,) = refused(wider, permission)
    assert "table tpp.ec is not covered" in problem


def test_a_wider_date_range_or_none_is_refused(declaration, permission):
    wider = dataclasses.replace(
        declaration, date_range=DateRange(datetime.date(2018, 1, 1), datetime.date(2020, 1, 1))
    )
    assert "wider than the permission's 2019-01-01 to 2024-12-31" in refused(wider, permission)[0]
    unbounded = dataclasses.replace(declaration, date_range=None)
    assert "has no date_range" in refused(unbounded, permission)[0]


def test_finer_dates_than_permitted_are_refused_and_coarser_pass(declaration, permission):
    daily = dataclasses.replace(declaration, coarsen_dates="day")
    assert "finer than the permission allows" in refused(daily, permission)[0]
    yearly = dataclasses.replace(declaration, coarsen_dates="year")
    check_declaration(yearly, permission, NOW, project="heart-study", requester="primary")


def test_every_problem_is_listed_together(declaration):
    data = permission_data(expires_at="2026-01-01T00:00:00+00:00", finest_dates="year")
    problems = refused(declaration, permission_from_data(data))
    assert len(problems) == 2


def test_now_must_carry_a_time_zone(declaration, permission):
    with pytest.raises(ValueError, match="timezone"):
        check_declaration(
            declaration,
            permission,
            datetime.datetime(2026, 6, 1),
            project="heart-study",
            requester="primary",
        )


def test_the_permission_is_public_data_that_reads_back_the_same(permission):
    assert permission_from_data(permission.to_public()) == permission


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"expires_at": "2026-12-31T00:00:00"}, "needs a time zone"),
        ({"expires_at": "soon"}, "is not a date and time"),
        ({"finest_dates": "hour"}, "finest_dates 'hour'"),
        ({"tables": {}}, "'tables' must map"),
        ({"tables": {"tpp.apcs": "admission_date"}}, "must be a list"),
        ({"grants": [{"backend": "primary"}]}, "grants[0] needs"),
        ({"owner": "me"}, "unknown fields ['owner']"),
        ({"date_range": {"start": "2020"}}, "date_range must be"),
    ],
)
def test_malformed_permissions_are_refused_naming_the_field(change, words):
    with pytest.raises(LinkageError) as caught:
        permission_from_data(permission_data(**change), source="permissions/heart.json")
    assert "permissions/heart.json" in str(caught.value)
    assert words in str(caught.value)


def test_a_missing_field_is_named():
    data = permission_data()
    del data["provider"]
    with pytest.raises(LinkageError, match="'provider' is required"):
        permission_from_data(data)
