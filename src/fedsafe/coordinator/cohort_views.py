"""The cohort query builder page: build an availability query from rules, send it to every
backend that can answer, and watch the safe answers and the combined total arrive.

The page is plain HTML with a small script. It builds fedsafe's JSON form of the query
(``fedsafe.cohort.fedsafe_form``), posts it to ``/api/cohort/v1/queries`` with the session
(Django's CSRF token in a header) and polls the query's JSON until every backend has answered.
No backend publishes a concept list yet, so a rule's codes are typed, with their code system.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fedsafe.cohort.model import CODE_SYSTEMS, SEXES, Domain
from fedsafe.coordinator.requests import eligible_backends

__all__ = ["builder"]


@login_required
def builder(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "coordinator/cohort_builder.html",
        {
            "backends": eligible_backends(["patients"]),
            "domains": [d.value for d in Domain],
            "systems": CODE_SYSTEMS,
            "sexes": SEXES,
        },
    )
