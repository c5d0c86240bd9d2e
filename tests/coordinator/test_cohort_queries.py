"""Cohort queries on the coordinator's side: checked before anything is stored, sent only to
backends that provide the tables they read, answered once, and combined into a total that is
re-rounded so it is never more precise than the policy allows."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from fedsafe.coordinator.cohort_models import CohortAnswer, CohortQuery
from fedsafe.coordinator.cohort_queries import (
    CohortNotFound,
    RateLimited,
    combined,
    lease_queries,
    record_answer,
    submit_query,
)
from fedsafe.coordinator.errors import FieldError
from fedsafe.coordinator.models import AuditEvent
from fedsafe.coordinator.setup_records import add_backend

pytestmark = pytest.mark.django_db

DRUG = {"groups": [{"rules": [{"domain": "drug", "codes": ["dmd:39113611000001102"]}]}]}
WOMEN = {"groups": [{"rules": [{"domain": "person", "sex": "female"}]}]}


@pytest.fixture
def cohort_backends(db):
    return {
        "east": add_backend("east", "patients,clinical_events,medications").backend,
        "west": add_backend("west", "patients,clinical_events").backend,
    }


def test_all_means_the_backends_that_provide_what_the_query_reads(user, cohort_backends):
    drug = submit_query(user, DRUG)
    assert drug.needed_tables == ["medications", "patients"]
    assert [a.backend.name for a in drug.answers.all()] == ["east"]
    women = submit_query(user, WOMEN)
    assert sorted(a.backend.name for a in women.answers.all()) == ["east", "west"]
    with pytest.raises(FieldError, match="'west' does not exist, has no live token or does not"):
        submit_query(user, DRUG, ["west"])


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ({"groups": []}, "$.groups"),
        ({"groups": [{"rules": []}]}, "$.groups[0].rules"),
        ({"groups": [{"rules": [{"domain": "drug"}]}]}, "$.groups[0].rules[0].codes"),
        ({"groups": [{"rules": [{"domain": "person", "age": {"low": 9, "high": 3}}]}]}, "age"),
        ({"cohort": {"groups": "x"}}, "$.cohort"),
        ("not a query", "$"),
    ],
)
def test_bad_queries_are_refused_naming_where_and_store_nothing(
    user, cohort_backends, document, where
):
    with pytest.raises(FieldError, match=re.escape(where)):
        submit_query(user, document)
    assert CohortQuery.objects.count() == 0 and CohortAnswer.objects.count() == 0


def test_a_backend_leases_and_answers_only_its_own_and_only_once(user, cohort_backends):
    drug = submit_query(user, DRUG)
    assert lease_queries(cohort_backends["west"], 10) == []
    with pytest.raises(CohortNotFound):
        record_answer(cohort_backends["west"], drug.pk, safe_count=0, rule="r")
    [leased] = lease_queries(cohort_backends["east"], 10)
    assert leased.query_id == drug.pk
    assert lease_queries(cohort_backends["east"], 10) == []  # leased: not offered again at once
    record_answer(cohort_backends["east"], drug.pk, safe_count=120, rule="r")
    with pytest.raises(FieldError, match="already answered"):
        record_answer(cohort_backends["east"], drug.pk, safe_count=130, rule="r")
    assert CohortAnswer.objects.get(query=drug).safe_count == 120


@pytest.mark.parametrize(
    ("parts", "total"),
    [
        ([120, 340], 460),  # multiples of 10 already: unchanged
        ([15, 10], 30),  # a backend rounding to 5: 25 is re-rounded, halves up
        ([15, None], 20),  # one refusal: the answered part alone, re-rounded
        ([0, 0], 0),
        ([None, None], None),
    ],
)
def test_the_total_is_the_sum_re_rounded(user, cohort_backends, parts, total):
    women = submit_query(user, WOMEN)
    for name, part in zip(("east", "west"), parts, strict=True):
        if part is None:
            record_answer(cohort_backends[name], women.pk, refused="DifferencingRefused")
        else:
            record_answer(cohort_backends[name], women.pk, safe_count=part, rule="r")
    result = combined(women)
    assert result.total == total and result.complete


def test_a_flood_of_queries_from_one_user_is_refused_and_logged(
    user, other_user, cohort_backends, monkeypatch
):
    monkeypatch.setattr("fedsafe.coordinator.cohort_queries.MAX_QUERIES_PER_HOUR", 3)
    for _ in range(3):
        submit_query(user, WOMEN)
    with pytest.raises(RateLimited, match="3 cohort queries in the last hour; the limit is 3"):
        submit_query(user, WOMEN)
    assert CohortQuery.objects.count() == 3
    assert AuditEvent.objects.filter(kind="cohort.rate_limited").count() == 1
    submit_query(other_user, WOMEN)  # the limit is per user
    # An hour later the user may ask again.
    CohortQuery.objects.filter(created_by=user).update(
        created_at=timezone.now() - datetime.timedelta(hours=1, seconds=1)
    )
    submit_query(user, WOMEN)
