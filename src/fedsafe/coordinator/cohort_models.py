"""Cohort queries and the backends' answers to them, as the coordinator stores them.

An answer row holds only what a backend released: a safe count (already suppressed and rounded
by the backend's policy and checked against its differencing ledger) and the rule it applied,
or the class of reason it refused. There is no column a raw count could be stored in.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["CohortAnswer", "CohortQuery"]


class CohortQuery(models.Model):
    """One availability query, fanned out to the backends that can answer it."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    query = models.JSONField()  # the document as submitted (RQuest v2 or fedsafe's form)
    form = models.CharField(max_length=10)  # "rquest" or "fedsafe"
    requested_backends = models.JSONField()  # "all" or a list of names, as asked
    needed_tables = models.JSONField(default=list)


class CohortAnswer(models.Model):
    """One backend's part of a query: waiting, leased by its agent, answered or refused."""

    query = models.ForeignKey(CohortQuery, on_delete=models.PROTECT, related_name="answers")
    backend = models.ForeignKey(
        "coordinator.Backend", on_delete=models.PROTECT, related_name="cohort_answers"
    )
    state = models.CharField(max_length=10, default="pending")  # pending|answered|refused
    leased_at = models.DateTimeField(null=True, blank=True)
    safe_count = models.BigIntegerField(null=True, blank=True)
    rule = models.CharField(max_length=200, blank=True, default="")
    refused = models.CharField(max_length=64, blank=True, default="")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["query", "backend"], name="one_answer_per_backend")
        ]
